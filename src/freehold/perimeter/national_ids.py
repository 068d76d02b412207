"""National identifiers with format rules and check digits.

* US SSN, written ``AAA-GG-SSSS``: area not 000, 666 or 900–999; group not 00; serial not
  0000. (No check digit exists; undashed nine-digit runs are too common to flag.)
* UK National Insurance number: two prefix letters from the allowed sets (not BG, GB, KN,
  NK, NT, TN, ZZ), six digits, suffix A–D; spaces between pairs allowed.
* German Steuer-ID: 11 digits, optionally spaced ``12 345 678 901``; digit-distribution rule
  and ISO 7064 MOD 11,10 check digit.
* French INSEE/NIR: sex 1/2, year, month (01–12, 20–42, 50–99), department (incl. 2A/2B),
  commune, order, then the key ``97 - n mod 97``; spaces between the parts allowed.
* Indian Aadhaar: 12 digits starting 2–9, Verhoeff-checked; either grouped ``2345 6789 0123``
  or, written as one run of 12 digits, with ``Aadhaar``/``UID``/``आधार`` in the 40
  characters before (bare 12-digit numbers are common in code and one in ten passes
  Verhoeff).
"""

from __future__ import annotations

import re

from freehold.perimeter.base import Finding, span
from freehold.perimeter.checksums import insee_valid, steuer_id_valid, verhoeff_valid

_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_STEUER_ID = re.compile(r"(?<![\w.,-])[1-9]\d(?: ?\d{3}){3}(?![\w-]|[.,]\d| \d)")
_INSEE = re.compile(
    r"(?<![\w.,-])[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3}"
    r" ?\d{2}(?![\w-]|[.,]\d| \d)"
)
_AADHAAR = re.compile(r"(?<![\w.,-])[2-9]\d{3}([ -]?)\d{4}\1\d{4}(?![\w-]|[.,]\d|[ -]\d)")
_AADHAAR_CONTEXT = re.compile(r"(?i)aadha?ar|\buidai\b|\buid\b|आधार")


def _compact(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


class SsnDetector:
    """US Social Security numbers in ``AAA-GG-SSSS`` form with the SSA's format rules."""

    def find(self, text: str) -> list[Finding]:
        if "-" not in text:
            return []
        found = []
        for m in _SSN.finditer(text):
            area, group, serial = m.groups()
            if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
                continue
            found.append(span("us_ssn", "pii", text, m.start(), m.end()))
        return found


class NinoDetector:
    """UK National Insurance numbers."""

    def find(self, text: str) -> list[Finding]:
        return [span("uk_nino", "pii", text, m.start(), m.end()) for m in _NINO.finditer(text)]


class SteuerIdDetector:
    """German tax identification numbers (Steuerliche Identifikationsnummer)."""

    def find(self, text: str) -> list[Finding]:
        return [
            span("de_steuer_id", "pii", text, m.start(), m.end())
            for m in _STEUER_ID.finditer(text)
            if steuer_id_valid(_compact(m.group()))
        ]


class InseeDetector:
    """French social security numbers (NIR) with their key."""

    def find(self, text: str) -> list[Finding]:
        return [
            span("fr_insee", "pii", text, m.start(), m.end())
            for m in _INSEE.finditer(text)
            if insee_valid(_compact(m.group()))
        ]


class AadhaarDetector:
    """Indian Aadhaar numbers, Verhoeff-checked."""

    def find(self, text: str) -> list[Finding]:
        return [
            span("in_aadhaar", "pii", text, m.start(), m.end())
            for m in _AADHAAR.finditer(text)
            if verhoeff_valid(_compact(m.group()))
            and (m.group(1) or _AADHAAR_CONTEXT.search(text, max(0, m.start() - 40), m.start()))
        ]
