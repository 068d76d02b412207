"""Finding the rows a working store refuses, inside a batch that failed.

A batch fails as a whole (one transaction). Whether that is the store's fault (an outage:
retry everything later) or a row's (a value the store cannot keep: set that row aside, write
the others) is decided by the store itself: :func:`isolate` writes the batch in halves, and a
half that fails is split again only while the store's probe (a write of its own) still
passes. A row that fails on its own right after the store was shown working is *refused*;
when the probe fails the store is down, and whatever has not been written is *unresolved*
(to retry). One bad row in a batch of ``n`` costs about ``3·log2(n)`` store calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Isolated(Generic[T]):
    """The outcome: items written, items refused (with the error each failed with alone),
    and items left to retry because the store went down meanwhile."""

    written: list[T] = field(default_factory=list)
    refused: list[tuple[T, Exception]] = field(default_factory=list)
    unresolved: list[T] = field(default_factory=list)


def isolate(
    items: Sequence[T],
    error: Exception,
    write: Callable[[Sequence[T]], None],
    probe: Callable[[], bool],
) -> Isolated[T]:
    """Split ``items``, which failed together with ``error`` after which ``probe()`` passed,
    until each part is written, refused alone, or left unresolved by an outage."""
    out: Isolated[T] = Isolated()
    _split(list(items), error, write, probe, out)
    return out


def _split(
    items: list[T],
    error: Exception,
    write: Callable[[Sequence[T]], None],
    probe: Callable[[], bool],
    out: Isolated[T],
) -> None:
    if out.unresolved:  # the store went down: stop splitting, retry the rest later
        out.unresolved.extend(items)
        return
    if len(items) == 1:
        out.refused.append((items[0], error))
        return
    middle = len(items) // 2
    for half in (items[:middle], items[middle:]):
        if out.unresolved:
            out.unresolved.extend(half)
            continue
        try:
            write(half)
        except Exception as exc:  # a store may raise anything; the probe tells what it meant
            if probe():
                _split(half, exc, write, probe, out)
            else:
                out.unresolved.extend(half)
        else:
            out.written.extend(half)
