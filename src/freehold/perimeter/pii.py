"""Contact, financial and network PII: e-mail addresses, payment cards, IBANs, IP addresses.

Every pattern is compiled once at import and every candidate is confirmed before it is
reported, to keep false positives low:

* a card number has 13–19 digits, optionally grouped by single spaces or dashes (any
  grouping) or by dots (only the printed groupings 4-4-4-4[-1..3] and Amex 4-6-5, so that
  decimals are never read as cards), one kind of separator per number, a known issuer
  prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) and passes Luhn;
* an IBAN, in any case, is compact or in groups of four split by one kind of separator
  (space, dash or dot), has its country's length, ends at the end of a group or word, and
  passes mod-97. A compact candidate that could be a hex digest (only ``0-9a-f`` and at
  least one letter after the check digits, e.g. ``be42…`` cut from a trace id) needs a
  banking word in the 60 characters before it (:data:`_IBAN_CONTEXT`: ``IBAN``,
  ``account``, ``acct``, ``a/c``, ``bank``, ``banking``, ``Bankverbindung``, ``Konto``,
  ``Kontonummer``, ``SEPA``, ``SWIFT``, ``BIC``, ``RIB``; any case);
* an IPv4 address is four octets of 0–255 not glued to other digits or dots; an IPv6 address
  parses with :mod:`ipaddress` and has either eight groups or ``::`` with a four-digit group.
  Loopback and unspecified addresses (``127.0.0.1``, ``0.0.0.0``, ``::1``, ``::``) and
  netmasks (``255.255.255.0``) are configuration, not personal data, and are not reported;
  nor is a dotted quad written as a version (right after ``v``, ``==``, ``:``, ``@``, or
  with a version word or another version number in the 40 characters before it).
"""

from __future__ import annotations

import ipaddress
import re

from freehold.perimeter.base import Finding, span
from freehold.perimeter.checksums import luhn_valid, mod97_valid

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

_CARD = re.compile(
    r"(?<![\w.,-])(?:\d{4}\.(?:\d{4}\.\d{4}\.\d{4}(?:\.\d{1,3})?|\d{6}\.\d{5})"
    r"|\d(?:[ -]?\d){12,18})(?![\w-]|[.,]\d)"
)
_CARD_PREFIX = re.compile(
    r"4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|6(?:011|5|4[4-9]|2)|35|3(?:0[0-5]|[68])|5[06-9]"
)

#: ISO 13616 registry lengths.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}([ .-]?)[A-Za-z0-9]{4}(?:\1[A-Za-z0-9]{4}){1,6}"
    r"(?:\1[A-Za-z0-9]{1,3})?"
)
_IBAN_CONTEXT = re.compile(
    r"(?i)\b(?:iban|account|acct|a/c|bank(?:ing|verbindung)?|konto(?:nummer)?|sepa|swift|bic"
    r"|rib)(?![a-z])"
)
_IBAN_CONTEXT_CHARS = 60
_HEX = frozenset("0123456789abcdefABCDEF")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\w)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::)[0-9A-Fa-f:]{1,37}(?![\w:]|\.\w)")
_VERSION_CONTEXT = re.compile(
    r"(?i)\b(?:v|ver|version|release|upgrade|downgrade|update|build|firmware)\b"
    r"|(?<![\d.])v?\d+\.\d+(?:\.\d+)?(?![.\d])"
)
_VERSION_PREFIX = frozenset("v=:@~^<>")
_GROUP4 = re.compile(r"(?:^|:)[0-9A-Fa-f]{4}(?=:|$)")
_NETMASK_OCTETS = {"0", "128", "192", "224", "240", "248", "252", "254", "255"}


class EmailDetector:
    """E-mail addresses (``local@domain.tld``)."""

    def find(self, text: str) -> list[Finding]:
        if "@" not in text:
            return []
        return [span("email", "pii", text, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _consistent_grouping(raw: str) -> bool:
    seps = {ch for ch in raw if not ch.isdigit()}
    return len(seps) <= 1


class CardDetector:
    """Payment card numbers: issuer prefix, 13–19 digits, one kind of separator, Luhn."""

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in _CARD.finditer(text):
            raw = m.group()
            digits = raw.replace(" ", "").replace("-", "").replace(".", "")
            if (
                _consistent_grouping(raw)
                and _CARD_PREFIX.match(digits)
                and (digits[:2] not in ("34", "37") or len(digits) == 15)
                and luhn_valid(digits)
            ):
                found.append(span("card", "pii", text, m.start(), m.end()))
        return found


def _end_after(raw: str, characters: int) -> int | None:
    """The index in ``raw`` just after its first ``characters`` letters and digits."""
    count = 0
    for index, ch in enumerate(raw, 1):
        count += ch.isalnum()
        if count == characters:
            return index
    return None


def _hex_like(compact: str) -> bool:
    """Whether a compact IBAN candidate could be cut from a hex digest: nothing but hex
    digits (its country code included: ``IT…`` cannot be), and a letter among the
    characters after the check digits."""
    return all(ch in _HEX for ch in compact) and not compact[4:].isdigit()


class IbanDetector:
    """IBANs in any case, compact or in groups of four: country length and mod-97 checked."""

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in _IBAN.finditer(text):
            raw = m.group()
            length = IBAN_LENGTHS.get(raw[:2].upper())
            if length is None:
                continue
            end = _end_after(raw, length)
            if end is None or text[m.start() + end : m.start() + end + 1].isalnum():
                continue  # too short, or the IBAN would end inside a group or word
            compact = "".join(ch for ch in raw[:end] if ch.isalnum())
            if not mod97_valid(compact):
                continue
            if (
                not m.group(1)
                and _hex_like(compact)
                and not self._banking_words_before(text, m.start())
            ):
                continue
            found.append(span("iban", "pii", text, m.start(), m.start() + end))
        return found

    @staticmethod
    def _banking_words_before(text: str, start: int) -> bool:
        window = max(0, start - _IBAN_CONTEXT_CHARS)
        return _IBAN_CONTEXT.search(text, window, start) is not None


class IpDetector:
    """IPv4 and IPv6 addresses, less loopback, unspecified and netmask addresses."""

    def find(self, text: str) -> list[Finding]:
        found = []
        if "." in text:
            for m in _IPV4.finditer(text):
                octets = m.group().split(".")
                netmask = octets[0] == "255" and all(o in _NETMASK_OCTETS for o in octets)
                if octets[0] in ("0", "127") or netmask or self._version_like(text, m.start()):
                    continue
                found.append(span("ipv4", "pii", text, m.start(), m.end()))
        if "::" in text or text.count(":") >= 7:
            for m in _IPV6.finditer(text):
                if self._is_ipv6(m.group()):
                    found.append(span("ipv6", "pii", text, m.start(), m.end()))
        return found

    @staticmethod
    def _version_like(text: str, start: int) -> bool:
        """A dotted quad written as a version: ``numpy==1.2.3.4``, ``app:1.2.3.4``,
        ``upgrade from 2.1 to 1.2.3.4``, ``"version": "1.2.3.4"``."""
        if start and text[start - 1] in _VERSION_PREFIX:
            return True
        return _VERSION_CONTEXT.search(text, max(0, start - 40), start) is not None

    @staticmethod
    def _is_ipv6(candidate: str) -> bool:
        if candidate.count(":") < 7 and not ("::" in candidate and _GROUP4.search(candidate)):
            return False
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            return False
        return not (address.is_loopback or address.is_unspecified)
