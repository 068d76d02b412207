"""High-entropy tokens: strings that look random, the shape of most credentials.

The rule, tuned so that ordinary code and prose stay clean:

1. a token is a run of ``[A-Za-z0-9+/_=-]`` of at least ``min_length`` (default 20)
   characters, not glued to other word characters; a leading ``NAME=`` (an upper-case
   setting name) is not part of it;
2. it must mix upper case, lower case and digits — this excludes hex digests (git SHAs,
   SHA-256, MD5), UUIDs and hex colours, which are lower- or upper-case hex only, as well
   as paths, snake_case identifiers and version strings, which are not secrets by default;
3. it must not be a path or an identifier made of words: at most one ``/`` per 8 characters,
   and word-like runs (``[A-Z]?[a-z]{2,}``, e.g. ``get``/``User``/``By``) cover at most
   65% of it (camelCase identifiers measure 70–97%, random base62 tokens about 35%);
4. its Shannon entropy in bits per character must reach ``threshold × min(1, log2(len)/5)``:
   ``threshold`` (default 4.0) applies to tokens of 32+ characters, and shorter ones, which
   cannot reach the same entropy, need proportionally less (random base62 tokens measure
   about 4.0 at 20 characters and 4.5 at 32, with 99% above 3.6 and 4.2 respectively).

A lower ``threshold`` catches more (and flags more identifiers); raise it to be quieter.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from freehold.perimeter.base import Finding, span

DEFAULT_THRESHOLD = 4.0
DEFAULT_MIN_LENGTH = 20

_WORDS_BY_CASE = re.compile(r"[A-Z]?[a-z]{2,}")
_SETTING_NAME = re.compile(r"[A-Z][A-Z0-9_]*=(?!=)")


def _setting_name_length(token: str) -> int:
    """The length of a leading ``NAME=`` (an environment setting glued to its value, as in
    ``DATABASE_URL=postgresql+psycopg2``): only the value is judged."""
    m = _SETTING_NAME.match(token)
    return m.end() if m else 0


def shannon_entropy(token: str) -> float:
    """Bits per character of ``token``'s character distribution."""
    if not token:
        return 0.0
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


class EntropyDetector:
    """Tokens whose character mix and entropy look like a generated credential."""

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, min_length: int = DEFAULT_MIN_LENGTH
    ) -> None:
        self.threshold = threshold
        self.min_length = min_length
        self._token = re.compile(
            rf"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{{{min_length},}}(?![A-Za-z0-9+/_=-])"
        )

    def find(self, text: str) -> list[Finding]:
        found = []
        for m in self._token.finditer(text):
            start = m.start() + _setting_name_length(m.group())
            token = text[start : m.end()]
            if len(token) >= self.min_length and self.looks_random(token):
                found.append(span("high_entropy", "secret", text, start, m.end()))
        return found

    def looks_random(self, token: str) -> bool:
        """Whether ``token`` passes rules 2–4 of the module docstring."""
        if token.isdigit() or token.islower() or token.isupper():
            return False
        if not (
            any(c.isdigit() for c in token)
            and any(c.islower() for c in token)
            and any(c.isupper() for c in token)
        ):
            return False
        if token.count("/") * 8 > len(token):
            return False
        words = _WORDS_BY_CASE.findall(token)
        if sum(len(w) for w in words) > 0.65 * len(token):
            return False  # mostly words: an identifier such as getUserById2024Version
        required = self.threshold * min(1.0, math.log2(len(token)) / 5)
        return shannon_entropy(token) >= required
