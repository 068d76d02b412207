"""Matching the model name a client wrote to a configured model or route: exactly, else
ignoring case where only one configured name matches (``smollm2-135m`` finds
``SmolLM2-135M``); two names that differ only in case match exactly or not at all."""

from __future__ import annotations

from collections.abc import Iterable


def by_folded_case(names: Iterable[str]) -> dict[str, list[str]]:
    """``names`` grouped by their case-folded form, for :func:`canonical_name`."""
    index: dict[str, list[str]] = {}
    for name in names:
        index.setdefault(name.casefold(), []).append(name)
    return index


def canonical_name(name: str, index: dict[str, list[str]]) -> str | None:
    """The configured name ``name`` refers to among those indexed by :func:`by_folded_case`:
    itself when it is one of them exactly, else the only one equal to it ignoring case, else
    None (unknown, or ambiguous)."""
    candidates = index.get(name.casefold(), [])
    if name in candidates:
        return name
    return candidates[0] if len(candidates) == 1 else None
