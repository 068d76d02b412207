"""Masking configured secrets (upstream API keys, passwords) in text that may echo them:
upstream error messages, log records.

A :class:`SecretMasker` is built once from the secrets and replaces, in any text, each token
that carries a secret with :data:`MARKER`:

- any piece of :data:`MIN_PIECE` (8) or more characters of a secret, wherever it stands
  (a secret shorter than that: the whole secret);
- a provider-style masked form: a prefix and/or a suffix of a secret around a run of mask
  characters (``*``, ``•``, ``…``, ``...``, ``xxx``), as providers quote keys in their
  errors: ``sk-proj-********4a6f``, ``sk-...4a6f``, ``sk-upstream-SECRET-7f3****4a6f``.

A token is the run of characters around the match up to whitespace, a quote, a bracket,
``,;=&`` or a backslash, so the rest of a key next to a masked piece goes with it::

    masker = SecretMasker(["sk-upstream-SECRET-0123456789"])
    masker.mask("Incorrect API key provided: sk-upst****6789.")
    # 'Incorrect API key provided: ***.'

:class:`SecretFilter` applies a masker to log records (the formatted message, exception and
stack text); install it on the handlers, so that it sees every record they write.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MARKER = "***"
#: Any piece of a secret this long is masked.
MIN_PIECE = 8
#: Shorter values are not treated as secrets: they would mask ordinary words.
MIN_SECRET = 4
#: A mask run counts as a masked secret when this many characters of a secret's prefix and
#: suffix (together) stand around it.
MIN_AFFIX = 3
_ANCHOR = 4  # every MIN_PIECE piece of a secret holds one of its ANCHOR-grams at an offset % 4 == 0
# Each branch starts with a literal, so that the regex engine skips ahead by first character.
_MASK_RUN = re.compile(r"\*\*+|••+|…+|\.\.\.+|xxx+|XXX+")
_MASK_SEEDS = ("**", "••", "…", "...", "xxx", "XXX")  # cheap tests before the regex
_BOUNDARY = frozenset(" \t\r\n\f\v\"'`<>()[]{},;=&\\")
_TRAILING = ".:!?"


class SecretMasker:
    """Masks every piece of the given secrets in a text (see the module's docstring)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self._secrets = tuple(unique)
        self._whole = tuple(s for s in unique if len(s) < MIN_PIECE)
        long = [s for s in unique if len(s) >= MIN_PIECE]
        self._pieces = frozenset(
            s[i : i + MIN_PIECE] for s in long for i in range(len(s) - MIN_PIECE + 1)
        )
        self._anchors = frozenset(
            s[i : i + _ANCHOR] for s in long for i in range(0, len(s) - _ANCHOR + 1, _ANCHOR)
        )

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def mask(self, text: str) -> str:
        """``text`` with every token that carries a secret replaced by ``MARKER``."""
        if not self._secrets:
            return text
        while True:  # a replacement can join two halves into a new piece: mask until none is left
            spans = self._spans(text)
            if not spans:
                return text
            text = _replace(text, spans)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) of every match, before widening to whole tokens."""
        spans = self._piece_spans(text)
        for secret in self._whole:
            at = text.find(secret)
            while at != -1:
                spans.append((at, at + len(secret)))
                at = text.find(secret, at + 1)
        if any(seed in text for seed in _MASK_SEEDS):
            spans.extend(self._masked_spans(text))
        return spans

    def _piece_spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        last = len(text) - MIN_PIECE
        for anchor in self._anchors:
            at = text.find(anchor)
            while at != -1:
                for start in range(max(0, at - _ANCHOR), min(at, last) + 1):
                    if text[start : start + MIN_PIECE] in self._pieces:
                        spans.append((start, start + MIN_PIECE))
                at = text.find(anchor, at + 1)
        return spans

    def _masked_spans(self, text: str) -> list[tuple[int, int]]:
        spans = []
        for run in _MASK_RUN.finditer(text):
            start, end = run.span()
            left, right = _token_start(text, start), _token_end(text, end)
            for secret in self._secrets:
                before = _prefix_before(text, left, start, secret)
                after = _suffix_after(text, end, right, secret)
                if before + after >= MIN_AFFIX:
                    spans.append((start - before, end + after))
        return spans


def _token_start(text: str, at: int) -> int:
    while at > 0 and text[at - 1] not in _BOUNDARY:
        at -= 1
    return at


def _token_end(text: str, at: int) -> int:
    while at < len(text) and text[at] not in _BOUNDARY:
        at += 1
    return at


def _prefix_before(text: str, left: int, at: int, secret: str) -> int:
    """The length of the longest prefix of ``secret`` that ends at ``at`` (not before ``left``)."""
    for k in range(min(at - left, len(secret)), 0, -1):
        if text.startswith(secret[:k], at - k):
            return k
    return 0


def _suffix_after(text: str, at: int, right: int, secret: str) -> int:
    """The length of the longest suffix of ``secret`` that starts at ``at`` (ends by ``right``)."""
    for j in range(min(right - at, len(secret)), 0, -1):
        if text.startswith(secret[-j:], at):
            return j
    return 0


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span, widened to its whole token, replaced by ``MARKER``."""
    widened = []
    for start, end in spans:
        token_end = _token_end(text, end)
        while token_end > end and text[token_end - 1] in _TRAILING:
            token_end -= 1  # the full stop after a key is the sentence's, not the key's
        widened.append((_token_start(text, start), token_end))
    widened.sort()
    out, at = [], 0
    for start, end in widened:
        if end <= at:
            continue
        if start >= at:
            out.append(text[at:start])
            out.append(MARKER)
        at = end
    out.append(text[at:])
    return "".join(out)


_FORMATTER = logging.Formatter()


class SecretFilter(logging.Filter):
    """A logging filter that masks secrets in each record it sees: the message (after its
    arguments are merged in), the exception text and the stack text. It never drops a
    record. Add it to handlers (``handler.addFilter``): a filter on a logger does not see
    the records its children propagate."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._masker:
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: keep the message only
            message = str(record.msg)
            record.msg, record.args = message, None
        masked = self._masker.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._masker.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self._masker.mask(record.stack_info)
        return True
