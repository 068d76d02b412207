"""Routing records: recorded outcomes of a weak and a strong model, for offline replay.

One JSON object per line (see the benchmark README): ``id``, ``task``, ``prompt``,
optional ``reference`` and ``outcomes`` (model name → ``score`` and optional ``response``).

A loaded :class:`Example` keeps apart what a policy may read (:class:`Record`: the prompt,
the task and the weak model's response, which a cascade has paid for) from what only the
evaluator may read (:class:`Truth`: both scores and the token counts that price each call).
The strong model's response and the ``reference`` never reach a policy.

Scores are normalised to 0–1 by the range seen in the file (both models together), so
graded scores (1–10) and 0/1 correctness read the same way.

Costs: blended $/Mtok × (prompt tokens + completion tokens), tokens counted with
:func:`freehold.core.tokens.estimate_text_tokens`; a model whose response text is not in
the file is assumed to write :data:`DEFAULT_COMPLETION_TOKENS` tokens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.core.tokens import estimate_text_tokens

DEFAULT_COMPLETION_TOKENS = 264
"""Completion tokens assumed where a response text is missing (RouteLLM's average)."""

PRICES_PER_MTOK: dict[str, float] = {
    "gpt-4-1106-preview": 24.7,
    "mixtral-8x7b-instruct-v0.1": 0.24,
}
"""Blended $ per million tokens, as RouteLLM assumed for this pair (paper, appendix D)."""

COST_ASSUMPTION = (
    f"cost = blended $/Mtok x (prompt + completion tokens); tokens estimated with "
    f"freehold.core.tokens.estimate_text_tokens; {DEFAULT_COMPLETION_TOKENS} completion "
    f"tokens where no response text is recorded"
)


class RecordError(ValueError):
    """A routing-record file that cannot be read, or models that cannot be told apart."""


@dataclass(frozen=True, slots=True)
class Record:
    """What a routing policy may read."""

    id: str
    task: str
    prompt: str
    weak_response: str | None = None


@dataclass(frozen=True, slots=True)
class Truth:
    """What only the evaluator reads: normalised scores and per-call costs in dollars."""

    weak_score: float
    strong_score: float
    weak_cost: float
    strong_cost: float


@dataclass(frozen=True, slots=True)
class Example:
    """A record and its recorded outcome."""

    record: Record
    truth: Truth


@dataclass(frozen=True, slots=True)
class Pair:
    """The two models of a file: the cheaper one is ``weak``."""

    weak: str
    strong: str


def read_lines(path: str | Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped)."""
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("outcomes"), dict):
                raise RecordError(f"{path}:{number}: a record needs an 'outcomes' object")
            rows.append(row)
    return rows


def choose_pair(
    rows: Sequence[dict[str, Any]], weak: str | None = None, strong: str | None = None
) -> Pair:
    """Which model is weak and which strong: the names given, else the price table."""
    models = sorted({name for row in rows for name in row["outcomes"]})
    if weak and strong:
        return Pair(weak, strong)
    others = [m for m in models if m not in (weak, strong)]
    if weak or strong:
        if len(others) != 1:
            raise RecordError(f"cannot tell the other model apart among {models}")
        return Pair(weak, others[0]) if weak else Pair(others[0], strong or "")
    if len(models) != 2:
        raise RecordError(f"expected two models, found {models}: name them with --weak/--strong")
    unpriced = [m for m in models if m not in PRICES_PER_MTOK]
    if unpriced:
        raise RecordError(f"no price for {unpriced}: name the models with --weak/--strong")
    cheap, dear = sorted(models, key=lambda m: PRICES_PER_MTOK[m])
    return Pair(cheap, dear)


def _price(model: str, prices: dict[str, float]) -> float:
    if model not in prices:
        raise RecordError(f"no price for model {model!r}")
    return prices[model]


def _completion_tokens(outcome: dict[str, Any]) -> int:
    response = outcome.get("response")
    if isinstance(response, str) and response:
        return estimate_text_tokens(response)
    return DEFAULT_COMPLETION_TOKENS


def _score_range(rows: Sequence[dict[str, Any]], pair: Pair) -> tuple[float, float]:
    scores = [float(row["outcomes"][m]["score"]) for row in rows for m in (pair.weak, pair.strong)]
    low, high = min(scores, default=0.0), max(scores, default=1.0)
    return (low, high) if high > low else (low, low + 1.0)


def _example(
    row: dict[str, Any], pair: Pair, span: tuple[float, float], prices: dict[str, float]
) -> Example:
    weak_out, strong_out = row["outcomes"][pair.weak], row["outcomes"][pair.strong]
    prompt = str(row.get("prompt", ""))
    prompt_tokens = estimate_text_tokens(prompt)
    response = weak_out.get("response")
    record = Record(
        id=str(row.get("id", "")),
        task=str(row.get("task", "")),
        prompt=prompt,
        weak_response=response if isinstance(response, str) else None,
    )
    low, high = span
    truth = Truth(
        weak_score=(float(weak_out["score"]) - low) / (high - low),
        strong_score=(float(strong_out["score"]) - low) / (high - low),
        weak_cost=_price(pair.weak, prices) * (prompt_tokens + _completion_tokens(weak_out)) / 1e6,
        strong_cost=_price(pair.strong, prices)
        * (prompt_tokens + _completion_tokens(strong_out))
        / 1e6,
    )
    return Example(record, truth)


def to_examples(
    rows: Sequence[dict[str, Any]], pair: Pair, prices: dict[str, float] | None = None
) -> list[Example]:
    """Examples from parsed rows; every row must carry a score for both models."""
    table = PRICES_PER_MTOK if prices is None else prices
    for index, row in enumerate(rows):
        for model in (pair.weak, pair.strong):
            outcome = row["outcomes"].get(model)
            if not isinstance(outcome, dict) or not isinstance(outcome.get("score"), int | float):
                raise RecordError(f"record {row.get('id', index)!r}: no score for {model!r}")
    span = _score_range(rows, pair)
    return [_example(row, pair, span, table) for row in rows]


def load_examples(
    paths: Iterable[str | Path],
    weak: str | None = None,
    strong: str | None = None,
    prices: dict[str, float] | None = None,
) -> tuple[list[Example], Pair]:
    """The examples of one or more record files (read together) and their model pair."""
    rows = [row for path in paths for row in read_lines(path)]
    if not rows:
        raise RecordError("no records")
    pair = choose_pair(rows, weak, strong)
    return to_examples(rows, pair, prices), pair


def fingerprint(examples: Iterable[Example]) -> str:
    """sha256 of the examples (ids, tasks, prompts, weak responses, scores), in order."""
    digest = hashlib.sha256()
    for example in examples:
        r, t = example.record, example.truth
        item = [r.id, r.task, r.prompt, r.weak_response, t.weak_score, t.strong_score]
        digest.update(json.dumps(item, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def served_examples(outcomes: Iterable[tuple[str, str, str, float]]) -> list[Example]:
    """Examples from served traffic: ``(request id, prompt, cheap model's answer, score)``
    where the score (0..1) judges that answer. The strong model is assumed right (its
    answers are what the cheap one is measured against); costs are not known here."""
    return [
        Example(
            Record(id=request_id, task="served", prompt=prompt, weak_response=answer),
            Truth(weak_score=score, strong_score=1.0, weak_cost=0.0, strong_cost=0.0),
        )
        for request_id, prompt, answer, score in outcomes
    ]
