"""The scanner: the chosen detectors over one text, overlaps resolved, and a walker that
scans every place of an OpenAI chat request where user data travels.

Example::

    scanner = Scanner(ScanOptions(custom_terms={"Project Nightjar": "codename"}))
    [f.kind for f in scanner.scan("mail ana@example.org about project nightjar")]
    # ['email', 'term:codename']

Families are imported by name (:data:`FAMILIES`) when a scanner is built, so building one
with only ``{"secrets"}`` needs no optional package. Overlapping findings are resolved by
:func:`resolve_overlaps`: a generic high-entropy finding loses to any specific one; a
specific secret beats PII and custom findings (``postgres://u:<pw>@host`` is a password,
not the e-mail address it resembles); otherwise the longest wins, then PII before custom.
"""

from __future__ import annotations

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
    "secrets": ("freehold.perimeter.secrets:SecretDetector",),
    "entropy": (),  # built with the options' threshold, below
}
DEFAULT_FAMILIES = frozenset(FAMILIES)
_CATEGORY_RANK = {"secret": 2, "pii": 1, "custom": 0}


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


def _priority(finding: Finding) -> tuple[bool, bool, int, int]:
    specific = finding.kind != "high_entropy"
    secret = finding.category == "secret"
    return (specific, secret, finding.end - finding.start, _CATEGORY_RANK[finding.category])


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep a non-overlapping subset, best first (see the module docstring), by position."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=_priority, reverse=True):
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))


class Scanner:
    """The detectors of one :class:`ScanOptions`, built once, scanning many texts."""

    def __init__(self, options: ScanOptions | None = None) -> None:
        self.options = options or ScanOptions()
        self.detectors = build_detectors(self.options)

    def scan(self, text: str) -> list[Finding]:
        """Every finding in ``text``, overlaps resolved, ordered by position."""
        if not text:
            return []
        found: list[Finding] = []
        for detector in self.detectors:
            found.extend(detector.find(text))
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
    """Scan every text of ``request`` (see :func:`request_texts`)."""
    return [
        Located(index, path, finding)
        for index, path, text in request_texts(request)
        for finding in scanner.scan(text)
    ]
