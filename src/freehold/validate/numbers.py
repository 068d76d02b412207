"""Numbers as answers write them, and the final answer of a worked solution.

Pure helpers shared by the ``number`` and ``arithmetic`` validators. A written number may
carry a sign (``-3``, ``−3``), a currency symbol (``$18``, ``€5``), thousands separators in
groups of three (``1,234,567``), decimals (``1,234.50``, ``.5``), scientific notation
(``2.5e3``: a mantissa with digits, an exponent of at most three digits, nothing glued after
it), a percent sign or word (``50%``, ``50 percent``: the number as written, 50, is kept and
the flag set), a scale word (``1.5 million``) and, when asked for, a fraction (``3/4``).
Words after a number (units, ``apples``) are ignored.

Everything is bounded: a number with more than :data:`MAX_DIGITS` digits (or whose exponent
would make it so) is ignored, and :func:`final_answer` reads only the last
:data:`MAX_SCAN_CHARS` characters of an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Literal

MAX_DIGITS = 100
"""Numbers with more digits than this are not numbers an answer means; they are skipped."""

MAX_SCAN_CHARS = 100_000
""":func:`final_answer` looks at most at this many characters, the answer's tail."""

Source = Literal["####", "boxed", "answer_is", "last_number"]

_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}

CURRENCY = "$€£¥₹"

#: A number without a sign: the groups are ``int``/``frac`` or ``lead`` (``.5``), ``exp``.
NUMBER_CORE = (
    rf"(?:(?P<cur>[{CURRENCY}]) ?)?"
    r"(?:(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d++)(?:\.(?P<frac>\d++))?|\.(?P<lead>\d++))"
    r"(?:[eE](?P<exp>[-+]?\d{1,3})(?!\w))?"
)
#: What may follow a number: a percent sign or word, a scale word.
NUMBER_SUFFIX = (
    r"(?i:(?: ?(?P<pct>%|percent\b|per ?cent\b))?"
    r"(?: (?P<scale>thousand|million|billion|trillion)\b)?)"
)
#: A number as :func:`written` reads it (no sign: a minus is the reader's to interpret).
NUMBER = NUMBER_CORE + NUMBER_SUFFIX
_FRACTION = r"(?P<fnum>\d{1,50})\s?/\s?(?P<fden>\d{1,50})(?![\d/]|[.,]\d)"
_SIGN = r"(?<![\w.])(?P<sign>[-−+](?=[" + CURRENCY + r"]?\.?\d))?"

_SCAN = re.compile(_SIGN + r"(?:" + NUMBER_CORE + r")" + NUMBER_SUFFIX)
_SCAN_WITH_FRACTIONS = re.compile(
    _SIGN + r"(?:" + _FRACTION + r"|" + NUMBER_CORE + r")" + NUMBER_SUFFIX
)


@dataclass(frozen=True, slots=True)
class Written:
    """One number as written: its exact value (percent not applied), where it is, how
    many decimals were written, and whether a percent sign followed it."""

    value: Fraction
    text: str
    start: int
    end: int
    decimals: int = 0
    """Digits written after the point (negative for ``2.5e3`` or ``3 million``)."""
    percent: bool = False

    @property
    def ratio(self) -> Fraction:
        """The value with the percent applied (``50%`` → 1/2)."""
        return self.value / 100 if self.percent else self.value

    @property
    def last_place(self) -> Fraction:
        """One unit in the last written place (``2.50`` → 1/100, ``3 million`` → 10**6)."""
        return Fraction(10) ** -self.decimals


def core_value(match: re.Match[str]) -> tuple[Fraction, int] | None:
    """The value and written decimals of a :data:`NUMBER_CORE` match, None when too big."""
    integer = (match.group("int") or "").replace(",", "")
    frac = match.group("frac") or match.group("lead") or ""
    if len(integer) + len(frac) > MAX_DIGITS:
        return None
    value = Fraction(int(integer or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    decimals = len(frac)
    exp_text = match.group("exp")
    if exp_text:
        exponent = int(exp_text)
        if len(integer.lstrip("0")) + exponent > MAX_DIGITS or exponent < -MAX_DIGITS:
            return None
        value *= Fraction(10) ** exponent
        decimals -= exponent
    return value, decimals


def written(match: re.Match[str]) -> Written | None:
    """The number a match of :data:`NUMBER` (or of the scanners here) writes; None when
    it is too big to be meant (more than :data:`MAX_DIGITS` digits) or divides by zero."""
    groups = match.groupdict()
    if groups.get("fnum"):
        denominator = int(match.group("fden"))
        if denominator == 0:
            return None
        value, decimals = Fraction(int(match.group("fnum")), denominator), 0
    else:
        parsed = core_value(match)
        if parsed is None:
            return None
        value, decimals = parsed
    scale = match.group("scale")
    if scale:
        factor = _SCALES[scale.lower()]
        value *= factor
        decimals -= len(str(factor)) - 1
    if groups.get("sign") in ("-", "−"):
        value = -value
    return Written(value, match.group(0), match.start(), match.end(), decimals, bool(match["pct"]))


def scan_numbers(text: str, *, fractions: bool = False) -> Iterator[Written]:
    """Every number written in ``text``, in order (``fractions``: read ``3/4`` as one)."""
    pattern = _SCAN_WITH_FRACTIONS if fractions else _SCAN
    for match in pattern.finditer(text):
        number = written(match)
        if number is not None:
            yield number


def to_decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal: exact when its expansion ends, else to 50 significant digits."""
    if value.denominator == 1:
        return Decimal(value.numerator)
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(value.numerator) / Decimal(value.denominator)


def format_number(value: Fraction | Decimal, places: int = 6) -> str:
    """``value`` for people: plain digits, at most ``places`` decimals, no trailing zeros."""
    if isinstance(value, Fraction):
        value = to_decimal(value)
    if value == value.to_integral_value():
        return str(value.to_integral_value())
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{value:.{places}e}"


def parse_number(text: str, *, whole: bool = False) -> Decimal | None:
    """The number ``text`` starts with (``"$1,234.50 each"`` → 1234.50, ``"50%"`` → 50,
    ``"3/4"`` → 0.75, ``"-3"`` → -3), or None. Surrounding spaces are ignored; with ``whole``
    nothing may follow the number."""
    text = text.strip()
    match = _SCAN_WITH_FRACTIONS.match(text)
    if match is None or (whole and match.end() != len(text)):
        return None
    number = written(match)
    return None if number is None else to_decimal(number.value)


@dataclass(frozen=True, slots=True)
class FinalAnswer:
    """The final answer of a solution and the rule that found it."""

    value: Decimal
    text: str
    source: Source


_BOXED = re.compile(r"\\boxed\s*\{")
_ANSWER_IS = re.compile(
    r"\b(?:final\s+)?answer\b[*_\s]*(?:is\b|would\s+be\b|will\s+be\b|:|=)[*_\s:]*", re.IGNORECASE
)
_LATEX_FRAC = re.compile(r"\\d?frac\s*\{([^{}]{1,60})\}\s*\{([^{}]{1,60})\}")
_LATEX_NOISE = re.compile(r"\\[,!;: ]|\\text\s*\{[^{}]{0,60}\}|\\(?:left|right)|[{}]")


def _first(text: str) -> Written | None:
    return next(scan_numbers(text, fractions=True), None)


def _last(text: str) -> Written | None:
    found = None
    for found in scan_numbers(text, fractions=True):  # noqa: B007 - keep the last one
        pass
    return found


def _after_hashes(text: str) -> Written | None:
    at = text.rfind("####")
    if at < 0:
        return None
    rest = text[at + 4 : at + 204]
    return _first(rest.split("\n", 1)[0]) or _first(rest)


def _boxed_content(text: str) -> str | None:
    opening = None
    for opening in _BOXED.finditer(text):  # noqa: B007 - keep the last one
        pass
    if opening is None:
        return None
    depth, start = 1, opening.end()
    for index in range(start, min(len(text), start + 500)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    return None


def _in_box(text: str) -> Written | None:
    content = _boxed_content(text)
    if content is None:
        return None
    content = _LATEX_FRAC.sub(r"\1/\2", content)
    content = _LATEX_NOISE.sub("", content).replace("\\$", "$").replace("\\%", "%")
    return _first(content.rsplit("=", 1)[-1])


def _after_answer_phrase(text: str) -> Written | None:
    phrase = None
    for phrase in _ANSWER_IS.finditer(text):  # noqa: B007 - keep the last one
        pass
    if phrase is None:
        return None
    return _first(text[phrase.end() : phrase.end() + 100])


_RULES: tuple[tuple[Source, Callable[[str], Written | None]], ...] = (
    ("####", _after_hashes),
    ("boxed", _in_box),
    ("answer_is", _after_answer_phrase),
    ("last_number", _last),
)


def find_final_answer(text: str) -> FinalAnswer | None:
    """The final answer of ``text`` and where it came from, in this order of priority:

    1. ``####`` (GSM8K): the first number after the last ``####``, on its line;
    2. ``\\boxed{…}``: in the last box, the number after its last ``=``, else its first;
    3. "the answer is X", "final answer: X", "answer = X": the first number in the 100
       characters after the last such phrase;
    4. else the last number in the text.

    A rule that finds no number gives way to the next. Only the last
    :data:`MAX_SCAN_CHARS` characters are read. The percent sign is dropped (``50%`` → 50).
    """
    tail = text[-MAX_SCAN_CHARS:]
    for source, rule in _RULES:
        found = rule(tail)
        if found is not None:
            return FinalAnswer(to_decimal(found.value), found.text.strip(), source)
    return None


def final_answer(text: str) -> Decimal | None:
    """The value of :func:`find_final_answer`, or None when the text has no number."""
    found = find_final_answer(text)
    return None if found is None else found.value
