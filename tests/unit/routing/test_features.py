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

    def check(text: str) -> tuple[int, int]:
        calls.append(text)
        return 2, 1

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
    vector = featurize(record, cascade, lambda text: (1, 0), embedding=[0.5, 0.25, 1.0])
    assert vector.shape == (cascade.width,)
    assert list(vector[-3:]) == [0.5, 0.25, 1.0]
    with pytest.raises(ValueError, match="embedding"):
        featurize(record, cascade)
    assert matrix([record, record], plain).shape == (2, plain.width)
    assert matrix([], plain).shape == (0, plain.width)


def test_recipe_round_trip_and_version() -> None:
    recipe = Recipe(hash_dims=16, char_ngrams=(2, 3), answer=True)
    assert Recipe.from_dict(recipe.to_dict()) == recipe
    with pytest.raises(ValueError, match="version"):
        Recipe.from_dict({**recipe.to_dict(), "version": 2})
