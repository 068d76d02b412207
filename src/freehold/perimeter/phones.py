"""Phone numbers, confirmed by Google's libphonenumber (the ``phonenumbers`` package).

The parser is the expensive part, so it only sees candidates: a cheap regex picks runs that
look like a phone number written for people — international (``+44 20 7946 0958``,
``0044 …``) or, for the configured default regions, national with separators
(``(415) 555-2671``, ``415-555-2671``; never an ISO date) — and each candidate is reported only if
``phonenumbers`` parses it as a *valid* number. Bare digit runs without a ``+``/``00``
prefix or separators (order numbers, timestamps) are never candidates.

Needs ``pip install 'freehold[perimeter]'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from freehold.perimeter.base import Finding, span

try:
    import phonenumbers
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "phone detection needs the phonenumbers package: pip install 'freehold[perimeter]'"
    ) from exc

_INTERNATIONAL = re.compile(r"(?<![\w+.,])(?:\+|00)[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?!\w)")
_NATIONAL = re.compile(
    r"(?<![\w+.-])(?!\d{4}-\d\d-\d\d)(?:\(\d{2,5}\) ?|\d{2,5}[ .-])"
    r"\d{2,4}(?:[ .-]\d{2,4}){1,3}(?![\w-]|\.\d)"
)
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")


class PhoneDetector:
    """Valid phone numbers in international form, and national form for ``regions``."""

    def __init__(self, regions: Iterable[str] = ("US",)) -> None:
        self.regions = tuple(regions)

    def find(self, text: str) -> list[Finding]:
        if not _DIGIT_RUN.search(text):
            return []
        found = [
            span("phone", "pii", text, m.start(), m.end())
            for m in _INTERNATIONAL.finditer(text)
            if self._valid(m.group(), None)
        ]
        if self.regions:
            for m in _NATIONAL.finditer(text):
                if any(f.start < m.end() and m.start() < f.end for f in found):
                    continue
                if any(self._valid(m.group(), region) for region in self.regions):
                    found.append(span("phone", "pii", text, m.start(), m.end()))
        return found

    @staticmethod
    def _valid(candidate: str, region: str | None) -> bool:
        if sum(ch.isdigit() for ch in candidate) < 7:
            return False
        if candidate.startswith("00"):
            candidate = "+" + candidate[2:]
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_valid_number(number))
