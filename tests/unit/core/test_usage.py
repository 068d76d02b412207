"""Token counts an upstream reports are believed only when they are whole numbers in range."""

from __future__ import annotations

from typing import Any

import pytest

from freehold.core.types import (
    MAX_REPORTED_TOKENS,
    check_openai_usage,
    token_count,
)


@pytest.mark.parametrize("value", [0, 1, 12345, MAX_REPORTED_TOKENS])
def test_counts_in_range_are_believed(value: int) -> None:
    assert token_count(value) == value


@pytest.mark.parametrize(
    "value",
    [-1, -1_000_000, MAX_REPORTED_TOKENS + 1, 2**63, True, False, 3.0, 3.5, "7", None, [1], {}],
)
def test_other_counts_are_not(value: Any) -> None:
    assert token_count(value) is None


def test_good_usage() -> None:
    usage, problem = check_openai_usage(
        {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9, "details": {"x": 1}}
    )
    assert problem is None
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (7, 2, False)


def test_absent_usage_is_no_problem() -> None:
    assert check_openai_usage(None) == (None, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            {"prompt_tokens": 2**63, "completion_tokens": 1},
            f"usage.prompt_tokens is {2**63}, expected a whole number from 0 to 1000000000",
        ),
        (
            {"prompt_tokens": -1_000_000, "completion_tokens": 1},
            "usage.prompt_tokens is -1000000, expected a whole number from 0 to 1000000000",
        ),
        (
            {"prompt_tokens": 1, "completion_tokens": True},
            "usage.completion_tokens is a boolean, expected a whole number from 0 to 1000000000",
        ),
        ({"prompt_tokens": 1}, "usage.completion_tokens is missing"),
        (
            {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": -2},
            "usage.total_tokens is -2, expected a whole number from 0 to 1000000000",
        ),
        ("lots", "usage is a string, expected an object"),
    ],
)
def test_unbelievable_usage_names_the_field(raw: Any, problem: str) -> None:
    assert check_openai_usage(raw) == (None, problem)
