"""What a detector reports, and the one-method interface every detector implements.

A detector is built once and then called on many texts; ``find`` is pure and never raises
for any string. Example::

    detector = EmailDetector()
    [f] = detector.find("write to ana@example.org")
    (f.kind, f.category, f.start, f.end)  # ('email', 'pii', 9, 24)

A :class:`Finding` carries the matched ``value`` because redaction needs it, but its
``repr`` (and so any log line or assertion message that prints it) shows only a length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Category = Literal["pii", "secret", "custom"]


@dataclass(frozen=True, slots=True, repr=False)
class Finding:
    """One sensitive span: ``text[start:end] == value``."""

    kind: str
    """What was found: ``email``, ``card``, ``aws_access_key_id``, ``term:<label>``, …"""
    category: Category
    start: int
    end: int
    value: str
    """The matched text. Never log it; ``repr`` hides it."""

    def __repr__(self) -> str:
        return (
            f"Finding(kind={self.kind!r}, category={self.category!r}, "
            f"start={self.start}, end={self.end}, value=<{len(self.value)} chars>)"
        )

    def shifted(self, offset: int) -> Finding:
        """The same finding in a text that starts ``offset`` characters earlier."""
        return Finding(self.kind, self.category, self.start + offset, self.end + offset, self.value)


class Detector(Protocol):
    """Finds sensitive spans in one text."""

    def find(self, text: str) -> list[Finding]:
        """Every finding in ``text``, in any order; overlaps are the scanner's to resolve."""
        ...


def span(kind: str, category: Category, text: str, start: int, end: int) -> Finding:
    """A finding for ``text[start:end]``."""
    return Finding(kind, category, start, end, text[start:end])
