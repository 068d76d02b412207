"""gitleaks' Go (RE2) patterns rewritten for Python's ``re``, and made fast enough to run
two hundred of them on every prompt.

gitleaks is written in Go, whose RE2 syntax differs from Python's in three ways the rules
use; :func:`python_pattern` rewrites them: a flag group ``(?i)`` in mid-pattern (scoped to
the rest of its group), ``\\z`` and POSIX classes like ``[[:alnum:]]``. It also drops the
lazy ``[\\w.-]{0,50}?`` that opens the generic assignment rules: it only widens the reported
match to the left and, in Python's backtracking engine, costs ten times the rest. Two more
rewrites fit prompts rather than files: a secret may also end at prose punctuation or any
escape (gitleaks ends it at a quote, a space, ``;`` or an escaped newline), and a pattern that
opens with a case-insensitive alternation or ``\\b(`` gets a lookahead on its possible
first characters, which Python scans for quickly (six times faster for such rules).
:func:`repeats_a_group` tells when a pattern's groups are its structure, not the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "lower": "a-z",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
    "space": r"\s",
    "word": r"\w",
    "punct": r"!-/:-@\[-`{-~",
}
_LAZY_PREFIX = re.compile(r"^(\(\?[a-z]+\))?\[\\w\.-\]\{0,\d+\}\?")
#: How gitleaks ends a secret (a quote, space or semicolon, an escaped newline, the end)...
_GITLEAKS_END = r"""(?:[\x60'"\s;]|\\[nr]|$)"""
#: ... and how it ends in a prompt, where prose punctuation follows it too, and any escape
#: (``\"`` closes a JSON-escaped string as often as ``\n`` ends a line).
_PROSE_END = r"""(?:[\x60'"\s;.,:!?)\]}>|&\\]|$)"""


def python_pattern(go_pattern: str) -> str:
    """``go_pattern`` (RE2 syntax as gitleaks writes it) in Python's ``re`` syntax."""
    pattern = _LAZY_PREFIX.sub(lambda m: m.group(1) or "", go_pattern, count=1)
    pattern = _with_first_char_check(pattern.replace(_GITLEAKS_END, _PROSE_END))
    out: list[str] = []
    closers: list[int] = [0]  # per open group: scoped-flag groups to close with it
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            escape = pattern[i : i + 2]
            out.append(r"\Z" if escape == r"\z" else escape)
            i += 2
            continue
        if in_class:
            posix = re.match(r"\[:(\^?)([a-z]+):\]", pattern[i:])
            if posix and posix.group(2) in _POSIX_CLASSES and not posix.group(1):
                out.append(_POSIX_CLASSES[posix.group(2)])
                i += posix.end()
                continue
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # a literal ] first in a class
                out.append(r"\]")
                i += 1
            continue
        flags = re.match(r"\(\?([a-zA-Z-]+)\)", pattern[i:])
        if flags and i > 0:
            out.append(f"(?{flags.group(1)}:")
            closers[-1] += 1
            i += flags.end()
            continue
        if ch == "(":
            closers.append(0)
        elif ch == ")" and len(closers) > 1:
            out.append(")" * closers.pop())
        out.append(ch)
        i += 1
    out.append(")" * closers[0])
    return "".join(out)


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """``(index, character)`` of every character of ``pattern`` from ``start`` that is
    syntax: not escaped, not inside a character class (``[...]``)."""
    i, in_class = start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 2 if pattern[i + 1 : i + 2] == "]" else 1  # a literal "]" opens no end
            continue
        else:
            yield i, ch
        i += 1


def _closing(pattern: str, open_at: int) -> int:
    """The index of the ``)`` that closes the group opened at ``open_at`` (-1 if none)."""
    depth = 0
    for i, ch in _structure(pattern, open_at):
        if ch in "()":
            depth += 1 if ch == "(" else -1
            if depth == 0:
                return i
    return -1


def _alternatives(body: str) -> list[str]:
    """``body`` split at its top-level ``|``."""
    parts, depth, start = [], 0, 0
    for i, ch in _structure(body):
        if ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    return [*parts, body[start:]]


def _first_chars(alternative: str, ignore_case: bool) -> set[str] | None:
    """Every character ``alternative`` can start with, when that is simple to tell."""
    if alternative[:1].isalnum():
        first = alternative[0]
        return {first.lower(), first.upper()} if ignore_case else {first}
    openers = (("(?:", ignore_case), ("(?-i:", False), ("(?i:", True), ("(", ignore_case))
    for opener, case in openers:
        if alternative.startswith(opener) and (opener != "(" or alternative[1:2] != "?"):
            end = _closing(alternative, 0)
            chars: set[str] = set()
            for inner in _alternatives(alternative[len(opener) : end]):
                found = _first_chars(inner, case) if inner else None
                if found is None:
                    return None
                chars |= found
            return chars
    simple_class = re.match(r"\[([A-Za-z0-9]+)\]", alternative)
    if simple_class:
        letters = set(simple_class.group(1))
        return letters | {c.swapcase() for c in letters} if ignore_case else letters
    return None


def _with_first_char_check(pattern: str) -> str:
    """``(?i)(?:word|word…)…`` or ``\\b(word|word…)…`` with a lookahead on the words' first
    letters in front: Python scans for a character set quickly, and for a case-insensitive
    alternation or a word boundary slowly (the generic assignment rules run six times
    faster)."""
    if pattern.startswith("(?i)(?:"):
        flags, body, ignore_case = "(?i)", pattern[4:], True
    elif pattern.startswith("\\b("):
        flags, body, ignore_case = "", pattern, False
    else:
        return pattern
    group_at = body.index("(")
    chars = _first_chars(body[group_at : _closing(body, group_at) + 1], ignore_case)
    if not chars or not all(ch.isalnum() for ch in chars):
        return pattern
    return flags + "(?=[" + "".join(sorted(chars)) + "])" + body


def repeats_a_group(pattern: str) -> bool:
    """Whether a capturing group of ``pattern`` is directly followed by a quantifier."""
    opened: list[bool] = []  # per open group: capturing?
    for i, ch in _structure(pattern):
        if ch == "(":
            opened.append(pattern[i + 1 : i + 2] != "?" or pattern[i + 1 : i + 3] == "?P")
        elif ch == ")" and opened and opened.pop() and pattern[i + 1 : i + 2] in "{*+?":
            return pattern[i + 1 : i + 2] != ""
    return False
