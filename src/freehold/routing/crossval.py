"""Cross-validation folds for routing records, grouped by task.

With more than one task, whole tasks are dealt to folds so that every test fold holds only
topics unseen in its training folds: tasks are shuffled with a fixed seed, then taken
largest first and each given to the fold with the fewest records so far (balanced sizes).
With fewer tasks than folds there are as many folds as tasks. With one task, records are
shuffled with the seed and split into ``k`` near-equal plain folds. Same input, same folds.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

DEFAULT_FOLDS = 5
DEFAULT_SEED = 20240601


def _task_folds(tasks: Sequence[str], k: int, seed: int) -> list[list[int]]:
    members: dict[str, list[int]] = defaultdict(list)
    for index, task in enumerate(tasks):
        members[task].append(index)
    names = sorted(members)
    random.Random(seed).shuffle(names)
    names.sort(key=lambda name: -len(members[name]))  # stable: shuffled order breaks ties
    folds: list[list[int]] = [[] for _ in range(min(k, len(names)))]
    for name in names:
        smallest = min(range(len(folds)), key=lambda f: len(folds[f]))
        folds[smallest].extend(members[name])
    return [sorted(fold) for fold in folds]


def _plain_folds(n: int, k: int, seed: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = max(1, min(k, n))
    return [sorted(order[f::k]) for f in range(k)]


def folds(
    tasks: Sequence[str], k: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> list[list[int]]:
    """Test-fold indices: grouped by task when there are several tasks, else plain k-fold."""
    if k < 2:
        raise ValueError("cross-validation needs at least two folds")
    if len(set(tasks)) > 1:
        return _task_folds(tasks, k, seed)
    return _plain_folds(len(tasks), k, seed)


def splits(
    tasks: Sequence[str], k: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> list[tuple[list[int], list[int]]]:
    """``(train, test)`` index lists, one pair per fold."""
    test_folds = folds(tasks, k, seed)
    everything = set(range(len(tasks)))
    return [(sorted(everything - set(test)), test) for test in test_folds]
