"""National identifiers with format rules and check digits, in any case and with one kind
of separator per value (space, dash, dot, or none; mixed kinds are not one identifier).

* US SSN ``AAA-GG-SSSS``, ``AAA GG SSSS`` or ``AAA.GG.SSSS``: area not 000, 666 or
  900–999; group not 00; serial not 0000. No check digit exists, so the forms that are
  also ordinary numbers need a label: nine bare digits (``123456789``), and a spaced value
  inside a longer run of numbers (``12 123 45 6789``), are reported only with
  a label in the 60 characters before (:data:`_SSN_CONTEXT`: ``SSN``, ``SS#``, ``S.S.N.``,
  ``social security`` (``… number``, ``… no``), ``soc sec``, ``tax id``, ``taxpayer id``,
  ``tax identification``, any case; ``TIN`` and ``ITIN`` upper case only, since ``tin``
  is a metal).
* UK National Insurance number: two prefix letters from the allowed sets (not BG, GB, KN,
  NK, NT, TN, ZZ), or QQ (never issued, but HMRC's specimen prefix, which people paste to
  try a form), six digits, suffix A–D; the pairs may be split by one kind of separator.
  Upper case is reported in any of these forms. Lower or mixed case (``qq 12 34 56 c``) is
  reported when the letters stand apart from the digits (a separator after the prefix and
  before the suffix); otherwise (``qq123456c``, which looks like an identifier in code) only
  with a label in the 60 characters before (:data:`_NINO_CONTEXT`: ``NI number``, ``NI
  no``, ``NI #``, ``national insurance``, ``NINO``, any case).
* German Steuer-ID: 11 digits, compact or grouped ``12 345 678 901`` or ``12-345-678-901``;
  digit-distribution rule and ISO 7064 MOD 11,10 check digit. Dotted, it reads as an amount
  in German (``12.345.678.901``) and needs a label in the 60 characters before
  (:data:`_STEUER_ID_CONTEXT`: ``Steuer…`` (``Steuer-ID``, ``Steuernummer``,
  ``Steueridentifikationsnummer``), ``IdNr``, ``Identifikationsnummer``, ``tax id``, any
  case; ``TIN`` upper case).
* French INSEE/NIR: sex 1/2, year, month (01–12, 20–42, 50–99), department (incl. 2A/2B in
  any case), commune, order, then the key ``97 - n mod 97``; the parts may be split by
  spaces (some may be left out) or by dashes or dots at every place.
* Indian Aadhaar: 12 digits starting 2–9, Verhoeff-checked; either grouped ``2345 6789 0123``
  (or with dashes or dots) or, written as one run of 12 digits, with a word in the 60
  characters before (:data:`_AADHAAR_CONTEXT`: ``Aadhaar``/``Aadhar``, ``UID``, ``UIDAI``,
  ``आधार``) — bare 12-digit numbers are common in code and one in ten passes Verhoeff.

Where a separator is optional between each part (Steuer-ID, INSEE), spaces may be left
out here and there, as people write them, but dashes and dots must split every part
(``1.851278006084 36`` is a decimal, not a NIR). Labels are looked for in the same text, in
the characters just before the candidate.
"""

from __future__ import annotations

import re

from freehold.perimeter.base import Finding, span
from freehold.perimeter.checksums import insee_valid, steuer_id_valid, verhoeff_valid

#: How far before a candidate its label may start, in characters.
CONTEXT_CHARS = 60

_SSN = re.compile(r"(?<![\w.,-])(\d{3})([ .-]?)(\d{2})\2(\d{4})(?![\w-]|[.,]\d)")
_SSN_CONTEXT = re.compile(
    r"(?i:\bssn|\bss ?#|\bs\.s\.n\b|\bsocial[ -]+security\b|\bsoc\.? ?sec\b"
    r"|\btax(?:payer)?[ -]?id(?:entification)?\b)|\bI?TIN\b"
)
_NINO = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]|[Qq]{2})"
    r"([ .-]?)\d{2}([ .-]?)\d{2}([ .-]?)\d{2}([ .-]?)[A-Da-d](?![A-Za-z0-9])"
)
_NINO_EXCLUDED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_NINO_CONTEXT = re.compile(r"(?i)\bni ?(?:number|num|no\b|#|:)|\bnational[ -]+insurance\b|\bnino\b")
_STEUER_ID = re.compile(
    r"(?<![\w.,-])[1-9]\d([ .-]?)\d{3}([ .-]?)\d{3}([ .-]?)\d{3}(?![\w-]|[ .,]\d)"
)
_STEUER_ID_CONTEXT = re.compile(
    r"(?i:steuer|\bidnr\b|identifikationsnummer|\btax[ -]?id\b)|\bTIN\b"
)
_INSEE = re.compile(
    r"(?<![\w.,-])[12]([ .-]?)\d{2}([ .-]?)(?:0[1-9]|1[0-2]|[2-9]\d)([ .-]?)(?:\d{2}|2[ABab])"
    r"([ .-]?)\d{3}([ .-]?)\d{3}([ .-]?)\d{2}(?![\w-]|[ .,]\d)"
)
_AADHAAR = re.compile(r"(?<![\w.,-])[2-9]\d{3}([ .-]?)\d{4}\1\d{4}(?![\w-]|[ .,]\d)")
_AADHAAR_CONTEXT = re.compile(r"(?i)aadha?ar|\buidai\b|\buid\b|आधार")


def _compact(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum())


def _one_separator(match: re.Match[str]) -> bool:
    """Whether the separators a pattern captured are all of one kind (or absent)."""
    return len({sep for sep in match.groups() if sep}) <= 1


def _grouped(match: re.Match[str]) -> bool:
    """Whether the separators a pattern captured are absent, spaces (some may be left out,
    as people write them), or dashes or dots at every place (``1.851278…`` is a decimal)."""
    separators = match.groups()
    kinds = {sep for sep in separators if sep}
    return not kinds or kinds == {" "} or (len(kinds) == 1 and all(separators))


def _labelled(context: re.Pattern[str], text: str, start: int) -> bool:
    return context.search(text, max(0, start - CONTEXT_CHARS), start) is not None


def _in_number_run(text: str, start: int, end: int, sep: str) -> bool:
    """Whether ``text[start:end]`` is flanked by more digits split by the same ``sep``."""
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    return (len(before) == 2 and before[1] == sep and before[0].isdigit()) or (
        len(after) == 2 and after[0] == sep and after[1].isdigit()
    )


class SsnDetector:
    """US Social Security numbers with the SSA's format rules; bare nine-digit runs only
    behind a label."""

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in _SSN.finditer(text):
            area, sep, group, serial = m.groups()
            if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
                continue
            plain = sep == "-" or (bool(sep) and not _in_number_run(text, m.start(), m.end(), sep))
            if plain or _labelled(_SSN_CONTEXT, text, m.start()):
                found.append(span("us_ssn", "pii", text, m.start(), m.end()))
        return found


class NinoDetector:
    """UK National Insurance numbers in any case; lower-case run-together ones behind a
    label."""

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in _NINO.finditer(text):
            value = m.group()
            if value[:2].upper() in _NINO_EXCLUDED_PREFIXES or not _one_separator(m):
                continue
            upper = (value[:2] + value[-1]).isupper()
            apart = bool(m.group(1) and m.group(4))
            if upper or apart or _labelled(_NINO_CONTEXT, text, m.start()):
                found.append(span("uk_nino", "pii", text, m.start(), m.end()))
        return found


class SteuerIdDetector:
    """German tax identification numbers (Steuerliche Identifikationsnummer); dotted ones,
    written like amounts (``12.345.678.901``), behind a label."""

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in _STEUER_ID.finditer(text):
            if not (_grouped(m) and steuer_id_valid(_compact(m.group()))):
                continue
            if m.group(1) != "." or _labelled(_STEUER_ID_CONTEXT, text, m.start()):
                found.append(span("de_steuer_id", "pii", text, m.start(), m.end()))
        return found


class InseeDetector:
    """French social security numbers (NIR) with their key."""

    def find(self, text: str) -> list[Finding]:
        return [
            span("fr_insee", "pii", text, m.start(), m.end())
            for m in _INSEE.finditer(text)
            if _grouped(m) and insee_valid(_compact(m.group()))
        ]


class AadhaarDetector:
    """Indian Aadhaar numbers, Verhoeff-checked."""

    def find(self, text: str) -> list[Finding]:
        return [
            span("in_aadhaar", "pii", text, m.start(), m.end())
            for m in _AADHAAR.finditer(text)
            if verhoeff_valid(_compact(m.group()))
            and (m.group(1) or _labelled(_AADHAAR_CONTEXT, text, m.start()))
        ]
