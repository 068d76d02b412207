"""Redaction: replace every located finding of a chat request by a typed placeholder.

Example::

    located = scan_request(scanner, body)
    redacted, redaction = redact_request(body, located)
    # redacted["messages"][0]["content"] == "mail <EMAIL_1> or <EMAIL_2>, again <EMAIL_1>"
    redaction.restore("I wrote to <EMAIL_1>")  # 'I wrote to ana@example.org'

Placeholders are ``<LABEL_N>``: ``LABEL`` is the upper-cased finding kind (``EMAIL``,
``AWS_ACCESS_KEY_ID``, …) or ``CUSTOM`` for every custom term and pattern (their labels
are deployment configuration and stay out of the upstream prompt); ``N`` counts the
distinct values of that label in order of first appearance. The same value gets the same
placeholder everywhere in the request. Only the located spans are replaced: a value that
no detector reported somewhere else is left there.

**Collisions.** If any placeholder would already occur literally anywhere in the request
body (``<EMAIL_1>`` typed by the user, say), every placeholder of that request gets a
short random suffix instead, ``<EMAIL_1_K7Q2>``, re-drawn until none occurs. Requests
without such text keep the short, readable spelling.

**Tool-call arguments** are JSON text and are scanned as such (``function.arguments`` as
it stands in the request, escapes included). A span inside one JSON string is widened to
whole escape sequences and replaced there; the placeholder needs no escaping, and the
value remembered for restoration is the *decoded* text (so ``"O\\"Brien"`` restores as
``O"Brien`` in prose and is re-escaped by
:func:`~freehold.perimeter.restore.restore_json_string`). A span touching a JSON number
replaces the whole number by the placeholder as a JSON *string*; a span crossing several
tokens is redacted token by token. The arguments therefore stay valid JSON. Arguments
that are not valid JSON to begin with are redacted as plain text.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from freehold.perimeter.scan import Located, Path, request_texts

_TAG_ALPHABET = string.ascii_uppercase + string.digits
_TAG_LENGTH = 4
_MAX_TAG_DRAWS = 64
_LABEL_UNSAFE = re.compile(r"[^A-Z0-9_]+")


class Redaction:
    """What one request's redaction replaced: placeholder → original value, and counts.

    The originals are never logged: ``repr`` and ``str`` show only the number of
    placeholders and the counts per finding kind.
    """

    __slots__ = ("_pattern", "counts", "mapping")

    def __init__(self, mapping: Mapping[str, str], counts: Mapping[str, int]) -> None:
        self.mapping: dict[str, str] = dict(mapping)
        """Placeholder (``<EMAIL_1>``) → the original value. Never log it."""
        self.counts: dict[str, int] = dict(counts)
        """Finding kind → how many spans of that kind were replaced."""
        self._pattern = _alternation(self.mapping)

    def __repr__(self) -> str:
        return f"Redaction(placeholders={len(self.mapping)}, counts={self.counts!r})"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.mapping)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Every placeholder, in order of first appearance."""
        return tuple(self.mapping)

    @property
    def longest(self) -> int:
        """The length of the longest placeholder (0 when nothing was redacted)."""
        return max(map(len, self.mapping), default=0)

    def restore(self, text: str) -> str:
        """``text`` with every placeholder replaced by its original value."""
        if self._pattern is None or "<" not in text:
            return text
        return self._pattern.sub(lambda m: self.mapping[m.group(0)], text)


def _alternation(spellings: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(spellings, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def label_for(kind: str, category: str) -> str:
    """The placeholder label of a finding: ``CUSTOM`` for custom findings, else the kind."""
    if category == "custom":
        return "CUSTOM"
    return _LABEL_UNSAFE.sub("_", kind.upper()).strip("_") or "VALUE"


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    value: str
    """The original, as it reads in prose (decoded for JSON strings)."""
    quote: bool
    """Replace by the placeholder as a JSON string (a JSON number was hit)."""


# --- JSON arguments ------------------------------------------------------------------------

_NUMBER_CHARS = frozenset("-+0123456789.eE")
_SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _string_units(text: str, start: int) -> tuple[int, list[int]]:
    """The end of the JSON string whose content starts at ``start`` (the closing quote's
    index) and the boundaries of its characters and escape sequences (a surrogate pair
    of escapes is one unit)."""
    bounds = [start]
    i = start
    while text[i] != '"':
        if text[i] == "\\":
            pair = _SURROGATE_PAIR.match(text, i)
            i = pair.end() if pair else i + (6 if text[i + 1] == "u" else 2)
        else:
            i += 1
        bounds.append(i)
    return i, bounds


def _json_tokens(text: str) -> list[tuple[str, int, int, list[int]]]:
    """Strings (content span and unit boundaries) and numbers of a valid JSON text."""
    tokens: list[tuple[str, int, int, list[int]]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end, bounds = _string_units(text, i + 1)
            tokens.append(("string", i + 1, end, bounds))
            i = end + 1
        elif ch in "-0123456789":
            end = i
            while end < len(text) and text[end] in _NUMBER_CHARS:
                end += 1
            tokens.append(("number", i, end, []))
            i = end
        else:
            i += 1
    return tokens


def _json_edits(text: str, start: int, end: int) -> list[_Edit]:
    """Edits that remove ``text[start:end]`` from the JSON text ``text``, keeping it valid."""
    edits: list[_Edit] = []
    for kind, t_start, t_end, bounds in _json_tokens(text):
        if t_end <= start or t_start >= end:
            continue
        if kind == "number":
            edits.append(_Edit(t_start, t_end, text[t_start:t_end], quote=True))
            continue
        lo = max(b for b in bounds if b <= max(start, t_start))
        hi = min(b for b in bounds if b >= min(end, t_end))
        if lo < hi:
            edits.append(_Edit(lo, hi, json.loads(f'"{text[lo:hi]}"'), quote=False))
    return edits


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# --- the request ---------------------------------------------------------------------------


def _merged(located: Sequence[Located], text: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, kind, category)`` by position; overlapping spans are merged into the
    first one. Raises if a finding does not match ``text``."""
    spans: list[tuple[int, int, str, str]] = []
    for item in sorted(located, key=lambda x: (x.finding.start, x.finding.end)):
        f = item.finding
        if not 0 <= f.start < f.end <= len(text) or text[f.start : f.end] != f.value:
            raise ValueError(
                f"finding {f!r} does not match messages[{item.message}]{list(item.path)}"
            )
        if spans and f.start < spans[-1][1]:
            start, end, kind, category = spans[-1]
            spans[-1] = (start, max(end, f.end), kind, category)
        else:
            spans.append((f.start, f.end, f.kind, f.category))
    return spans


def _edits_for(
    text: str, path: Path, located: Sequence[Located], counts: dict[str, int]
) -> list[tuple[_Edit, str, str]]:
    """Non-overlapping edits of ``text`` by position, each with its finding's kind and
    category; ``counts`` gains one per (merged) finding."""
    json_text = path[-1] == "arguments" and _is_json(text)
    edits: list[tuple[_Edit, str, str]] = []
    for start, end, kind, category in _merged(located, text):
        counts[kind] = counts.get(kind, 0) + 1
        if not json_text:
            edits.append((_Edit(start, end, text[start:end], quote=False), kind, category))
            continue
        for edit in _json_edits(text, start, end):
            if edits and edit.start < edits[-1][0].end:  # two findings met in one token
                last, last_kind, last_category = edits[-1]
                if not edit.quote:  # the same JSON string: widen to both
                    lo, hi = last.start, max(last.end, edit.end)
                    last = _Edit(lo, hi, json.loads(f'"{text[lo:hi]}"'), quote=False)
                edits[-1] = (last, last_kind, last_category)
            else:
                edits.append((edit, kind, category))
    return edits


def _set(body: dict[str, Any], message: int, path: Path, value: str) -> None:
    target: Any = body["messages"][message]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _all_text(body: Mapping[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, default=str)


def _draw_tag(taken: str, numbered: Sequence[tuple[str, int]]) -> str:
    for _ in range(_MAX_TAG_DRAWS):
        tag = "_" + "".join(secrets.choice(_TAG_ALPHABET) for _ in range(_TAG_LENGTH))
        if not any(f"<{label}_{n}{tag}>" in taken for label, n in numbered):
            return tag
    raise RuntimeError("could not draw a placeholder suffix absent from the request")


def redact_request(
    body: Mapping[str, Any], located: Sequence[Located]
) -> tuple[dict[str, Any], Redaction]:
    """A deep copy of the chat request ``body`` with every located finding replaced by its
    placeholder, and the :class:`Redaction` that restores them (see the module docstring).

    ``located`` is what :func:`~freehold.perimeter.scan.scan_request` returned for this
    very ``body``; a finding that does not match the text at its place raises ValueError.
    """
    by_place: dict[tuple[int, Path], list[Located]] = {}
    for item in located:
        by_place.setdefault((item.message, item.path), []).append(item)
    texts = list(request_texts(body))
    unknown = set(by_place) - {(m, p) for m, p, _ in texts}
    if unknown:
        raise ValueError(f"findings at places the request does not have: {sorted(unknown)}")

    numbering: dict[str, tuple[str, int]] = {}  # value → (label, n)
    per_label: dict[str, int] = {}
    counts: dict[str, int] = {}
    planned: list[tuple[int, Path, str, list[_Edit]]] = []
    for message, path, text in texts:
        here = by_place.get((message, path))
        if not here:
            continue
        edits = _edits_for(text, path, here, counts)
        for edit, kind, category in edits:
            if edit.value not in numbering:
                label = label_for(kind, category)
                per_label[label] = per_label.get(label, 0) + 1
                numbering[edit.value] = (label, per_label[label])
        planned.append((message, path, text, [e for e, _, _ in edits]))

    taken = _all_text(body)
    numbered = list(numbering.values())
    clash = any(f"<{label}_{n}>" in taken for label, n in numbered)
    tag = _draw_tag(taken, numbered) if clash else ""
    placeholder = {value: f"<{label}_{n}{tag}>" for value, (label, n) in numbering.items()}

    redacted = copy.deepcopy(dict(body))
    for message, path, text, text_edits in planned:
        out = text
        for edit in sorted(text_edits, key=lambda e: e.start, reverse=True):
            token = placeholder[edit.value]
            token = f'"{token}"' if edit.quote else token
            out = out[: edit.start] + token + out[edit.end :]
        _set(redacted, message, path, out)
    mapping = {token: value for value, token in placeholder.items()}
    return redacted, Redaction(mapping, counts)
