"""Check-digit algorithms, as pure functions over digit strings.

Each takes the compact form (no spaces, dashes or dots; letters in either case) and returns
whether its check holds: Luhn (payment cards), ISO 13616 mod-97 (IBAN), Verhoeff (Aadhaar),
ISO 7064 MOD 11,10 (German Steuer-ID) and the French INSEE/NIR key. Country-specific
format rules live with the detectors; these functions check only arithmetic.
"""

from __future__ import annotations

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a payment card number."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass :func:`luhn_valid`."""
    for d in "0123456789":
        if luhn_valid(partial + d):
            return d
    raise AssertionError("unreachable")  # pragma: no cover


def mod97_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    if len(iban) < 5 or not iban.isascii() or not iban.isalnum():
        return False
    moved = (iban[4:] + iban[:4]).upper()
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def verhoeff_valid(digits: str) -> bool:
    """The Verhoeff dihedral-group check (Aadhaar's last digit)."""
    if not digits.isdigit() or not digits.isascii():
        return False
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return c == 0


def verhoeff_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass :func:`verhoeff_valid`."""
    c = 0
    for i, ch in enumerate(reversed(partial)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][ord(ch) - 48]]
    return str(_VERHOEFF_INV[c])


def iso7064_mod11_10_check_digit(digits: str) -> str:
    """ISO 7064 MOD 11,10 check digit of ``digits`` (German Steuer-ID)."""
    product = 10
    for ch in digits:
        total = (ord(ch) - 48 + product) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def steuer_id_valid(digits: str) -> bool:
    """German Steuer-ID: 11 digits, no leading zero; in the first ten exactly one digit is
    repeated (twice or three times, a triple never adjacent) and the rest are distinct; the
    last digit is the ISO 7064 MOD 11,10 check digit."""
    if len(digits) != 11 or not digits.isdigit() or not digits.isascii() or digits[0] == "0":
        return False
    body = digits[:10]
    counts = sorted((body.count(d) for d in set(body)), reverse=True)
    if counts[0] not in (2, 3) or any(c != 1 for c in counts[1:]):
        return False
    if counts[0] == 3 and any(body[i] == body[i + 1] == body[i + 2] for i in range(8)):
        return False
    return iso7064_mod11_10_check_digit(body) == digits[10]


def insee_key(body: str) -> int:
    """The two-digit key of a 13-character French NIR (Corsica ``2A``/``2B`` allowed)."""
    if body[5:7].upper() == "2A":
        number = body[:5] + "19" + body[7:]
    elif body[5:7].upper() == "2B":
        number = body[:5] + "18" + body[7:]
    else:
        number = body
    return 97 - int(number) % 97


def insee_valid(nir: str) -> bool:
    """A French NIR: 13 characters then the key ``97 - (n mod 97)`` as two digits."""
    if len(nir) != 15 or not nir.isascii() or not nir[13:].isdigit():
        return False
    body = nir[:13]
    if not (body[:5] + body[7:]).isdigit():
        return False
    if not (body[5:7].isdigit() or body[5:7].upper() in ("2A", "2B")):
        return False
    return insee_key(body) == int(nir[13:])
