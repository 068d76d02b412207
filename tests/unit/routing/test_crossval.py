"""Cross-validation folds: grouped by task, deterministic, covering every record once."""

from __future__ import annotations

import pytest

from freehold.routing import crossval

TASKS = [f"mmlu/{name}" for name in "abcdefghijkl" for _ in range(1 + ord(name) % 5)]


def test_no_task_is_in_both_train_and_test() -> None:
    pairs = crossval.splits(TASKS, k=5)
    assert len(pairs) == 5
    for train, test in pairs:
        assert {TASKS[i] for i in train}.isdisjoint({TASKS[i] for i in test})
        assert sorted(train + test) == list(range(len(TASKS)))


def test_every_record_is_tested_once() -> None:
    tested = [i for _, test in crossval.splits(TASKS) for i in test]
    assert sorted(tested) == list(range(len(TASKS)))


def test_folds_are_deterministic_and_depend_on_the_seed() -> None:
    assert crossval.folds(TASKS) == crossval.folds(TASKS)
    one_task = ["gsm8k"] * 50
    assert crossval.folds(one_task, seed=1) != crossval.folds(one_task, seed=2)


def test_one_task_is_plain_k_fold() -> None:
    folds = crossval.folds(["gsm8k"] * 23, k=5)
    assert len(folds) == 5
    assert sorted(len(f) for f in folds) == [4, 4, 5, 5, 5]
    assert sorted(i for f in folds for i in f) == list(range(23))


def test_fewer_tasks_than_folds() -> None:
    folds = crossval.folds(["a", "a", "b", "c", "c"], k=5)
    assert len(folds) == 3


def test_one_fold_is_refused() -> None:
    with pytest.raises(ValueError, match="two folds"):
        crossval.folds(["a"], k=1)
