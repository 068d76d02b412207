"""Per-deployment detectors: exact terms (project code names, customer names) and regexes.

Terms are matched after the same folding on both sides:

* Unicode NFKC and ``casefold`` (``ＡＣＭＥ``, ``Acme`` and ``ACME`` are one term);
* zero-width and invisible formatting characters (U+200B–U+200F, U+2060–U+2064, U+FEFF,
  U+00AD, U+034F, U+180E) are dropped, so ``Ac\u200bme`` still matches;
* common confusables (Cyrillic and Greek letters that look Latin: ``а``, ``е``, ``о``,
  ``р``, ``с``, ``ο``, ``ν``, …) are mapped to their Latin look-alike.

Matching uses one Aho-Corasick automaton (``pyahocorasick``) over the folded text, so its
cost hardly depends on the number of terms (100k terms: tens of µs per KB), and a match
counts only on word boundaries (a term ``ion`` does not match inside ``nation``). Folded
positions map back to the original text, so spans point at what the user wrote.

Custom regexes are compiled once with the ``regex`` module and run with a time limit.
Needs ``pip install 'freehold[perimeter]'`` for terms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import regex

from freehold.core.importer import import_string
from freehold.perimeter.base import Finding, span

INVISIBLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
#: Folded (lower-case) look-alikes → Latin.
CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y",
    "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ѵ": "v",
}  # fmt: skip
_TABLE = str.maketrans({**CONFUSABLES, **dict.fromkeys(INVISIBLE, None)})
_CLUSTER = regex.compile(r"\X")
PATTERN_TIMEOUT_S = 0.05
"""A custom regex that runs longer than this on one text is abandoned for that text."""


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """NFKC, casefold, NFKC again (the Unicode ``NFKC_Casefold`` idea), then confusables
    mapped and invisible characters dropped."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return folded.translate(_TABLE)


def fold_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` folded, and for each folded character the original span it came from.

    ASCII text folds to ``text.lower()`` with offsets unchanged (the fast path, returned
    with empty offset lists); otherwise folding goes grapheme cluster by cluster.
    """
    if text.isascii():
        return text.lower(), [], []
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _CLUSTER.finditer(text):
        piece = fold(m.group())
        parts.append(piece)
        starts.extend([m.start()] * len(piece))
        ends.extend([m.end()] * len(piece))
    return "".join(parts), starts, ends


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class TermDetector:
    """Exact terms from a deployment's dictionary, folded and on word boundaries.

    ``terms`` maps each term to a label (reported as ``kind="term:<label>"``); an iterable
    of plain strings labels them all ``term``.
    """

    def __init__(self, terms: Mapping[str, str] | Iterable[str]) -> None:
        labelled = terms.items() if isinstance(terms, Mapping) else ((t, "") for t in terms)
        # pyahocorasick (the ``perimeter`` extra) is needed by terms only, not by patterns
        automaton: Any = import_string("ahocorasick:Automaton", "perimeter")
        self._automaton = automaton()
        self.size = 0
        for term, label in labelled:
            key = fold(term.strip()) if not term.isascii() else term.strip().lower()
            if not key:
                continue
            kind = f"term:{label}" if label else "term"
            self._automaton.add_word(key, (len(key), kind, _is_word(key[0]), _is_word(key[-1])))
            self.size += 1
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Finding]:
        if not self.size or not text:
            return []
        folded, starts, ends = fold_with_offsets(text)
        found = []
        n = len(folded)
        for last, (length, kind, word_start, word_end) in self._automaton.iter(folded):
            first = last - length + 1
            if word_start and first > 0 and _is_word(folded[first - 1]):
                continue
            if word_end and last + 1 < n and _is_word(folded[last + 1]):
                continue
            if starts:
                found.append(span(kind, "custom", text, starts[first], ends[last]))
            else:
                found.append(span(kind, "custom", text, first, last + 1))
        return found


class PatternDetector:
    """Custom regexes: ``{name: pattern}``, reported as ``kind="pattern:<name>"``."""

    def __init__(self, patterns: Mapping[str, str]) -> None:
        self._patterns = [(f"pattern:{name}", regex.compile(p)) for name, p in patterns.items()]

    def find(self, text: str) -> list[Finding]:
        found = []
        for kind, pattern in self._patterns:
            try:
                for m in pattern.finditer(text, timeout=PATTERN_TIMEOUT_S):
                    if m.end() > m.start():
                        found.append(span(kind, "custom", text, m.start(), m.end()))
            except TimeoutError:
                continue
        return found
