"""Grounding features: traces of an answer that misread its question."""

from __future__ import annotations

import math

from freehold.routing.grounding import (
    ANSWER_EXTRA,
    PROMPT_EXTRA,
    answer_extra,
    numbers,
    prompt_extra,
)

PROMPT = "Ann has 12 apples and buys seven times as many pears. How many fruits does she have?"


def features(
    answer: str, steps: list[tuple[str, str, float, bool]], final: float | None
) -> dict[str, float]:
    return dict(zip(ANSWER_EXTRA, answer_extra(PROMPT, answer, steps, final), strict=True))


def test_numbers_read_separators_money_and_percent() -> None:
    assert numbers("It costs $1,250.50, up 12% from 3 items") == [1250.5, 12.0, 3.0]


def test_a_grounded_answer() -> None:
    answer = "Pears: 12 * 7 = 84. Fruits: 12 + 84 = 96.\n#### 96"
    steps = [("12 * 7", "84", 84.0, True), ("12 + 84", "96", 96.0, True)]
    f = features(answer, steps, 96.0)
    assert f["final_is_last_result"] == 1.0 and f["no_final"] == 0.0
    assert f["unused_quantity_share"] == 0.0 and f["any_unused_mention"] == 0.0
    assert f["any_ungrounded_operand"] == 0.0 and f["log_numbers_from_nowhere"] == 0.0
    assert f["fractional_count"] == 0.0


def test_a_misread_answer_leaves_traces() -> None:
    # ignores "seven times", invents 27, and ends on a fraction for a "how many" question
    answer = "She gets 27 pears. 27 / 12 = 2.25 so the answer is 2.25"
    steps = [("27 / 12", "2.25", 2.25, True)]
    f = features(answer, steps, 2.25)
    assert f["any_ungrounded_operand"] == 1.0  # 27 is neither given nor computed
    assert f["any_unused_mention"] == 1.0  # "seven" never used
    assert f["log_unused_number_words"] == math.log1p(1)
    assert f["log_numbers_from_nowhere"] > 0
    assert f["fractional_count"] == 1.0


def test_no_answer_is_all_zeros_and_prompt_shape() -> None:
    assert answer_extra(PROMPT, None, [], None) == [0.0] * len(ANSWER_EXTRA)
    shape = dict(zip(PROMPT_EXTRA, prompt_extra(PROMPT), strict=True))
    assert shape["how_many"] == 1.0 and shape["percent"] == 0.0
    assert shape["log_comparisons"] > 0  # "times as"
