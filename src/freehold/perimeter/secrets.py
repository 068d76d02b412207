"""Credentials with a recognisable shape: cloud keys, service tokens, private keys, JWTs and
passwords written into URLs.

Each rule is ``(kind, pattern)``; when a pattern has a group named ``v`` only that group is
reported (``AccountKey=<v>``, ``://user:<v>@``), otherwise the whole match. All patterns are
compiled once; a rule whose literal anchor (``AKIA``, ``ghp_``, ``-----BEGIN``, …) is absent
from the text is skipped without running its regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from freehold.perimeter.base import Finding, span


@dataclass(frozen=True, slots=True)
class SecretRule:
    kind: str
    anchors: tuple[str, ...]
    """At least one must occur in the text for the pattern to run ("" = always run)."""
    pattern: re.Pattern[str]


def _rule(kind: str, anchors: tuple[str, ...], pattern: str, flags: int = 0) -> SecretRule:
    return SecretRule(kind, anchors, re.compile(pattern, flags))


_B = r"(?<![A-Za-z0-9_-])"
_E = r"(?![A-Za-z0-9_-])"

RULES: tuple[SecretRule, ...] = (
    _rule(
        "private_key",
        ("-----BEGIN",),
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.{0,8192}?-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
        r"|[A-Za-z0-9+/=\s\\n]*)",
        re.DOTALL,
    ),
    _rule("aws_access_key_id", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
          rf"{_B}(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{{16}}{_E}"),
    _rule(
        "aws_secret_access_key",
        ("aws", "AWS", "Aws"),
        r"(?i:aws)[\w.-]{0,24}(?i:secret)[\w.-]{0,24}[\"']?\s*[:=]{1,2}>?\s*[\"']?"
        r"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
    ),
    _rule(
        "gcp_service_account",
        ("private_key_id",),
        r"\"private_key_id\"\s*:\s*\"(?P<v>[0-9a-f]{40})\"",
    ),
    _rule("gcp_api_key", ("AIza",), rf"{_B}AIza[0-9A-Za-z_-]{{35}}{_E}"),
    _rule(
        "azure_connection_string",
        ("AccountKey=", "SharedAccessKey=", "SharedAccessSignature="),
        r"(?:AccountKey|SharedAccessKey)=(?P<v>[A-Za-z0-9+/]{20,}={0,2})"
        r"|SharedAccessSignature=(?P<sig>sv=[^\s;\"']{20,})",
    ),
    _rule("github_token", ("gh", "github_pat_"),
          rf"{_B}(?:gh[pousr]_[A-Za-z0-9]{{36,255}}|github_pat_[A-Za-z0-9_]{{60,255}}){_E}"),
    _rule("gitlab_token", ("glpat-", "glptt-", "gldt-"),
          rf"{_B}(?:glpat|glptt|gldt)-[A-Za-z0-9_-]{{20,}}{_E}"),
    _rule("slack_token", ("xox",), rf"{_B}xox[abposr]-[A-Za-z0-9-]{{10,250}}{_E}"),
    _rule("slack_webhook", ("hooks.slack.com",),
          r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]{20,}"),
    _rule("stripe_key", ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
          rf"{_B}[sr]k_(?:live|test)_[A-Za-z0-9]{{16,247}}{_E}"),
    _rule("openai_key", ("sk-",),
          rf"{_B}sk-(?:(?:proj|svcacct|admin|ant-api\d\d)-)?[A-Za-z0-9_-]{{20,200}}{_E}"),
    _rule("jwt", ("eyJ",),
          rf"{_B}eyJ[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]*{_E}"),
    _rule(
        "url_password",
        ("://",),
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/?#@\"'<>]{1,128}:(?P<v>[^\s/?#@\"'<>]{1,128})@"
        r"[A-Za-z0-9.\[\]-]",
    ),
)  # fmt: skip

_PLACEHOLDER_PASSWORDS = {"password", "pass", "passwd", "pwd", "secret", "xxx", "***", "****"}


class SecretDetector:
    """Every rule in :data:`RULES` (or the ones given)."""

    def __init__(self, rules: tuple[SecretRule, ...] = RULES) -> None:
        self.rules = rules

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for rule in self.rules:
            if not any(anchor in text for anchor in rule.anchors):
                continue
            for m in rule.pattern.finditer(text):
                group = next((g for g in ("v", "sig") if g in m.re.groupindex and m[g]), None)
                start, end = m.span(group or 0)
                if rule.kind == "url_password" and _is_placeholder(text[start:end]):
                    continue
                found.append(span(rule.kind, "secret", text, start, end))
        return found


def _is_placeholder(password: str) -> bool:
    lowered = password.lower()
    return (
        lowered in _PLACEHOLDER_PASSWORDS
        or lowered.startswith(("${", "{{", "<", "%("))
        or set(lowered) <= {"*", "x", "."}
    )
