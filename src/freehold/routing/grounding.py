"""Whether a cheap answer to a word problem is grounded in its question: the second-generation
answer features of a cascade's verifier (recipe ``extra``), and prompt features that predict
how hard the question is for any model.

An answer whose arithmetic is right can still be wrong: it misreads the question. The signals
here catch the visible traces of that: quantities of the question the answer never uses
(digits and number words: "seven times", "a dozen"), numbers in the answer that come from
nowhere (not in the question, not computed, not a common constant), step operands that are
neither given nor earlier results, a final answer that is not the last result computed, a
fractional count, self-corrections and rounding talk. They were chosen on the GSM8K
development records only (see docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

#: One checked calculation: (expression, stated result, computed result, correct?).
StepFact = tuple[str, str, float, bool]

_NUM = re.compile(r"(?<![\w.])-?\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?%?")
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_CARDINALS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "twice": 2, "double": 2, "triple": 3, "thrice": 3, "half": 2, "third": 3,
    "quarter": 4, "dozen": 12,
}  # fmt: skip
_CARDINAL_WORD = re.compile(r"\b(" + "|".join(_CARDINALS) + r")s?\b", re.IGNORECASE)
#: Words that imply a quantity without a digit (a week has 7 days, percent means /100).
_IMPLIED = {
    "one": 1, "week": 7, "hour": 60, "minute": 60, "year": 12, "month": 30, "day": 24,
    "percent": 100, "fourth": 4, "fifth": 5, "thousand": 1000,
    **_CARDINALS,
}  # fmt: skip
_CONSTANTS = {0.0, 1.0, 2.0, 100.0, 0.5}
_COMMON = {0.0, 1.0, 7.0, 12.0, 24.0, 30.0, 52.0, 60.0, 100.0, 365.0}
_ROUNDING = re.compile(
    r"\b(round\w*|approximately|about|nearest|can't|cannot|whole number|partial|fraction of a)\b",
    re.IGNORECASE,
)
_CORRECTIONS = re.compile(
    r"\b(wait|actually|mistake|however|but since|instead|correct(?:ion|ed)?|re-?calculat\w*|"
    r"let's try|let me)\b",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(r"\bhow many\b", re.IGNORECASE)
_MONEY = re.compile(r"\$|\bdollars?\b|\bcents?\b|\bcost\b|\bearn|\bpay|\bspend|\bprice\b", re.I)
_PERCENT = re.compile(r"%|percent", re.IGNORECASE)
_FRACTION = re.compile(r"\b\d+/\d+\b|\bhalf\b|\bthird\b|\bquarter\b|\bfourth\b|\bfifth\b", re.I)
_COMPARISON = re.compile(r"\b(more|less|fewer|longer|shorter|older|younger|than|times as)\b", re.I)
_DIFFERENCE = re.compile(
    r"\b(how much more|how many more|how much less|how many fewer|difference|left|remain)", re.I
)
_SENTENCE_END = re.compile(r"[.!?](\s|$)")

PROMPT_EXTRA = (
    "log_quantities",
    "percent",
    "fraction",
    "log_comparisons",
    "how_many",
    "money",
    "difference",
    "log_sentences",
    "log_implied_quantities",
    "fractional_quantity",
)
ANSWER_EXTRA = (
    "log_ungrounded_operands",
    "ungrounded_operand_share",
    "any_ungrounded_operand",
    "unused_quantity_share",
    "two_unused_quantities",
    "fractional_final",
    "fractional_count",
    "zero_final",
    "final_magnitude",
    "final_is_last_result",
    "final_seen_before",
    "no_final",
    "log_distinct_results",
    "results_per_quantity",
    "log_rounding",
    "log_corrections",
    "any_wrong_step",
    "last_step_wrong",
    "log_fractional_results",
    "negative_result",
    "many_paragraphs",
    "length_ratio",
    "asks_back",
    "no_number_at_end",
    "unused_mention_share",
    "any_unused_mention",
    "log_unused_number_words",
    "log_numbers_from_nowhere",
    "share_numbers_from_nowhere",
)


def _key(value: float) -> float:
    return round(float(value), 4)


def numbers(text: str) -> list[float]:
    """Every number written in ``text`` (thousands separators, ``$`` and ``%`` dropped)."""
    found = []
    for match in _NUM.finditer(text):
        raw = match.group(0).replace("$", "").replace(",", "").rstrip("%")
        try:
            found.append(float(raw))
        except ValueError:
            continue
    return found


def _implied(prompt: str) -> set[float]:
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    return {_key(v) for w, v in _IMPLIED.items() if w in words or w + "s" in words}


def prompt_extra(prompt: str) -> list[float]:
    """Question-shape features, in :data:`PROMPT_EXTRA` order."""
    given = numbers(prompt)
    return [
        math.log1p(len({_key(x) for x in given})),
        float(bool(_PERCENT.search(prompt))),
        float(bool(_FRACTION.search(prompt))),
        math.log1p(len(_COMPARISON.findall(prompt))),
        float(bool(_HOW_MANY.search(prompt))),
        float(bool(_MONEY.search(prompt))),
        float(bool(_DIFFERENCE.search(prompt))),
        math.log1p(len(_SENTENCE_END.findall(prompt))),
        math.log1p(len(_implied(prompt))),
        float(any(abs(x - round(x)) > 1e-9 for x in given)),
    ]


def answer_extra(
    prompt: str, answer: str | None, steps: Sequence[StepFact], final: float | None
) -> list[float]:
    """Grounding features of ``answer``, in :data:`ANSWER_EXTRA` order (zeros without one).
    ``steps`` are its checked calculations and ``final`` its stated final answer."""
    if not answer:
        return [0.0] * len(ANSWER_EXTRA)
    given_list = numbers(prompt)
    given = {_key(x) for x in given_list}
    quantities = given | {_key(x / 100) for x in given_list}
    implied = _implied(prompt)
    computed = [_key(s[2]) for s in steps]
    wrong = [s for s in steps if not s[3]]
    seen: set[float] = set()
    operands = ungrounded = 0
    for expression, stated, result, _ in steps:
        for x in map(_key, numbers(expression)):
            operands += 1
            if x not in quantities and x not in implied and x not in _CONSTANTS and x not in seen:
                ungrounded += 1
        seen.add(_key(result))
        seen.update(_key(x) for x in numbers(stated))
    prose = _ANNOTATION.sub(" ", answer)
    in_prose = [_key(x) for x in numbers(prose)]
    in_steps = {_key(x) for s in steps for x in numbers(s[0])}
    used = len(given & (set(in_prose) | in_steps))
    integer = final is not None and abs(final - round(final)) < 1e-9
    largest = max([abs(x) for x in given_list] + [1.0])
    last = computed[-1] if computed else None
    distinct = math.log1p(len(set(computed)))
    return [
        math.log1p(ungrounded),
        ungrounded / max(operands, 1),
        float(ungrounded > 0),
        1.0 - used / max(len(given), 1),
        float(len(given) - used >= 2),
        float(final is not None and not integer),
        float(final is not None and not integer and bool(_HOW_MANY.search(prompt))),
        float(final is not None and final == 0),
        math.log10(abs(final) + 1) - math.log10(largest + 1) if final is not None else 0.0,
        float(final is not None and last is not None and _key(final) == last),
        float(final is not None and _key(final) in set(in_prose[:-1]) | set(computed)),
        float(final is None),
        distinct,
        distinct - math.log1p(len(given)),
        math.log1p(len(_ROUNDING.findall(answer))),
        math.log1p(len(_CORRECTIONS.findall(answer))),
        float(bool(wrong)),
        float(bool(steps) and not steps[-1][3]),
        math.log1p(sum(1 for c in computed if abs(c - round(c)) > 1e-9)),
        float(any(c < 0 for c in computed)),
        float(answer.count("\n\n") > 3),
        math.log1p(len(answer)) - math.log1p(len(prompt)),
        float("?" in answer),
        float(not answer.rstrip().endswith(tuple("0123456789")) and "####" not in answer),
        *_mentions(prompt, answer, given, computed),
    ]


def _mentions(
    prompt: str, answer: str, given: set[float], computed: Sequence[float]
) -> list[float]:
    """Quantities of the question (digits and number words) the answer never mentions, and
    numbers in the answer's prose that come from nowhere."""
    lower = answer.lower()
    mentioned = {_key(x) for x in numbers(answer)}
    unused_digits = [d for d in given if d not in mentioned and _key(d / 100) not in mentioned]
    words = {m.group(1).lower() for m in _CARDINAL_WORD.finditer(prompt)}
    unused_words = [
        w
        for w in words
        if _CARDINALS[w] not in mentioned
        and w not in lower
        and not (w == "half" and (0.5 in mentioned or "/ 2" in lower or "/2" in lower))
    ]
    total = len(given) + len(words)
    unused = len(unused_digits) + len(unused_words)
    known = (
        given
        | {_key(v) for v in _CARDINALS.values()}
        | set(computed)
        | {_key(d / 100) for d in given}
        | _COMMON
    )
    prose = [_key(x) for x in numbers(_ANNOTATION.sub(" ", answer))]
    nowhere = [x for x in prose if x not in known]
    return [
        unused / max(total, 1),
        float(unused > 0),
        math.log1p(len(unused_words)),
        math.log1p(len(nowhere)),
        len(nowhere) / max(len(prose), 1),
    ]
