"""Cheap lexical features of a prompt, and of the weak model's answer for a cascade.

A feature vector is, in order:

1. dense prompt features (:data:`PROMPT_FEATURES`): length, digits, numbers, math symbols,
   question words, options, negations, …; with ``recipe.extra`` also the question-shape
   features of :mod:`freehold.routing.grounding`;
2. with ``recipe.answer``, dense answer features (:data:`ANSWER_FEATURES`): length, ``####``,
   calculation steps and wrong steps (from the :data:`AnswerCheck` passed in, so this stage
   never imports the validators), final-answer presence and shape, hedging words, …; with
   ``recipe.extra`` also whether the answer is grounded in the question
   (:mod:`freehold.routing.grounding`);
3. ``recipe.hash_dims`` hashed word n-grams and character n-grams of the prompt (crc32 of
   the n-gram, counts → log(1 + count), the block scaled to unit length);
4. with ``recipe.embedding_dim`` > 0, an embedding vector given by the caller, as is.

Everything a vector depends on is in the :class:`Recipe`, which a trained router stores.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from freehold.routing import grounding
from freehold.routing.grounding import StepFact
from freehold.routing.records import Record

AnswerCheck = Callable[[str], Sequence[StepFact]]
"""Checks an answer's arithmetic: ``text → [(expression, stated, computed, ok), …]``."""

RECIPE_VERSION = 2
#: Recipes this version reads (version 1 had no ``extra`` features).
READABLE_VERSIONS = (1, 2)

PROMPT_FEATURES = (
    "log_chars",
    "log_words",
    "digit_share",
    "log_numbers",
    "log_big_numbers",
    "log_math_symbols",
    "question_words",
    "log_lines",
    "has_options",
    "mean_word_length",
    "negation",
    "percent_or_money",
    "log_stem_chars",
    "log_option_chars",
    "numeric_options",
    "statements",
    "which_of_the_following",
    "above_or_both",
    "capital_share",
)
ANSWER_FEATURES = (
    "has_answer",
    "log_chars",
    "has_hashes",
    "log_steps",
    "any_wrong",
    "log_wrong",
    "no_steps",
    "has_final",
    "final_integer",
    "final_in_steps",
    "hedging",
    "log_numbers",
    "unfinished",
    "length_ratio",
    "prompt_numbers_used",
    "final_in_prompt",
    "final_is_last_result",
    "final_negative",
    "finals_disagree",
    "steps_per_prompt_number",
)

_WORD = re.compile(r"[a-z]+|\d+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MATH = re.compile(r"[+\-*/=^<>%×÷√∑∫]")
_QUESTION = frozenset(
    ("what", "how", "which", "why", "who", "when", "where", "calculate", "compute", "find", "total")
)
_NEGATION = re.compile(r"\b(not|except|false|least|incorrect)\b", re.IGNORECASE)
_OPTIONS = re.compile(r"^\s*[A-D][.)]\s", re.MULTILINE)
_OPTION_TEXT = re.compile(r"^\s*[A-D][.)]\s(.*)$", re.MULTILINE)
_STATEMENTS = re.compile(r"\bstatement \d|^\s*(?:I|II|III|IV)[.)]\s", re.IGNORECASE | re.MULTILINE)
_ABOVE = re.compile(r"\b(all|none) of the above\b|\bboth\b", re.IGNORECASE)
_CAPITAL = re.compile(r"\b[A-Z][a-z]+")
_MONEY = re.compile(r"[$%€£]|percent|dollars?")
_HEDGES = re.compile(
    r"\b(assum\w*|approximately|roughly|unclear|not sure|cannot|can't|impossible|"
    r"however|might|maybe|perhaps|estimate|but wait|mistake|re-?evaluat\w*)\b",
    re.IGNORECASE,
)
_FINAL = re.compile(
    r"####\s*\$?\s*(-?[\d,]*\.?\d+)|answer is[:\s]*\$?\s*(-?[\d,]*\.?\d+)"
    r"|\\boxed\{\s*\$?(-?[\d,]*\.?\d+)",
    re.IGNORECASE,
)
_RESULT = re.compile(r"=\s*\$?\s*(-?[\d,]*\.?\d+)")


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a feature vector is made; stored with every trained router."""

    version: int = RECIPE_VERSION
    hash_dims: int = 1024
    word_ngrams: int = 2
    char_ngrams: tuple[int, ...] = (3,)
    answer: bool = False
    embedding_dim: int = 0
    extra: bool = False

    @property
    def width(self) -> int:
        dense = len(PROMPT_FEATURES) + (len(ANSWER_FEATURES) if self.answer else 0)
        if self.extra:
            dense += len(grounding.PROMPT_EXTRA)
            dense += len(grounding.ANSWER_EXTRA) if self.answer else 0
        return dense + self.hash_dims + self.embedding_dim

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["char_ngrams"] = list(self.char_ngrams)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        if data.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"feature recipe version {data.get('version')!r} is not supported")
        return cls(
            version=RECIPE_VERSION,
            extra=bool(data.get("extra", False)),
            hash_dims=int(data["hash_dims"]),
            word_ngrams=int(data["word_ngrams"]),
            char_ngrams=tuple(int(n) for n in data["char_ngrams"]),
            answer=bool(data["answer"]),
            embedding_dim=int(data.get("embedding_dim", 0)),
        )


def _log(count: float) -> float:
    return math.log1p(count)


def prompt_features(prompt: str) -> list[float]:
    """The dense prompt features, in :data:`PROMPT_FEATURES` order."""
    lower = prompt.lower()
    words = _WORD.findall(lower)
    numbers = _NUMBER.findall(prompt)
    return [
        _log(len(prompt)),
        _log(len(words)),
        sum(ch.isdigit() for ch in prompt) / max(len(prompt), 1),
        _log(len(numbers)),
        _log(sum(1 for n in numbers if len(n) > 3)),
        _log(len(_MATH.findall(prompt))),
        float(sum(1 for w in words if w in _QUESTION)),
        _log(prompt.count("\n")),
        float(len(_OPTIONS.findall(prompt)) >= 2),
        sum(len(w) for w in words) / max(len(words), 1) / 10,
        float(bool(_NEGATION.search(prompt))),
        float(bool(_MONEY.search(lower))),
        *_option_features(prompt),
    ]


def _option_features(prompt: str) -> list[float]:
    """Multiple-choice shape: stem and option lengths, numeric options, statements, …"""
    options = _OPTION_TEXT.findall(prompt)
    first = _OPTIONS.search(prompt)
    stem = prompt[: first.start()] if first else prompt
    numeric = sum(1 for o in options if _NUMBER.search(o))
    words = stem.split()
    return [
        _log(len(stem)),
        _log(sum(len(o) for o in options) / max(len(options), 1)),
        numeric / max(len(options), 1),
        float(bool(_STATEMENTS.search(prompt))),
        float("which of the following" in stem.lower()),
        float(bool(_ABOVE.search(prompt))),
        len(_CAPITAL.findall(stem)) / max(len(words), 1),
    ]


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _finals(answer: str) -> list[float]:
    """Every stated final answer (``####``, "answer is", ``\\boxed``), in order."""
    found = [_number(next(g for g in m.groups() if g is not None)) for m in _FINAL.finditer(answer)]
    return [f for f in found if f is not None]


def _numbers(text: str) -> set[float]:
    return {n for n in map(_number, _NUMBER.findall(text)) if n is not None}


def answer_features(answer: str | None, prompt: str, check: AnswerCheck | None) -> list[float]:
    """The dense answer features, in :data:`ANSWER_FEATURES` order (zeros with no answer)."""
    if not answer:
        return [0.0] * len(ANSWER_FEATURES)
    steps = check(answer) if check is not None else ()
    checked, wrong = len(steps), sum(1 for step in steps if not step[3])
    finals = _finals(answer)
    final = finals[-1] if finals else None
    found = [_number(m) for m in _RESULT.findall(answer)]
    results = set(found)
    given, used = _numbers(prompt), _numbers(answer)
    tail = answer.rstrip()[-1:]
    return [
        1.0,
        _log(len(answer)),
        float("####" in answer),
        _log(checked),
        float(wrong > 0),
        _log(wrong),
        float(checked == 0),
        float(final is not None),
        float(final is not None and final == int(final)),
        float(final is not None and final in results),
        _log(len(_HEDGES.findall(answer))),
        _log(len(_NUMBER.findall(answer))),
        float(bool(tail) and tail.isalnum() and not tail.isdigit()),
        _log(len(answer) / max(len(prompt), 1)),
        len(given & used) / max(len(given), 1),
        float(final is not None and final in given),
        float(final is not None and bool(found) and found[-1] == final),
        float(final is not None and final < 0),
        float(len(set(finals)) > 1),
        _log(checked) - _log(len(given)),
    ]


def _ngrams(prompt: str, recipe: Recipe) -> list[str]:
    lower = prompt.lower()
    words = _WORD.findall(lower)
    grams = [
        "w:" + " ".join(words[i : i + n])
        for n in range(1, recipe.word_ngrams + 1)
        for i in range(len(words) - n + 1)
    ]
    squeezed = " ".join(lower.split())
    for n in recipe.char_ngrams:
        grams.extend("c:" + squeezed[i : i + n] for i in range(len(squeezed) - n + 1))
    return grams


def hashed_features(prompt: str, recipe: Recipe) -> NDArray[np.float64]:
    """Hashed n-gram counts of the prompt, log-scaled and normalised to unit length."""
    block = np.zeros(recipe.hash_dims)
    if recipe.hash_dims <= 0:
        return block
    for gram in _ngrams(prompt, recipe):
        block[zlib.crc32(gram.encode()) % recipe.hash_dims] += 1.0
    block = np.log1p(block)
    norm = float(np.linalg.norm(block))
    return block / norm if norm else block


def featurize(
    record: Record,
    recipe: Recipe,
    check: AnswerCheck | None = None,
    embedding: Sequence[float] | None = None,
) -> NDArray[np.float64]:
    """The feature vector of one record under ``recipe``."""
    parts: list[NDArray[np.float64]] = [np.array(prompt_features(record.prompt))]
    if recipe.extra:
        parts.append(np.array(grounding.prompt_extra(record.prompt)))
    if recipe.answer:
        answer, prompt = record.weak_response, record.prompt
        steps = check(answer) if check is not None and answer else ()
        parts.append(np.array(answer_features(answer, prompt, lambda _: steps)))
        if recipe.extra:
            finals = _finals(answer) if answer else []
            final = finals[-1] if finals else None
            parts.append(np.array(grounding.answer_extra(prompt, answer, steps, final)))
    parts.append(hashed_features(record.prompt, recipe))
    if recipe.embedding_dim:
        if embedding is None or len(embedding) != recipe.embedding_dim:
            raise ValueError(f"this recipe needs an embedding of {recipe.embedding_dim} values")
        parts.append(np.asarray(embedding, dtype=np.float64))
    return np.concatenate(parts)


def matrix(
    records: Sequence[Record],
    recipe: Recipe,
    check: AnswerCheck | None = None,
    embeddings: Sequence[Sequence[float]] | None = None,
) -> NDArray[np.float64]:
    """Feature vectors of many records, one row each."""
    rows = [
        featurize(r, recipe, check, embeddings[i] if embeddings is not None else None)
        for i, r in enumerate(records)
    ]
    return np.vstack(rows) if rows else np.zeros((0, recipe.width))
