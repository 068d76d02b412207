"""The scanner: the chosen detectors over one text, overlaps resolved, and a walker that
scans every place of an OpenAI chat request where user data travels.

Example::

    scanner = Scanner(ScanOptions(custom_terms={"Project Nightjar": "codename"}))
    [f.kind for f in scanner.scan("mail ana@example.org about project nightjar")]
    # ['email', 'term:codename']

Families are imported by name (:data:`FAMILIES`) when a scanner is built, so building one
with only ``{"secrets"}`` needs no optional package. Overlapping findings are resolved by
:func:`resolve_overlaps`: a generic finding (high entropy, a generic ``key = …``
assignment) loses to any specific one; a
specific secret beats PII and custom findings (``postgres://u:<pw>@host`` is a password,
not the e-mail address it resembles); otherwise the longest wins, then PII before custom.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from freehold.core.importer import import_string
from freehold.perimeter.base import Detector, Finding
from freehold.perimeter.entropy import DEFAULT_MIN_LENGTH, DEFAULT_THRESHOLD

#: family → detector classes (``module:Class``) built with no arguments.
FAMILIES: dict[str, tuple[str, ...]] = {
    "pii": (
        "freehold.perimeter.pii:EmailDetector",
        "freehold.perimeter.pii:CardDetector",
        "freehold.perimeter.pii:IbanDetector",
        "freehold.perimeter.pii:IpDetector",
        "freehold.perimeter.national_ids:SsnDetector",
        "freehold.perimeter.national_ids:NinoDetector",
        "freehold.perimeter.national_ids:SteuerIdDetector",
        "freehold.perimeter.national_ids:InseeDetector",
        "freehold.perimeter.national_ids:AadhaarDetector",
    ),
    "phones": (),  # built with the options' regions, below
    "secrets": (),  # built with the options' extra rule files, below
    "entropy": (),  # built with the options' threshold, below
    "names": (),  # opt-in: a named-entity model (the ``ner`` extra), below
}
DEFAULT_FAMILIES = frozenset(FAMILIES) - {"names"}
#: Kinds found by shape alone; any other finding on the same span says more.
GENERIC_KINDS = frozenset({"high_entropy", "generic_api_key"})
_CATEGORY_RANK = {"secret": 2, "pii": 1, "custom": 0}
#: How much of the previous text of a request is read as context for the next one.
CONTEXT_CHARS = 80


@dataclass(frozen=True)
class ScanOptions:
    """What a :class:`Scanner` looks for. Custom terms and patterns are always on when given."""

    families: frozenset[str] = DEFAULT_FAMILIES
    entropy_threshold: float = DEFAULT_THRESHOLD
    entropy_min_length: int = DEFAULT_MIN_LENGTH
    phone_regions: tuple[str, ...] = ("US",)
    custom_terms: Mapping[str, str] | tuple[str, ...] = field(default_factory=tuple)
    """Terms → label (or plain terms, labelled ``term``)."""
    custom_patterns: Mapping[str, str] = field(default_factory=dict)
    """Name → regex."""
    secret_rule_files: tuple[str, ...] = ()
    """gitleaks-format rule files loaded after the bundled rules."""
    names_model: str = "en_core_web_sm"
    """The spaCy pipeline of the ``names`` family."""


def _load(target: str) -> Any:
    """A detector class; a missing optional library says to install ``freehold[perimeter]``."""
    return import_string(target, "perimeter")


def build_detectors(options: ScanOptions) -> list[Detector]:
    """Every detector ``options`` asks for, compiled."""
    unknown = options.families - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown detector families: {sorted(unknown)}; known: {sorted(FAMILIES)}")
    detectors: list[Detector] = []
    for family in sorted(options.families):
        detectors.extend(_load(target)() for target in FAMILIES[family])
    if "secrets" in options.families:
        detectors.append(_secret_detector(options.secret_rule_files))
    if "names" in options.families:
        detectors.append(_load("freehold.perimeter.names:NameDetector")(options.names_model))
    if "phones" in options.families:
        detectors.append(_load("freehold.perimeter.phones:PhoneDetector")(options.phone_regions))
    if "entropy" in options.families:
        entropy = _load("freehold.perimeter.entropy:EntropyDetector")
        detectors.append(entropy(options.entropy_threshold, options.entropy_min_length))
    if options.custom_terms:
        detectors.append(_load("freehold.perimeter.custom:TermDetector")(options.custom_terms))
    if options.custom_patterns:
        pattern = _load("freehold.perimeter.custom:PatternDetector")
        detectors.append(pattern(options.custom_patterns))
    return detectors


def _secret_detector(rule_files: tuple[str, ...]) -> Detector:
    from freehold.perimeter.rule_set import load_rules
    from freehold.perimeter.secrets import SecretDetector

    return SecretDetector(load_rules(rule_files) if rule_files else None)


def _priority(finding: Finding) -> tuple[bool, bool, int, int]:
    specific = finding.kind not in GENERIC_KINDS
    secret = finding.category == "secret"
    return (specific, secret, finding.end - finding.start, _CATEGORY_RANK[finding.category])


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep a non-overlapping subset, best first (see the module docstring), by position."""
    starts: list[int] = []  # kept findings' starts, sorted; they never overlap
    kept: list[Finding] = []
    for finding in sorted(findings, key=_priority, reverse=True):
        at = bisect.bisect_right(starts, finding.start)
        if at and kept[at - 1].end > finding.start:
            continue  # overlaps the kept finding that starts before it
        if at < len(kept) and kept[at].start < finding.end:
            continue  # overlaps the kept finding that starts after it
        starts.insert(at, finding.start)
        kept.insert(at, finding)
    return kept


class Scanner:
    """The detectors of one :class:`ScanOptions`, built once, scanning many texts."""

    def __init__(self, options: ScanOptions | None = None) -> None:
        self.options = options or ScanOptions()
        self.detectors = build_detectors(self.options)

    def scan(self, text: str, context: str = "") -> list[Finding]:
        """Every finding in ``text``, overlaps resolved, ordered by position. ``context`` is
        text read just before it (the end of the previous message): a label there (``What
        is your social security number?``) counts for a number at the start of ``text``;
        nothing is reported in the context itself."""
        if not text:
            return []
        prefix = context[-CONTEXT_CHARS:] + "\n" if context else ""
        scanned = prefix + text
        found: list[Finding] = []
        for detector in self.detectors:
            found.extend(detector.find(scanned))
        if prefix:
            cut = len(prefix)
            found = [f.shifted(-cut) for f in found if f.start >= cut]
        return resolve_overlaps(found) if len(found) > 1 else found


Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Located:
    """A finding in a chat request: ``request["messages"][message][path…]`` holds the text."""

    message: int
    path: Path
    finding: Finding


def request_texts(request: Mapping[str, Any]) -> Iterator[tuple[int, Path, str]]:
    """Every scanned text of an OpenAI chat request: message content (a string, or the
    ``text`` of each text part), each tool call's ``function.arguments`` (and the legacy
    ``function_call.arguments``); tool results (role ``tool``) are message content."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, str):
            yield index, ("content",), content
        elif isinstance(content, list):
            for p, part in enumerate(content):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    yield index, ("content", p, "text"), part["text"]
        calls = message.get("tool_calls")
        for c, call in enumerate(calls if isinstance(calls, list) else []):
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("arguments"), str):
                yield index, ("tool_calls", c, "function", "arguments"), function["arguments"]
        legacy = message.get("function_call")
        if isinstance(legacy, Mapping) and isinstance(legacy.get("arguments"), str):
            yield index, ("function_call", "arguments"), legacy["arguments"]


def scan_request(scanner: Scanner, request: Mapping[str, Any]) -> list[Located]:
    """Scan every text of ``request`` (see :func:`request_texts`), each with the end of the
    text before it as context (a question in one message, the answer in the next)."""
    located: list[Located] = []
    previous = ""
    for index, path, text in request_texts(request):
        located.extend(Located(index, path, f) for f in scanner.scan(text, previous))
        previous = text
    return located
