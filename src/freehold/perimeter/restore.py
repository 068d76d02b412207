"""Restoration: put the original values back where a response repeats a placeholder.

Whole texts::

    restore_text("I wrote to <EMAIL_1>", redaction)        # 'I wrote to ana@example.org'
    restore_json_string('{"to": "<NAME_1>"}', redaction)   # '{"to": "O\\"Brien"}'
    restore_completion(body, redaction)                    # a chat completion, restored

Streams (a placeholder may be split over any number of chunks)::

    restorer = StreamRestorer(redaction)
    restorer.feed("write to <EM")   # 'write to '   ('<EM' is held back)
    restorer.feed("AIL_1> now")     # 'ana@example.org now'
    restorer.flush()                # ''  (whatever was still held, unchanged)

A :class:`StreamRestorer` holds back only a trailing piece that is a proper prefix of some
placeholder, so it never holds more than the longest placeholder's length minus one; a
piece that turns out not to be a placeholder is released unchanged. Placeholders contain
no ``<`` after their first character, so two occurrences never overlap and restoring a
stream piece by piece gives exactly what restoring the whole text gives.

Inside JSON strings (tool-call arguments) the original is inserted JSON-escaped, and the
placeholder is also recognised as written by encoders that escape ``<`` and ``>``
(``\\u003cEMAIL_1\\u003e``, as Go's ``encoding/json`` does).

:class:`ChunkRestorer` applies this to OpenAI ``chat.completion.chunk`` dicts, keeping one
stream per (choice index, field) and per (choice index, tool-call index).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from freehold.perimeter.redact import Redaction

#: Text fields of a chat message or delta that are restored as prose.
TEXT_FIELDS = ("content", "refusal", "reasoning_content")
_JSON_BRACKETS = (("<", ">"), ("\\u003c", "\\u003e"), ("\\u003C", "\\u003E"))


class _Spellings:
    """Every way a placeholder may be written in one kind of text, and what replaces it."""

    __slots__ = ("hold_limit", "pattern", "prefixes", "replacement", "starts")

    def __init__(self, redaction: Redaction, json_string: bool) -> None:
        self.replacement: dict[str, str] = {}
        for placeholder, value in redaction.mapping.items():
            if not json_string:
                self.replacement[placeholder] = value
                continue
            escaped = json.dumps(value, ensure_ascii=False)[1:-1]
            inner = placeholder[1:-1]
            for opening, closing in _JSON_BRACKETS:
                self.replacement[opening + inner + closing] = escaped
        ordered = sorted(self.replacement, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.prefixes = frozenset(s[:k] for s in self.replacement for k in range(1, len(s)))
        self.starts = frozenset(s[0] for s in self.replacement)
        self.hold_limit = max((len(s) - 1 for s in self.replacement), default=0)

    def sub(self, text: str) -> str:
        if self.pattern is None or not any(ch in text for ch in self.starts):
            return text
        return self.pattern.sub(lambda m: self.replacement[m.group(0)], text)

    def hold_from(self, text: str) -> int:
        """Where the trailing piece of ``text`` that could still grow into a placeholder
        starts (``len(text)`` when none could)."""
        for i in range(max(0, len(text) - self.hold_limit), len(text)):
            if text[i] in self.starts and text[i:] in self.prefixes:
                return i
        return len(text)


def restore_text(text: str, redaction: Redaction) -> str:
    """``text`` with every placeholder replaced by its original value."""
    return redaction.restore(text)


def restore_json_string(arguments: str, redaction: Redaction) -> str:
    """JSON text (tool-call ``arguments``) with every placeholder replaced by its original
    value, JSON-escaped so that the text stays valid JSON."""
    return _Spellings(redaction, json_string=True).sub(arguments)


class StreamRestorer:
    """Restores one text that arrives in pieces (see the module docstring)."""

    __slots__ = ("_held", "_spellings")

    def __init__(self, redaction: Redaction, *, json_string: bool = False) -> None:
        self._spellings = _Spellings(redaction, json_string)
        self._held = ""

    @property
    def held(self) -> str:
        """The text held back so far (a proper prefix of some placeholder, or empty)."""
        return self._held

    def feed(self, delta: str) -> str:
        """The restored text that ``delta`` makes certain; the rest is held."""
        text = self._held + delta
        cut = self._spellings.hold_from(text)
        self._held = text[cut:]
        return self._spellings.sub(text[:cut])

    def flush(self) -> str:
        """Whatever is still held, unchanged (it was not a placeholder), and reset."""
        held, self._held = self._held, ""
        return held


def _restore_message(message: dict[str, Any], redaction: Redaction) -> None:
    for field in TEXT_FIELDS:
        value = message.get(field)
        if isinstance(value, str):
            message[field] = redaction.restore(value)
        elif field == "content" and isinstance(value, list):
            for part in value:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    part["text"] = redaction.restore(part["text"])
    calls = message.get("tool_calls")
    functions = (
        [c.get("function") for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
    )
    functions.append(message.get("function_call"))
    for function in functions:
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            function["arguments"] = restore_json_string(function["arguments"], redaction)


def restore_completion(body: Mapping[str, Any], redaction: Redaction) -> dict[str, Any]:
    """A deep copy of an OpenAI chat completion with every ``choices[].message`` restored:
    content (a string or text parts), refusal, reasoning content, and tool-call (and legacy
    function-call) arguments."""
    restored = copy.deepcopy(dict(body))
    choices = restored.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        if isinstance(choice, dict) and isinstance(choice.get("message"), dict):
            _restore_message(choice["message"], redaction)
    return restored


_Key = tuple[int, str, int]  # (choice index, field, tool-call index or -1)


class ChunkRestorer:
    """Restores the ``chat.completion.chunk`` dicts of one streamed response.

    Call :meth:`restore_chunk` on every chunk, in order, and send what it returns; at the
    end of the stream call :meth:`finish` and send its chunk if it returns one. Text held
    back for a choice is released in the chunk that carries that choice's
    ``finish_reason``.
    """

    def __init__(self, redaction: Redaction) -> None:
        self._redaction = redaction
        self._streams: dict[_Key, StreamRestorer] = {}
        self._template: dict[str, Any] = {"object": "chat.completion.chunk"}

    def _feed(self, key: _Key, text: str) -> str:
        stream = self._streams.get(key)
        if stream is None:
            json_string = not key[1].startswith("text:")
            stream = self._streams[key] = StreamRestorer(self._redaction, json_string=json_string)
        return stream.feed(text)

    def restore_chunk(self, chunk: Mapping[str, Any]) -> dict[str, Any]:
        """A restored deep copy of ``chunk``."""
        out = copy.deepcopy(dict(chunk))
        self._template = {k: v for k, v in out.items() if k in ("id", "object", "created", "model")}
        choices = out.get("choices")
        for position, choice in enumerate(choices if isinstance(choices, list) else []):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", position)
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._restore_delta(index, delta)
            if choice.get("finish_reason") is not None:
                self._release(index, choice)
        return out

    def _restore_delta(self, index: int, delta: dict[str, Any]) -> None:
        for field in TEXT_FIELDS:
            if isinstance(delta.get(field), str):
                delta[field] = self._feed((index, f"text:{field}", -1), delta[field])
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                key = (index, "tool_calls", call.get("index", position))
                function["arguments"] = self._feed(key, function["arguments"])
        legacy = delta.get("function_call")
        if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
            legacy["arguments"] = self._feed((index, "function_call", -1), legacy["arguments"])

    def _release(self, index: int, choice: dict[str, Any]) -> bool:
        """Append what is held for choice ``index`` to its delta; whether anything was."""
        released = False
        for key in [k for k in self._streams if k[0] == index]:
            rest = self._streams.pop(key).flush()
            if not rest:
                continue
            released = True
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                delta = choice["delta"] = {}
            _, field, call_index = key
            if field.startswith("text:"):
                name = field.removeprefix("text:")
                delta[name] = (delta.get(name) or "") + rest
            elif field == "function_call":
                legacy = delta.setdefault("function_call", {})
                legacy["arguments"] = (legacy.get("arguments") or "") + rest
            else:
                calls = delta.setdefault("tool_calls", [])
                call = next((c for c in calls if c.get("index") == call_index), None)
                if call is None:
                    call = {"index": call_index, "function": {}}
                    calls.append(call)
                function = call.setdefault("function", {})
                function["arguments"] = (function.get("arguments") or "") + rest
        return released

    def finish(self) -> dict[str, Any] | None:
        """A last chunk carrying whatever is still held (the stream ended without a
        ``finish_reason`` for some choice), or None when nothing is."""
        choices: list[dict[str, Any]] = []
        for index in sorted({k[0] for k in self._streams}):
            choice: dict[str, Any] = {"index": index, "delta": {}, "finish_reason": None}
            if self._release(index, choice):
                choices.append(choice)
        if not choices:
            return None
        return {**self._template, "choices": choices}
