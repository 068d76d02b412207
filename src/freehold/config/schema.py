"""The settings schema. Unknown keys are errors, so a typo never passes silently."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from freehold.config.home import default_ledger_url, freehold_home
from freehold.core.money import Price
from freehold.core.nesting import MAX_ENCODABLE_DEPTH

_ENV_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
_LEDGER_URL = re.compile(r"^(sqlite:///.+|sqlite:///:memory:|postgres(ql)?://.+)$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve_secret(value: str | None, info: ValidationInfo) -> SecretStr | None:
    """``env:NAME`` reads the environment given in the validation context; else the literal."""
    if value is None:
        return None
    match = _ENV_REF.match(value)
    if match is None:
        return SecretStr(value)
    env: dict[str, str] = (info.context or {}).get("env", {})
    name = match.group(1)
    if name not in env:
        raise ValueError(f"environment variable {name} is not set")
    return SecretStr(env[name])


class ServerSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=4_000_000, ge=1024)
    api_keys: tuple[SecretStr, ...] = ()
    access_log: bool = False
    """One line per request on the console (method, path, status, model, latency, request id);
    failed requests are always logged."""
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """A client must send its request line and headers within this time, else 408 and close."""
    body_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    """A client must send its whole request body within this time, else 408 (and a row)."""
    max_json_depth: int = Field(default=64, ge=8, le=MAX_ENCODABLE_DEPTH)
    """Request bodies nested deeper than this are refused (400)."""
    allowed_hosts: tuple[str, ...] = ()
    """``Host`` names accepted besides loopback names when bound to loopback; when bound to
    any other address and this is set, only these. ``"*"`` turns the check off."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call from a browser (CORS); none by default."""

    @field_validator("api_keys", mode="before")
    @classmethod
    def _resolve_keys(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list):
            return value
        return tuple(resolve_secret(v, info) if isinstance(v, str) else v for v in value)


class PriceSettings(_Frozen):
    input_per_mtok: Decimal = Field(default=Decimal(0), ge=0)
    output_per_mtok: Decimal = Field(default=Decimal(0), ge=0)

    def to_price(self) -> Price:
        return Price(self.input_per_mtok, self.output_per_mtok)


class EnergySettings(_Frozen):
    """Price a local model by the energy its generation takes: watts × measured seconds."""

    watts: Decimal = Field(gt=0)
    usd_per_kwh: Decimal = Field(ge=0)


REMOTE_BACKENDS = ("openai", "anthropic")


class DeploymentSettings(_Frozen):
    """One place a remote model is served: its own URL and key, a share of the traffic, and
    optionally where it runs (overriding the model's ``locality``/``jurisdiction``)."""

    name: str | None = Field(default=None, min_length=1, pattern=r"^[^\s]+$")
    """Shown in ``x-freehold-deployment`` and the ledger (default: its position, ``0``, …)."""
    base_url: str = Field(pattern=r"^https?://[^\s]+$")
    api_key: SecretStr | None = None
    weight: float = Field(default=1.0, gt=0)
    region: str | None = None
    locality: Literal["local", "remote"] | None = None
    jurisdiction: str | None = None

    @field_validator("api_key", mode="before")
    @classmethod
    def _resolve_key(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_secret(value, info) if isinstance(value, str) else value


FallbackWhen = Literal["any", "context_length_exceeded", "content_policy"]


class FallbackSettings(_Frozen):
    """Another model that answers when this one fails: on any upstream failure, or only when
    the prompt is too long for it, or only when it refuses on content policy."""

    model: str = Field(min_length=1)
    on: FallbackWhen = "any"


class RetrySettings(_Frozen):
    """How often one request is tried on this model (on 429, 5xx, connect errors and
    timeouts; never on other 4xx), with exponential backoff and full jitter."""

    attempts: int = Field(default=1, ge=1, le=10)
    """Calls in all, the first included (1: no retry)."""
    backoff_s: float = Field(default=0.2, ge=0)
    max_backoff_s: float = Field(default=5.0, ge=0)


class BreakerSettings(_Frozen):
    """A circuit breaker per deployment: after ``failures`` consecutive failures no traffic
    for ``cooldown_s``, then one probe decides."""

    failures: int = Field(default=5, ge=1)
    cooldown_s: float = Field(default=30.0, gt=0)


class TimeoutSettings(_Frozen):
    """The deadlines of one attempt, in one block (the older ``timeout_s``,
    ``first_byte_timeout_s`` and ``connect_timeout_s`` keys are still accepted)."""

    connect_s: float | None = Field(default=None, gt=0)
    first_byte_s: float | None = Field(default=None, gt=0)
    total_s: float | None = Field(default=None, gt=0)
    read_s: float | None = Field(default=None, gt=0)


_TIMEOUT_KEYS = {
    "connect_s": "connect_timeout_s",
    "first_byte_s": "first_byte_timeout_s",
    "total_s": "timeout_s",
    "read_s": "read_timeout_s",
}


class ModelSettings(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[^\s]+$")
    backend: Literal["openai", "anthropic", "llamacpp"]
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    api_key: SecretStr | None = None
    upstream_model: str | None = None
    locality: Literal["local", "remote"] = "remote"
    jurisdiction: str | None = None
    price: PriceSettings = PriceSettings()
    timeout_s: float = Field(default=600.0, gt=0)
    """Total deadline of one attempt (whole answer or whole stream)."""
    first_byte_timeout_s: float = Field(default=60.0, gt=0)
    """Streams: the first chunk must arrive within this time."""
    read_timeout_s: float = Field(default=60.0, gt=0)
    """Streams: the longest silence between two reads."""
    connect_timeout_s: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    headers: dict[str, str] = Field(default_factory=dict)
    default_max_tokens: int = Field(default=4096, ge=1)
    # llamacpp: a GGUF file served in-process
    path: str | None = None
    threads: int | None = Field(default=None, ge=1)
    n_ctx: int = Field(default=4096, ge=256)  # llama.cpp allocates no less
    n_gpu_layers: int = Field(default=0, ge=-1)
    workers: int = Field(default=1, ge=1)
    max_queue: int = Field(default=16, ge=0)
    chat_format: str | None = None
    energy: EnergySettings | None = None
    # deterministic checks on this model's answers (freehold.validate)
    validators: tuple[dict[str, Any], ...] = ()
    on_fail: Literal["annotate", "error", "repair"] = "annotate"
    max_repairs: int = Field(default=1, ge=0, le=5)
    # reliability: where it is served, how failures are retried and cut off
    deployments: tuple[DeploymentSettings, ...] = ()
    balance: Literal["weighted", "least_busy", "latency"] = "weighted"
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings | None = None
    timeouts: TimeoutSettings | None = None
    fallbacks: tuple[FallbackSettings, ...] = ()
    """Tried in order when this model fails (after its retries); a bare name is ``on: any``."""
    degrade_to: str | None = None
    """The last resort when this model and its fallbacks have failed for a request (a local
    model, typically)."""

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _bare_fallbacks(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"model": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="before")
    @classmethod
    def _timeouts_block(cls, data: Any) -> Any:
        """``timeouts: {connect_s, first_byte_s, total_s, read_s}`` into the flat keys."""
        if not isinstance(data, dict) or not isinstance(data.get("timeouts"), dict):
            return data
        data = dict(data)
        for short, flat in _TIMEOUT_KEYS.items():
            value = data["timeouts"].get(short)
            if value is None:
                continue
            if flat in data and data[flat] != value:
                raise ValueError(f"timeouts.{short} and {flat} disagree: give one of them")
            data[flat] = value
        return data

    @model_validator(mode="after")
    def _backend_needs(self) -> ModelSettings:
        if self.deployments:
            if self.backend not in REMOTE_BACKENDS:
                raise ValueError(f"deployments: only remote backends have them, not {self.backend}")
            if self.base_url is not None:
                raise ValueError("base_url: give either base_url or deployments, not both")
            names = [d.name for d in self.deployments if d.name is not None]
            if len(set(names)) != len(names):
                raise ValueError("deployments: names must be unique")
        elif self.backend in REMOTE_BACKENDS and self.base_url is None:
            raise ValueError("base_url: required key is missing")
        if self.backend == "llamacpp" and self.path is None:
            raise ValueError("path: required for backend llamacpp (a .gguf file)")
        if self.backend == "llamacpp" and self.base_url is not None:
            raise ValueError("base_url: not used by backend llamacpp (use path)")
        for index, spec in enumerate(self.validators):
            if not isinstance(spec.get("type"), str):
                raise ValueError(f"validators[{index}].type: required key is missing")
        if self.energy is not None and self.backend != "llamacpp":
            raise ValueError("energy: only local llamacpp models are priced by energy")
        return self

    @field_validator("api_key", mode="before")
    @classmethod
    def _resolve_key(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_secret(value, info) if isinstance(value, str) else value

    @property
    def endpoint(self) -> str:
        """The base URL of a remote model (always set for a deployment's settings)."""
        if self.base_url is None:
            raise ValueError(f"model {self.name!r} has no base_url")
        return self.base_url

    def deployment_settings(self) -> list[tuple[str, ModelSettings]]:
        """``(name, settings)`` of each deployment: this model's settings with the
        deployment's URL, key and place; one (named ``0``) for a model without
        ``deployments``."""
        if not self.deployments:
            return [("0", self)]
        out = []
        for index, deployment in enumerate(self.deployments):
            update: dict[str, Any] = {"base_url": deployment.base_url, "deployments": ()}
            if deployment.api_key is not None:
                update["api_key"] = deployment.api_key
            if deployment.locality is not None:
                update["locality"] = deployment.locality
            if deployment.jurisdiction is not None:
                update["jurisdiction"] = deployment.jurisdiction
            out.append((deployment.name or str(index), self.model_copy(update=update)))
        return out

    @property
    def wire_model(self) -> str:
        """The model name sent upstream."""
        return self.upstream_model or self.name


class RuleSettings(_Frozen):
    """``when`` every condition holds, ``use`` that candidate. Conditions: prompt size in
    estimated tokens, tools or JSON mode present, metadata tags."""

    use: str
    when: RuleConditions = Field(default_factory=lambda: RuleConditions())


class RuleConditions(_Frozen):
    prompt_tokens_over: int | None = Field(default=None, ge=0)
    prompt_tokens_under: int | None = Field(default=None, ge=1)
    has_tools: bool | None = None
    json_mode: bool | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


PerimeterPolicy = Literal["allow", "redact", "local_only", "block"]
#: Policy keys besides finding kinds: the detector categories and the sensitivity labels.
POLICY_CATEGORIES = ("pii", "secrets", "custom")
SENSITIVITY_LABELS = ("public", "internal", "confidential", "secret")
DEFAULT_PERIMETER_POLICY: dict[str, PerimeterPolicy] = {
    "pii": "redact",
    "secrets": "block",
    "custom": "local_only",
    "confidential": "local_only",
    "secret": "block",
}
_POLICY_KEY = re.compile(r"^[a-z][a-z0-9_:.-]*$")


class PerimeterOverride(_Frozen):
    """A route's own perimeter policy: its keys replace the top level's."""

    policy: dict[str, PerimeterPolicy] = Field(default_factory=dict)
    allowed_jurisdictions: tuple[str, ...] | None = None

    @field_validator("policy")
    @classmethod
    def _policy_keys(cls, value: dict[str, PerimeterPolicy]) -> dict[str, PerimeterPolicy]:
        for key in value:
            if not _POLICY_KEY.match(key):
                raise ValueError(
                    f"{key!r}: a policy key is a category ({', '.join(POLICY_CATEGORIES)}), a "
                    f"sensitivity label ({', '.join(SENSITIVITY_LABELS)}) or a finding kind"
                )
        return value


class PerimeterSettings(PerimeterOverride):
    """The data perimeter: detectors run on every request before routing, and the strictest
    policy of its findings and sensitivity label applies (block > local_only > redact >
    allow). Policy keys: ``pii``, ``secrets``, ``custom``, a finding kind (``email``,
    ``aws_access_key_id``, …) which overrides its category, and the labels ``public``,
    ``internal``, ``confidential``, ``secret``; unnamed keys take
    :data:`DEFAULT_PERIMETER_POLICY`, anything else is allowed."""

    detectors: tuple[Literal["pii", "phones", "secrets", "entropy", "names"], ...] = (
        "pii",
        "phones",
        "secrets",
        "entropy",
    )
    """``names`` (person names, organisations, postal addresses) is opt-in: it needs the
    ``ner`` extra and a spaCy pipeline (``names_model``)."""
    names_model: str = Field(default="en_core_web_sm", min_length=1)
    secret_rules: tuple[str, ...] = ()
    """gitleaks-format TOML rule files loaded after the bundled rules (same id replaces)."""
    entropy_threshold: float = Field(default=4.0, gt=0, le=8)
    phone_regions: tuple[str, ...] = ("US",)
    custom_terms: tuple[str, ...] = ()
    custom_terms_file: str | None = None
    custom_patterns: tuple[str, ...] = ()

    @field_validator("custom_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"[{index}] {pattern!r} is not a regular expression: {exc}"
                ) from None
        return value

    def policy_for(self, route: PerimeterOverride | None = None) -> dict[str, PerimeterPolicy]:
        """The policy map in force: defaults, then the top level's keys, then the route's."""
        merged = {**DEFAULT_PERIMETER_POLICY, **self.policy}
        if route is not None:
            merged.update(route.policy)
        return merged

    def jurisdictions_for(self, route: PerimeterOverride | None = None) -> tuple[str, ...]:
        if route is not None and route.allowed_jurisdictions is not None:
            return route.allowed_jurisdictions
        return self.allowed_jurisdictions or ()


class RouteSettings(_Frozen):
    """A virtual model name that sends each request to one of its candidates."""

    name: str = Field(min_length=1, pattern=r"^[^\s]+$")
    policy: Literal["rules", "cascade", "predictive"]
    candidates: tuple[str, ...] = Field(min_length=1)
    target: float = Field(default=0.5, ge=0, le=1)
    router: str | None = None
    rules: tuple[RuleSettings, ...] = ()
    validators: tuple[dict[str, Any], ...] = ()
    max_repairs: int = Field(default=0, ge=0, le=5)
    perimeter: PerimeterOverride | None = None

    @model_validator(mode="after")
    def _policy_needs(self) -> RouteSettings:
        if self.policy == "rules" and not self.rules:
            raise ValueError("rules: a rules route needs at least one rule")
        if self.policy == "predictive" and self.router is None:
            raise ValueError("router: a predictive route needs a trained router file")
        if self.policy == "cascade" and len(self.candidates) < 2:
            raise ValueError("candidates: a cascade needs at least two candidates")
        if self.policy == "cascade" and not self.validators and self.router is None:
            raise ValueError(
                "validators: a cascade escalates when its checks fail: give it validators "
                "(or a trained router)"
            )
        for index, rule in enumerate(self.rules):
            if rule.use not in self.candidates:
                raise ValueError(f"rules[{index}].use: {rule.use!r} is not one of the candidates")
        return self


class AuthSettings(_Frozen):
    """Virtual keys: with a ``master_key`` every request needs a key made by ``freehold keys
    create`` (or ``POST /admin/keys``), and the master key opens the admin API."""

    master_key: SecretStr | None = None

    @field_validator("master_key", mode="before")
    @classmethod
    def _resolve_master(cls, value: Any, info: ValidationInfo) -> Any:
        return resolve_secret(value, info) if isinstance(value, str) else value

    @field_validator("master_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value


class TagBudget(_Frozen):
    """A budget shared by every key carrying a tag (``team=search``)."""

    budget_usd: Decimal | None = Field(default=None, ge=0)
    soft_budget_usd: Decimal | None = Field(default=None, ge=0)
    budget_tokens: int | None = Field(default=None, ge=0)
    soft_budget_tokens: int | None = Field(default=None, ge=0)
    period: Literal["day", "month", "total"] = "month"


_BUDGET_STORE = re.compile(r"^(sqlite|sqlite:///.+|rediss?://.+)$")
_TAG = re.compile(r"^[A-Za-z0-9_.-]+=[^\s=][^\s]*$")


class BudgetSettings(_Frozen):
    """Where keys and budget counters live: ``sqlite`` (a ``budgets.db`` beside a SQLite
    ledger, else in ``$FREEHOLD_HOME``), ``sqlite:///PATH``, or ``redis://HOST:PORT/DB``
    (shared by replicas; ``?prefix=NAME:`` namespaces the keys)."""

    store: str = "sqlite"
    tags: dict[str, TagBudget] = Field(default_factory=dict)
    hold_s: float = Field(default=900.0, gt=0)
    """How long a request's hold lasts if its replica dies before settling it."""

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        if not _BUDGET_STORE.match(value):
            raise ValueError("must be sqlite, sqlite:///PATH or redis://HOST:PORT/DB")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, value: dict[str, TagBudget]) -> dict[str, TagBudget]:
        for tag in value:
            if not _TAG.match(tag):
                raise ValueError(f"{tag!r}: a tag is NAME=VALUE, e.g. team=search")
        return value


class TrainingSettings(_Frozen):
    """What the ledger keeps for training routers from served traffic. Off by default:
    ``keep_text`` stores each answered request's prompt (last user message) and the cheapest
    candidate's answer beside its row."""

    keep_text: bool = False


class JournalSettings(_Frozen):
    """The ledger's local journal: each row is appended to a file (one ``write``) before the
    response's last byte leaves, and replayed into the ledger on start after a crash."""

    enabled: bool = True
    fsync: bool = False
    """Also ``fdatasync`` each append: survives power loss, not only a killed process. The
    flush runs on the request path (about 0.3 ms a request on an SSD-backed VM), so it bounds
    one gateway process's throughput by the disk's flush rate: for low-volume deployments."""
    dir: str | None = None
    """Where the journal lives (default: beside a SQLite ledger, else ``$FREEHOLD_HOME``)."""


class Settings(_Frozen):
    server: ServerSettings = ServerSettings()
    journal: JournalSettings = JournalSettings()
    training: TrainingSettings = TrainingSettings()
    auth: AuthSettings = AuthSettings()
    budgets: BudgetSettings = BudgetSettings()
    perimeter: PerimeterSettings | None = None
    ledger: str = Field(default_factory=default_ledger_url)
    models: tuple[ModelSettings, ...] = ()
    routes: tuple[RouteSettings, ...] = ()

    @field_validator("ledger")
    @classmethod
    def _ledger_url(cls, value: str) -> str:
        if not _LEDGER_URL.match(value):
            raise ValueError("must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        return value

    @model_validator(mode="after")
    def _one_kind_of_key(self) -> Settings:
        if self.auth.master_key is not None and self.server.api_keys:
            raise ValueError(
                "server.api_keys: cannot be combined with auth.master_key (virtual keys "
                "replace the static list; create them with `freehold keys create`)"
            )
        return self

    def budget_store(self) -> str:
        """The budget store's URL (``budgets.store`` with ``sqlite`` resolved to a file)."""
        store = self.budgets.store
        if store != "sqlite":
            return store
        if self.ledger == "sqlite:///:memory:":
            return store + ":///:memory:"
        if self.ledger.startswith("sqlite:///"):
            ledger = Path(self.ledger.removeprefix("sqlite:///")).expanduser()
            return f"sqlite:///{ledger.parent / 'budgets.db'}"
        return f"sqlite:///{freehold_home() / 'budgets.db'}"

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        seen: dict[str, int] = {}
        for index, model in enumerate(self.models):
            if model.name in seen:
                raise ValueError(
                    f"models[{index}].name: duplicate model name {model.name!r} "
                    f"(also models[{seen[model.name]}])"
                )
            seen[model.name] = index
        for index, model in enumerate(self.models):
            targets = [(f"fallbacks[{n}]", f.model) for n, f in enumerate(model.fallbacks)]
            if model.degrade_to is not None:
                targets.append(("degrade_to", model.degrade_to))
            for key, target in targets:
                if target not in seen:
                    raise ValueError(f"models[{index}].{key}: no model named {target!r}")
                if target == model.name:
                    raise ValueError(f"models[{index}].{key}: a model cannot fall back to itself")
        for index, route in enumerate(self.routes):
            if route.name in seen:
                raise ValueError(f"routes[{index}].name: {route.name!r} is already a model name")
            for position, candidate in enumerate(route.candidates):
                if candidate not in seen:
                    raise ValueError(
                        f"routes[{index}].candidates[{position}]: no model named {candidate!r}"
                    )
        return self

    def route(self, name: str) -> RouteSettings | None:
        return next((r for r in self.routes if r.name == name), None)

    def model(self, name: str) -> ModelSettings | None:
        return next((m for m in self.models if m.name == name), None)
