"""Credentials: every rule of a :class:`~freehold.perimeter.rule_set.RuleSet` over one text.

The rules are gitleaks' maintained set plus freehold's own (see :mod:`rule_set`). For each
rule whose keywords occur in the lower-cased text, every match is a candidate; its secret
(the rule's secret group) is reported unless its entropy is too low or an allowlist of the
rule or of the rule set lets it pass. Example::

    detector = SecretDetector()
    [f] = detector.find("HF_TOKEN=hf_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH")
    (f.kind, f.value[:3])  # ('huggingface_access_token', 'hf_')
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache
from typing import Any

from freehold.perimeter.base import Finding, span
from freehold.perimeter.entropy import shannon_entropy
from freehold.perimeter.rule_set import CredentialRule, RuleSet, load_rules


@cache
def default_rules() -> RuleSet:
    """The bundled rule set, compiled once per process."""
    return load_rules()


def _secret_span(rule: CredentialRule, match_groups: tuple[str | None, ...]) -> int:
    """The group that holds the secret: the rule's, else the first non-empty one, else the
    whole match (0); also the whole match when the pattern's groups are its structure."""
    if rule.secret_group:
        return rule.secret_group if rule.secret_group <= len(match_groups) else -1
    if rule.whole_match:
        return 0
    return next((n for n, g in enumerate(match_groups, 1) if g), 0)


def _keyword_automaton(keywords: Iterable[str]) -> Any:
    """One pass over the text finds every keyword (pyahocorasick, from the ``perimeter``
    extra: ten times faster than a substring search per keyword); None without it."""
    try:
        automaton: Any = importlib.import_module("ahocorasick").Automaton()
    except ImportError:
        return None
    for keyword in keywords:
        automaton.add_word(keyword, keyword)
    if len(automaton):
        automaton.make_automaton()
        return automaton
    return None


#: How far a rule's "line" reaches either side of a finding (a prompt may be one long line).
LINE_REACH = 400


def _line(text: str, start: int, end: int) -> str:
    """The line around ``text[start:end]``, at most :data:`LINE_REACH` characters either
    side."""
    first = max(text.rfind("\n", max(0, start - LINE_REACH), start) + 1, start - LINE_REACH, 0)
    last = text.find("\n", end, end + LINE_REACH)
    return text[first : last if last >= 0 else min(len(text), end + LINE_REACH)]


class SecretDetector:
    """Credentials by rule; ``rules`` defaults to the bundled set."""

    def __init__(self, rules: RuleSet | None = None) -> None:
        self.rule_set = rules if rules is not None else default_rules()
        by_keyword: dict[str, list[int]] = {}
        always: list[int] = []
        for index, rule in enumerate(self.rule_set.rules):
            for keyword in rule.keywords:
                by_keyword.setdefault(keyword, []).append(index)
            if not rule.keywords:
                always.append(index)
        self._by_keyword = {k: tuple(v) for k, v in by_keyword.items()}
        self._always = tuple(always)
        self._automaton = _keyword_automaton(self._by_keyword)

    def _keywords_in(self, lowered: str) -> Iterable[str]:
        if self._automaton is None:
            return (k for k in self._by_keyword if k in lowered)
        return {keyword for _, keyword in self._automaton.iter(lowered)}

    def _candidates(self, lowered: str) -> list[CredentialRule]:
        """The rules to run: those without keywords, and those with one in the text."""
        chosen = set(self._always)
        for keyword in self._keywords_in(lowered):
            chosen.update(self._by_keyword[keyword])
        rules = self.rule_set.rules
        return [rules[index] for index in sorted(chosen)]

    def find(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        for rule in self._candidates(text.lower()):
            for m in rule.pattern.finditer(text):
                group = _secret_span(rule, m.groups())
                if group < 0:
                    continue
                start, end = m.span(group)
                secret = text[start:end].rstrip("\n")
                if not secret or (rule.entropy and shannon_entropy(secret) <= rule.entropy):
                    continue
                end = start + len(secret)
                if self._allowed(rule, secret, m.group(), text, start, end):
                    continue
                found.append(span(rule.kind, "secret", text, start, end))
        return found

    def _allowed(
        self, rule: CredentialRule, secret: str, match: str, text: str, start: int, end: int
    ) -> bool:
        lists = self.rule_set.allowlists_for(rule)
        if not lists:
            return False
        line = _line(text, start, end) if any(a.target == "line" for a in lists) else ""
        return any(a.allows(secret, match, line) for a in lists)
