"""Lexical features of prompts and weak answers."""

from __future__ import annotations

import numpy as np
import pytest

from freehold.routing.features import (
    ANSWER_FEATURES,
    PROMPT_FEATURES,
    Recipe,
    answer_features,
    featurize,
    hashed_features,
    matrix,
    prompt_features,
)
from freehold.routing.records import Record

PROMPT = "Tom has 3 apples and buys 12 more at $2 each. How many apples does he have?"
ANSWER = "He buys 12 apples, so 3 + 12 = 15.\n#### 15"


def test_prompt_features_read_numbers_and_questions() -> None:
    values = dict(zip(PROMPT_FEATURES, prompt_features(PROMPT), strict=True))
    assert values["log_numbers"] == pytest.approx(np.log1p(3))
    assert values["question_words"] == 1.0  # "how"
    assert values["percent_or_money"] == 1.0
    assert values["has_options"] == 0.0
    assert prompt_features("Q\nA. x\nB. y\nC. z")[PROMPT_FEATURES.index("has_options")] == 1.0


def test_answer_features_use_the_check_passed_in() -> None:
    calls: list[str] = []

    def check(text: str) -> list[tuple[str, str, float, bool]]:
        calls.append(text)
        return [("3 + 12", "15", 15.0, True), ("15 * 2", "31", 30.0, False)]

    values = dict(zip(ANSWER_FEATURES, answer_features(ANSWER, PROMPT, check), strict=True))
    assert calls == [ANSWER]
    assert values["has_hashes"] == 1.0 and values["has_final"] == 1.0
    assert values["final_integer"] == 1.0 and values["final_is_last_result"] == 1.0
    assert values["any_wrong"] == 1.0 and values["log_steps"] == pytest.approx(np.log1p(2))
    assert values["prompt_numbers_used"] == pytest.approx(2 / 3)


def test_hedging_and_missing_final_answer() -> None:
    values = dict(
        zip(
            ANSWER_FEATURES,
            answer_features("Maybe 7, but I am not sure", PROMPT, None),
            strict=True,
        )
    )
    assert values["hedging"] > 0 and values["has_final"] == 0.0
    assert answer_features(None, PROMPT, None) == [0.0] * len(ANSWER_FEATURES)


def test_hashed_block_is_unit_length_and_stable() -> None:
    recipe = Recipe(hash_dims=64)
    block = hashed_features(PROMPT, recipe)
    assert float(np.linalg.norm(block)) == pytest.approx(1.0)
    assert np.array_equal(block, hashed_features(PROMPT, recipe))
    assert not np.array_equal(block, hashed_features("something else entirely", recipe))


def test_vector_width_matches_the_recipe_and_takes_an_embedding() -> None:
    record = Record("a", "t", PROMPT, ANSWER)
    plain = Recipe(hash_dims=32)
    assert featurize(record, plain).shape == (plain.width,)
    cascade = Recipe(hash_dims=32, answer=True, embedding_dim=3)
    steps = [("3 + 12", "15", 15.0, True)]
    vector = featurize(record, cascade, lambda text: steps, embedding=[0.5, 0.25, 1.0])
    assert vector.shape == (cascade.width,)
    assert list(vector[-3:]) == [0.5, 0.25, 1.0]
    with pytest.raises(ValueError, match="embedding"):
        featurize(record, cascade)
    assert matrix([record, record], plain).shape == (2, plain.width)
    assert matrix([], plain).shape == (0, plain.width)


def test_recipe_round_trip_and_version() -> None:
    recipe = Recipe(hash_dims=16, char_ngrams=(2, 3), answer=True, extra=True)
    assert Recipe.from_dict(recipe.to_dict()) == recipe
    old = {k: v for k, v in recipe.to_dict().items() if k != "extra"}
    assert Recipe.from_dict({**old, "version": 1}) == Recipe(
        hash_dims=16, char_ngrams=(2, 3), answer=True
    )
    with pytest.raises(ValueError, match="version"):
        Recipe.from_dict({**recipe.to_dict(), "version": 3})


def test_extra_features_widen_the_vector_in_order() -> None:
    from freehold.routing import grounding

    record = Record("a", "t", PROMPT, ANSWER)
    steps = [("3 + 12", "15", 15.0, True)]
    plain = Recipe(hash_dims=0, answer=True)
    extra = Recipe(hash_dims=0, answer=True, extra=True)
    assert extra.width == plain.width + len(grounding.PROMPT_EXTRA) + len(grounding.ANSWER_EXTRA)
    vector = featurize(record, extra, lambda text: steps)
    n = len(PROMPT_FEATURES)
    assert list(vector[n : n + len(grounding.PROMPT_EXTRA)]) == grounding.prompt_extra(PROMPT)
    tail = list(vector[-len(grounding.ANSWER_EXTRA) :])
    assert tail == grounding.answer_extra(PROMPT, ANSWER, steps, 15.0)
