"""``freehold keys``: create, list, show, update and revoke virtual API keys.

The commands work on the budget store itself (``budgets.store``, the store a running
``freehold serve`` reads on every request), so a change holds at once on every replica. A
key's secret is printed by ``create`` only: the store keeps its salted hash. Bad input (an
unknown model, a malformed tag, a negative budget, an unknown id) is one line on stderr and
exit 2; a store that cannot be opened, exit 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import click

from freehold.auth import admin
from freehold.auth.base import AuthStore
from freehold.auth.factory import open_auth_store
from freehold.auth.keys import PERIODS, KeyRecord
from freehold.auth.report import budget_report
from freehold.cli.common import config_option, echo_json, echo_table, json_option, load_config
from freehold.config import Settings
from freehold.core.errors import FreeholdError
from freehold.core.importer import MissingExtra
from freehold.ledger import describe

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_SQLITE = "sqlite:///"
#: What ``update --clear`` may remove (``period`` always has a value: set it instead).
CLEARABLE = (*(f for f in admin.LIMIT_FIELDS if f != "period"), "models", "tags")


class InputError(click.ClickException):
    """Input the command refuses: ``Error: MESSAGE`` on stderr, exit 2."""

    exit_code = 2


class StoreError(click.ClickException):
    """The budget store cannot be opened or answered: exit 1."""

    exit_code = 1


def settings_for(config_path: str | None) -> Settings:
    """The settings, with a note on stderr when keys are not enforced yet."""
    settings = load_config(config_path)
    if settings.auth.master_key is None:
        click.echo(
            "note: keys are not enforced until auth.master_key is set in the config",
            err=True,
        )
    return settings


def known_models(settings: Settings) -> set[str]:
    """The names a key may be limited to: configured models and routes."""
    return {m.name for m in settings.models} | {r.name for r in settings.routes}


def _missing_sqlite(url: str) -> Path | None:
    """The SQLite file ``url`` names, when it does not exist yet."""
    if not url.startswith(_SQLITE) or url == _SQLITE + ":memory:":
        return None
    path = Path(url.removeprefix(_SQLITE)).expanduser()
    return None if path.exists() else path


def with_store(
    settings: Settings, action: Callable[[AuthStore], Awaitable[T]], *, create: bool = False
) -> T:
    """Run ``action`` on the migrated budget store, then close it.

    Unless ``create``, a SQLite store that does not exist yet is not created: the action
    sees an empty store (and a note on stderr says so)."""
    url = settings.budget_store()
    if url == _SQLITE + ":memory:":
        raise InputError(
            "the budget store is in memory (it lives and dies with one `freehold serve`): set "
            "budgets.store to sqlite:///PATH or redis://HOST, or use the admin API"
        )
    if not create and (missing := _missing_sqlite(url)) is not None:
        click.echo(f"no budget store at {missing} yet (`freehold keys create` makes it)", err=True)
        url = _SQLITE + ":memory:"

    async def run() -> T:
        store = open_auth_store(url)
        try:
            await store.migrate()
            return await action(store)
        finally:
            await store.aclose()

    try:
        return asyncio.run(run())
    except FreeholdError as exc:
        raise InputError(exc.message) from None
    except MissingExtra as exc:
        raise StoreError(exc.needs(f"the budget store {describe(url)}")) from None
    except Exception as exc:  # a store failure is a message, never a traceback
        detail = str(exc) or type(exc).__name__
        raise StoreError(f"the budget store {describe(url)} failed: {detail}") from None


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- options -------------------------------------------------------------------------------


def _usd(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise click.BadParameter(f"{value!r} is not an amount in USD (e.g. 25 or 0.50)")
    return amount


def _models(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(dict.fromkeys(m.strip() for m in value.split(",") if m.strip()))


def limit_options(func: F) -> F:
    """The limit options shared by ``create`` and ``update``."""
    options = [
        click.option("--budget-usd", callback=_usd, metavar="USD",
                     help="Hard budget per period in USD: requests that could exceed it get 429."),
        click.option("--soft-budget-usd", callback=_usd, metavar="USD",
                     help="Soft budget in USD: past it, answers carry x-freehold-budget-warning "
                          "(default: 80% of the hard budget)."),
        click.option("--budget-tokens", type=int, metavar="N",
                     help="Hard budget per period in tokens."),
        click.option("--soft-budget-tokens", type=int, metavar="N",
                     help="Soft budget in tokens (default: 80% of the hard one)."),
        click.option("--period", type=click.Choice(PERIODS), default=None,
                     help="What budgets are per: day, month (UTC calendar) or total. "
                          "[create default: month]"),
        click.option("--rpm", type=int, metavar="N", help="Requests per minute."),
        click.option("--tpm", type=int, metavar="N", help="Prompt tokens per minute."),
        click.option("--models", callback=_models, metavar="A,B",
                     help="Comma-separated models and routes the key may use (default: all)."),
        click.option("--tag", "tags", multiple=True, metavar="NAME=VALUE",
                     help="A tag (e.g. team=search; repeat for several): the key's spend also "
                          "counts against the tag's budget (budgets.tags)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def limit_changes(params: Mapping[str, Any]) -> dict[str, Any]:
    """The limit options that were given, as ``auth.admin`` names them."""
    return {name: params[name] for name in admin.LIMIT_FIELDS if params.get(name) is not None}


# -- output --------------------------------------------------------------------------------


def money(text: str | None) -> str:
    """``10.000000000`` → ``$10.00``; ``0.000045000`` → ``$0.000045``; None → ``-``."""
    if text is None:
        return "-"
    amount = Decimal(text).normalize()
    if amount.as_tuple().exponent >= -2:  # type: ignore[operator]
        amount = amount.quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,f}"


def _budget(
    usd: str | None, soft_usd: str | None, tokens: int | None, soft_tokens: int | None
) -> str:
    parts = []
    if usd is not None or soft_usd is not None:
        text = money(usd) if usd is not None else "no hard limit"
        parts.append(text + (f" (soft {money(soft_usd)})" if soft_usd is not None else ""))
    if tokens is not None or soft_tokens is not None:
        text = f"{tokens:,} tokens" if tokens is not None else "no hard token limit"
        parts.append(text + (f" (soft {soft_tokens:,})" if soft_tokens is not None else ""))
    return ", ".join(parts) or "-"


def _rate(rpm: int | None, tpm: int | None) -> str:
    return f"{'-' if rpm is None else f'{rpm:,}'}/{'-' if tpm is None else f'{tpm:,}'}"


def _list_row(data: Mapping[str, Any]) -> list[str]:
    return [
        data["id"],
        data["name"],
        data["period"],
        _budget(data["budget_usd"], data["soft_budget_usd"], data["budget_tokens"],
                data["soft_budget_tokens"]),
        _rate(data["rpm"], data["tpm"]),
        ",".join(data["models"]) or "all",
        ",".join(data["tags"]) or "-",
        data["revoked"][:19] if data["revoked"] else "-",
    ]  # fmt: skip


def echo_key(data: Mapping[str, Any]) -> None:
    """A key's public fields (and its usage, when given) as ``field  value`` lines."""
    rows = [
        ("id", data["id"]),
        ("name", data["name"]),
        ("created", data["created"]),
        ("revoked", data["revoked"] or "-"),
        ("period", data["period"]),
        ("budget", _budget(data["budget_usd"], data["soft_budget_usd"], data["budget_tokens"],
                           data["soft_budget_tokens"])),
        ("rpm/tpm", _rate(data["rpm"], data["tpm"])),
        ("models", ", ".join(data["models"]) or "all"),
        ("tags", ", ".join(data["tags"]) or "-"),
    ]  # fmt: skip
    usage = data.get("usage")
    if usage is not None:
        rows += [
            ("this period", usage["period_label"]),
            ("spend", f"{money(usage['spend_usd'])} (held by requests in flight: "
                      f"{money(usage['held_usd'])})"),
            ("tokens", f"{usage['tokens']:,}"),
            ("requests", f"{usage['requests']:,}"),
            ("cost per Mtok", money(str(usage["cost_per_mtok_usd"]))
             if usage["cost_per_mtok_usd"] is not None else "-"),
            ("remaining", _budget(usage["remaining_usd"], None, usage["remaining_tokens"], None)),
            ("exhausts", usage["exhausts"] or "-"),
        ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name.ljust(width)}  {value}")


# -- commands ------------------------------------------------------------------------------


@click.group("keys", short_help="Create, list, show, update and revoke virtual API keys.")
def keys() -> None:
    """Virtual API keys, with budgets, rate limits and allowed models.

    The commands work on the budget store (budgets.store) directly; a running gateway sees
    each change on its next request. Keys are enforced once auth.master_key is set."""


@keys.command("create", short_help="Create a key and print its secret (shown only once).")
@click.option("--name", required=True, help="Who or what the key is for.")
@limit_options
@config_option
@json_option
def create(name: str, config_path: str | None, as_json: bool, **params: Any) -> None:
    """Create a key and print its secret: the only time it is shown (freehold keeps only a
    salted hash of it)."""
    settings = settings_for(config_path)
    known = known_models(settings)

    async def action(store: AuthStore) -> tuple[KeyRecord, str]:
        return await admin.create_key(
            store,
            name,
            utc_now(),
            limit_changes(params),
            params["models"] or (),
            tuple(params["tags"]),
            known,
        )

    key, secret = with_store(settings, action, create=True)
    if as_json:
        echo_json({**key.public(), "key": secret})
        return
    echo_key(key.public())
    click.echo("")
    click.echo(f"key  {secret}")
    click.echo("")
    click.echo("Store this key now: it is not shown again (freehold keeps only its salted hash).")


@keys.command("list")
@config_option
@json_option
def list_keys(config_path: str | None, as_json: bool) -> None:
    """List every key, revoked ones included, oldest first (never their secrets)."""
    settings = settings_for(config_path)

    async def action(store: AuthStore) -> list[KeyRecord]:
        return await store.keys()

    found = [k.public() for k in with_store(settings, action)]
    if as_json:
        echo_json({"object": "list", "data": found})
        return
    if not found:
        click.echo("No keys yet (create one with `freehold keys create --name NAME`).")
        return
    headers = ["ID", "NAME", "PERIOD", "BUDGET", "RPM/TPM", "MODELS", "TAGS", "REVOKED"]
    echo_table(headers, [_list_row(k) for k in found])


@keys.command("show")
@click.argument("key_id", metavar="ID")
@config_option
@json_option
def show(key_id: str, config_path: str | None, as_json: bool) -> None:
    """One key's settings and its usage in the current period."""
    settings = settings_for(config_path)

    async def action(store: AuthStore) -> dict[str, Any]:
        key = await admin.find_key(store, key_id)
        lines = await budget_report(store, settings.budgets, utc_now())
        usage = next((line.to_dict() for line in lines if line.kind == "key" and
                      line.name == key.id), None)  # fmt: skip
        return {**key.public(), "usage": usage}

    data = with_store(settings, action)
    if as_json:
        echo_json(data)
    else:
        echo_key(data)


@keys.command("update")
@click.argument("key_id", metavar="ID")
@click.option("--name", default=None, help="A new name.")
@limit_options
@click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(CLEARABLE),
    help="Remove a limit (or the model list, or the tags); repeat for several.",
)
@config_option
@json_option
def update(
    key_id: str,
    name: str | None,
    clear: tuple[str, ...],
    config_path: str | None,
    as_json: bool,
    **params: Any,
) -> None:
    """Change a key's name, limits, models or tags. --models and --tag replace the key's
    list; options not given are left as they are."""
    settings = settings_for(config_path)
    changes: dict[str, Any] = limit_changes(params)
    if name is not None:
        changes["name"] = name
    if params["models"] is not None:
        changes["models"] = params["models"]
    if params["tags"]:
        changes["tags"] = tuple(params["tags"])
    for field in clear:
        if field in changes:
            raise InputError(f"--clear {field} contradicts the new value given for it")
        changes[field] = () if field in ("models", "tags") else None
    if not changes:
        raise InputError("nothing to change: give a new value or --clear FIELD")
    if "name" in changes and not str(changes["name"]).strip():
        raise InputError("a key needs a name")
    known = known_models(settings)

    async def action(store: AuthStore) -> KeyRecord:
        return await admin.update_key(store, key_id, changes, known)

    data = with_store(settings, action).public()
    if as_json:
        echo_json(data)
    else:
        echo_key(data)


@keys.command("revoke")
@click.argument("key_id", metavar="ID")
@config_option
@json_option
def revoke(key_id: str, config_path: str | None, as_json: bool) -> None:
    """Revoke a key: every gateway refuses it (401) from its next request on."""
    settings = settings_for(config_path)

    async def action(store: AuthStore) -> KeyRecord:
        return await admin.revoke_key(store, key_id, utc_now())

    key = with_store(settings, action)
    if as_json:
        echo_json(key.public())
    else:
        assert key.revoked is not None
        click.echo(f"{key.id} ({key.name}) revoked at {key.revoked.isoformat()}")
