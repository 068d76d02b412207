"""Credential rules as data, in gitleaks' TOML format, compiled for Python.

freehold's credential detector runs a rule set rather than a hand list: gitleaks' default
configuration (``rules/gitleaks.toml``, MIT, vendored verbatim; see ``rules/SOURCE.toml``
for the release and digest) plus freehold's own rules in the same format
(``rules/freehold.toml``: what gitleaks lacks, such as Docker Hub tokens, passwords in URLs
and ``password:`` settings), plus any files an operator names in ``perimeter.secret_rules``
(a newer gitleaks release, or the organisation's own token shapes). A later file's rule
replaces an earlier one with the same ``id``.

What is read of a rule, with gitleaks' meaning:

* ``regex``, with ``secretGroup`` (else the first non-empty group, else the whole match)
  naming the part reported and redacted;
* ``keywords``: the rule runs only when one of them occurs in the lower-cased text;
* ``entropy``: the secret's Shannon entropy must exceed it;
* ``[[rules.allowlists]]``, the top-level ``[allowlist]`` and ``[[allowlists]]`` (for the
  rules in ``targetRules``, or all): ``regexes`` tested against the secret, the match or the
  line (``regexTarget``), and ``stopwords`` contained in the secret; ``condition = "AND"``
  needs all of them.

Rules that only apply to files of a given path (``path``) and composite rules
(``[[rules.required]]``) have no meaning for a prompt and are skipped; :attr:`RuleSet.skipped`
says which and why.

Patterns are rewritten for Python's ``re`` by :mod:`freehold.perimeter.go_regex`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from freehold.perimeter.go_regex import python_pattern, repeats_a_group

#: The rule files that ship with freehold, in load order.
BUNDLED = ("gitleaks.toml", "freehold.toml")

#: freehold's finding kinds from before the rule set, kept for the gitleaks rules that
#: cover them (configs use kinds as policy keys); every other kind is the rule's id with
#: ``-`` written ``_``.
KIND_ALIASES: dict[str, str] = {
    "aws-access-token": "aws_access_key_id",
    "gcp-api-key": "gcp_api_key",
    "github-pat": "github_token",
    "github-oauth": "github_token",
    "github-app-token": "github_token",
    "github-refresh-token": "github_token",
    "github-fine-grained-pat": "github_token",
    "gitlab-pat": "gitlab_token",
    "gitlab-ptt": "gitlab_token",
    "gitlab-deploy-token": "gitlab_token",
    "slack-bot-token": "slack_token",
    "slack-user-token": "slack_token",
    "slack-app-token": "slack_token",
    "slack-legacy-token": "slack_token",
    "slack-legacy-bot-token": "slack_token",
    "slack-legacy-workspace-token": "slack_token",
    "slack-config-access-token": "slack_token",
    "slack-config-refresh-token": "slack_token",
    "slack-webhook-url": "slack_webhook",
    "stripe-access-token": "stripe_key",
    "openai-api-key": "openai_key",
    "private-key": "private_key",
    "jwt": "jwt",
    "openai-style-key": "openai_key",  # freehold.toml
    "private-key-block": "private_key",  # freehold.toml
    "password-assignment": "password",  # freehold.toml
    "password-setting": "password",  # freehold.toml
    "password-setting-escaped": "password",  # freehold.toml
    "password-in-prose": "password",  # freehold.toml
    "password-xml": "password",  # freehold.toml
    "password-answer": "password",  # freehold.toml
}

_UNSAFE_KIND = re.compile(r"[^a-z0-9_]+")


class RuleFileError(ValueError):
    """A rule file that cannot be read, parsed or compiled; the message names the file and
    the rule."""


@dataclass(frozen=True, slots=True)
class Allowlist:
    """When a candidate secret is not one (gitleaks' allowlist, without paths/commits)."""

    target: Literal["secret", "match", "line"] = "secret"
    regexes: tuple[re.Pattern[str], ...] = ()
    stopwords: tuple[str, ...] = ()
    all_of: bool = False

    def allows(self, secret: str, match: str, line: str) -> bool:
        target = {"secret": secret, "match": match, "line": line}[self.target]
        checks: list[bool] = []
        if self.regexes:
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            lowered = secret.lower()
            checks.append(any(word in lowered for word in self.stopwords))
        return all(checks) if self.all_of else any(checks)


@dataclass(frozen=True, slots=True)
class CredentialRule:
    """One compiled rule."""

    id: str
    kind: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...] = ()
    entropy: float = 0.0
    secret_group: int = 0
    allowlists: tuple[Allowlist, ...] = ()
    origin: str = ""
    whole_match: bool = False
    """Report the whole match rather than the first group: a group of the pattern repeats
    (``([a-z0-9]{4}-){3}`` in a webhook URL), so groups are its structure, not the secret.
    (gitleaks would report the repeated piece; redacting too much is safe, too little is
    not.)"""


@dataclass(frozen=True)
class RuleSet:
    """Rules in load order, the global allowlists (for every rule, or by rule id for those
    with ``targetRules``), and what was skipped (id → reason)."""

    rules: tuple[CredentialRule, ...]
    allowlists: tuple[Allowlist, ...] = ()
    targeted: Mapping[str, tuple[Allowlist, ...]] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    origins: tuple[str, ...] = ()

    def merged(self, other: RuleSet) -> RuleSet:
        """This set with ``other``'s rules added; ``other`` wins on a shared id."""
        replaced = {rule.id for rule in other.rules}
        targeted = dict(self.targeted)
        for rule_id, lists in other.targeted.items():
            targeted[rule_id] = targeted.get(rule_id, ()) + lists
        return RuleSet(
            tuple(r for r in self.rules if r.id not in replaced) + other.rules,
            self.allowlists + other.allowlists,
            targeted,
            {**self.skipped, **other.skipped},
            self.origins + other.origins,
        )

    def allowlists_for(self, rule: CredentialRule) -> tuple[Allowlist, ...]:
        """Every allowlist that applies to ``rule``."""
        return (*self.allowlists, *self.targeted.get(rule.id, ()), *rule.allowlists)


def kind_of(rule_id: str) -> str:
    """The finding kind of a rule (:data:`KIND_ALIASES`, else the id in snake case)."""
    alias = KIND_ALIASES.get(rule_id)
    return alias or _UNSAFE_KIND.sub("_", rule_id.lower()).strip("_") or "secret"


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(python_pattern(pattern))
    except (re.error, OverflowError) as exc:
        raise RuleFileError(f"{where}: the regex does not compile: {exc}") from None


def _allowlist(raw: Mapping[str, Any], where: str) -> Allowlist | None:
    target = raw.get("regexTarget", "secret")
    if target not in ("secret", "match", "line"):
        raise RuleFileError(f"{where}: regexTarget must be secret, match or line")
    regexes = tuple(_compile(r, where) for r in raw.get("regexes", ()))
    stopwords = tuple(str(w).lower() for w in raw.get("stopwords", ()))
    if not regexes and not stopwords:
        return None  # only paths or commits: nothing to test in a prompt
    all_of = str(raw.get("condition", "OR")).upper() == "AND"
    if all_of and (raw.get("paths") or raw.get("commits")):
        return None  # an AND with a path can never hold for a prompt
    return Allowlist(target, regexes, stopwords, all_of)


def _allowlists(raw: Iterable[Mapping[str, Any]], where: str) -> tuple[Allowlist, ...]:
    built = (_allowlist(entry, f"{where} allowlist {n}") for n, entry in enumerate(raw))
    return tuple(a for a in built if a is not None)


def _rule(raw: Mapping[str, Any], origin: str) -> CredentialRule | str:
    """A compiled rule, or why it is skipped."""
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise RuleFileError(f"{origin}: a rule without an id")
    where = f"{origin}: rule {rule_id!r}"
    if raw.get("required"):
        return "composite rule ([[rules.required]]): not supported"
    if "path" in raw:
        return "applies to files by path, not to prompts"
    if "regex" not in raw:
        return "no regex"
    lists = [raw["allowlist"]] if "allowlist" in raw else list(raw.get("allowlists", ()))
    try:
        return CredentialRule(
            id=rule_id,
            kind=kind_of(rule_id),
            pattern=_compile(str(raw["regex"]), where),
            keywords=tuple(str(k).lower() for k in raw.get("keywords", ())),
            entropy=float(raw.get("entropy", 0.0)),
            secret_group=int(raw.get("secretGroup", 0)),
            allowlists=_allowlists(lists, where),
            origin=origin,
            whole_match=repeats_a_group(str(raw["regex"])),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RuleFileError):
            raise
        raise RuleFileError(f"{where}: {exc}") from None


def parse_rules(text: str, origin: str) -> RuleSet:
    """The rules of one gitleaks-format TOML document."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{origin}: not TOML: {exc}") from None
    rules: list[CredentialRule] = []
    skipped: dict[str, str] = {}
    raw_rules = document.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RuleFileError(f"{origin}: `rules` must be an array of tables ([[rules]])")
    for raw in raw_rules:
        if not isinstance(raw, Mapping):
            raise RuleFileError(f"{origin}: every [[rules]] entry must be a table")
        built = _rule(raw, origin)
        if isinstance(built, str):
            skipped[str(raw["id"])] = built
        else:
            rules.append(built)
    top = list(document.get("allowlists", []))
    if "allowlist" in document:
        top.insert(0, document["allowlist"])
    every = [entry for entry in top if not entry.get("targetRules")]
    targeted: dict[str, tuple[Allowlist, ...]] = {}
    for n, entry in enumerate(top):
        for rule_id in entry.get("targetRules") or ():
            found = _allowlists([entry], f"{origin}: allowlist {n} for {rule_id!r}")
            targeted[str(rule_id)] = targeted.get(str(rule_id), ()) + found
    return RuleSet(
        tuple(rules), _allowlists(every, f"{origin}: global"), targeted, skipped, (origin,)
    )


def load_rule_file(path: str | Path) -> RuleSet:
    """The rules of a gitleaks-format TOML file."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"{path}: cannot read the rule file: {exc}") from None
    return parse_rules(text, str(path))


def bundled_rules() -> RuleSet:
    """The rules that ship with freehold (:data:`BUNDLED`)."""
    folder = resources.files("freehold.perimeter") / "rules"
    rule_set = RuleSet(())
    for name in BUNDLED:
        text = (folder / name).read_text(encoding="utf-8")
        rule_set = rule_set.merged(parse_rules(text, name))
    return rule_set


def load_rules(extra_files: Iterable[str | Path] = ()) -> RuleSet:
    """The bundled rules, then each of ``extra_files`` in order."""
    rule_set = bundled_rules()
    for path in extra_files:
        rule_set = rule_set.merged(load_rule_file(path))
    return rule_set
