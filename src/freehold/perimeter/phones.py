"""Phone numbers, confirmed by Google's libphonenumber (the ``phonenumbers`` package).

The parser is the expensive part, so it only sees candidates: a cheap regex picks runs that
look like a phone number written for people — international (``+44 20 7946 0958``,
``0044 …``) or, for the configured default regions, national with separators
(``(415) 555-2671``, ``415-555-2671``, ``1-415-555-2671``; never an ISO date) — and each
candidate is reported only if ``phonenumbers`` parses it as a *valid* number. Bare digit runs
without a ``+``/``00`` prefix or separators (order numbers, timestamps) are candidates only
behind a phone word (``phone: 4155552671``, ``tel``, ``mobile``, ``cell``, ``fax``,
``WhatsApp``, ``SMS``, ``call``, ``reach``, ``contact``), in the same line or ending the
previous message ("What number can we reach you on?" / "4155552671").

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

#: Each pattern opens with a lookahead on its first character: Python then skips to the
#: candidates instead of trying the lookbehinds at every position (a third faster).
_INTERNATIONAL = re.compile(
    r"(?=[+0])(?<![\w+.,])(?:\+|00)[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?!\w)"
)
_NATIONAL = re.compile(
    r"(?=[\d(])(?<![\w+.-])(?!\d{4}-\d\d-\d\d)(?:1[ .-])?(?:\(\d{2,5}\) ?|\d{2,5}[ .-])"
    r"\d{2,4}(?:[ .-]\d{2,4}){1,3}(?![\w-]|\.\d)"
)
#: A run of digits is a phone number only behind a phone word (in the same line, or ending
#: the previous message: "What is your phone number?" / "2063384112").
_LABELLED = re.compile(
    r"(?i)\b(?:phone|tel(?:ephone)?|mobile|cell(?:phone)?|fax|whats ?app|sms|call|reach|contact)"
    r"\b[^\d\n]{0,30}"
    r"\n?[ \t]*(\+?\d{10,12})(?![\w-]|[.,]\d)"
)
_TEN_DIGITS = re.compile(r"\d{10}")
#: No phone number has more digits (ITU-T E.164), trunk prefix included.
_E164_DIGITS = 15
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")


class PhoneDetector:
    """Valid phone numbers in international form, and national form for ``regions``."""

    def __init__(self, regions: Iterable[str] = ("US",)) -> None:
        self.regions = tuple(regions)

    def find(self, text: str) -> list[Finding]:
        if not _DIGIT_RUN.search(text):
            return []
        found = []
        for m in _INTERNATIONAL.finditer(text):
            end = m.end()
            if text[end - 1] == ")" and "(" not in m.group():
                end -= 1  # "(call +44 20 7946 0958)": the bracket closes the sentence's
            if self._valid(text[m.start() : end], None):
                found.append(span("phone", "pii", text, m.start(), end))
        if self.regions:
            labelled = _LABELLED.finditer(text) if _TEN_DIGITS.search(text) else ()
            for m in (*_NATIONAL.finditer(text), *labelled):
                start, end = m.span(m.lastindex or 0)
                if any(f.start < end and start < f.end for f in found):
                    continue
                if any(self._valid(text[start:end], region) for region in self.regions):
                    found.append(span("phone", "pii", text, start, end))
        return found

    @staticmethod
    def _valid(candidate: str, region: str | None) -> bool:
        if candidate.startswith("00"):
            candidate = "+" + candidate[2:]
        if not 7 <= sum(ch.isdigit() for ch in candidate) <= _E164_DIGITS:
            return False  # too short, or longer than any number (a card, an IBAN)
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_valid_number(number))
