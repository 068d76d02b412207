"""Restoration: whole texts, JSON strings, streams split anywhere, and OpenAI bodies/chunks."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.perimeter.redact import Redaction
from freehold.perimeter.restore import (
    ChunkRestorer,
    StreamRestorer,
    restore_completion,
    restore_json_string,
    restore_text,
)

REDACTION = Redaction(
    {
        "<EMAIL_1>": "ana@example.org",
        "<EMAIL_12>": 'o"brien\\<EMAIL_1>@example.org',
        "<PHONE_1_K7Q2>": "+1 415 555 0101",
        "<AWS_ACCESS_KEY_ID_1>": "AKIAIOSFODNN7EXAMPLE",
        "<CUSTOM_1>": "Project Nightjar é\n",
    },
    {"email": 2, "phone": 1, "aws_access_key_id": 1, "term:x": 1},
)
PLACEHOLDERS = list(REDACTION.mapping)
JSON_SPELLINGS = [
    o + p[1:-1] + c
    for p in PLACEHOLDERS
    for o, c in (("<", ">"), ("\\u003c", "\\u003e"), ("\\u003C", "\\u003E"))
]


def test_restore_text() -> None:
    text = "to <EMAIL_1>, <EMAIL_12>, <PHONE_1_K7Q2>; <EMAIL_2> <EMAIL_1 <CUSTOM_1>>"
    assert restore_text(text, REDACTION) == (
        'to ana@example.org, o"brien\\<EMAIL_1>@example.org, +1 415 555 0101; '
        "<EMAIL_2> <EMAIL_1 Project Nightjar é\n>"
    )
    assert restore_text("no placeholders", REDACTION) == "no placeholders"


def test_restore_json_string_escapes_and_accepts_escaped_brackets() -> None:
    arguments = json.dumps({"a": "<EMAIL_12>", "b": ["<CUSTOM_1>"], "c": "x<EMAIL_1>y"})
    assert json.loads(restore_json_string(arguments, REDACTION)) == {
        "a": 'o"brien\\<EMAIL_1>@example.org',
        "b": ["Project Nightjar é\n"],
        "c": "xana@example.orgy",
    }
    go_style = '{"a": "\\u003cEMAIL_12\\u003e", "b": "\\u003CCUSTOM_1\\u003E"}'
    assert json.loads(restore_json_string(go_style, REDACTION)) == {
        "a": 'o"brien\\<EMAIL_1>@example.org',
        "b": "Project Nightjar é\n",
    }


def test_a_split_placeholder_is_held_then_restored() -> None:
    restorer = StreamRestorer(REDACTION)
    assert restorer.feed("write to <EM") == "write to "
    assert restorer.held == "<EM"
    assert restorer.feed("AIL_") == ""
    assert restorer.feed("1> now") == "ana@example.org now"
    assert restorer.flush() == ""


def test_look_alikes_are_released_unchanged() -> None:
    restorer = StreamRestorer(REDACTION)
    assert restorer.feed("a < b") == "a < b"
    assert restorer.feed("x <") == "x "
    assert restorer.feed("EMAIL") == ""
    assert restorer.feed("_3>") == "<EMAIL_3>"
    assert restorer.feed("<EMAIL_1") == ""
    assert restorer.feed("<") == "<EMAIL_1"
    assert restorer.flush() == "<"
    assert restorer.flush() == ""
    assert restorer.feed("<EMAIL") == ""
    assert restorer.flush() == "<EMAIL"


def test_an_empty_redaction_passes_everything_through() -> None:
    restorer = StreamRestorer(Redaction({}, {}))
    assert restorer.feed("<EMAIL_1") == "<EMAIL_1" and restorer.flush() == ""


PIECES = st.sampled_from(
    [*PLACEHOLDERS, "<", ">", "<EMAIL", "_1", "1>", "<EMAIL_1", "\\u003c", "\\u003e", "\\"]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=14).map("".join)


def check_stream(text: str, cuts: list[int], json_string: bool) -> None:
    expected = (
        restore_json_string(text, REDACTION) if json_string else restore_text(text, REDACTION)
    )
    spellings = JSON_SPELLINGS if json_string else PLACEHOLDERS
    longest = max(map(len, spellings))
    restorer = StreamRestorer(REDACTION, json_string=json_string)
    emitted = ""
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    for start, end in itertools.pairwise(bounds):
        emitted += restorer.feed(text[start:end])
        # Nothing emitted is ever taken back: no partial placeholder went out.
        assert expected.startswith(emitted)
        # Held back: only a proper prefix of a placeholder, so shorter than the longest one.
        held = restorer.held
        assert len(held) < longest
        assert held == "" or any(s.startswith(held) and s != held for s in spellings)
        # Emitted as early as possible: everything before the held piece is out.
        consumed = text[:end]
        restore = restore_json_string if json_string else restore_text
        assert consumed.endswith(held)
        assert emitted == restore(consumed[: len(consumed) - len(held)], REDACTION)
    assert emitted + restorer.flush() == expected


@settings(max_examples=500, deadline=None)
@given(TEXT, st.lists(st.integers(min_value=0, max_value=120), max_size=20), st.booleans())
def test_any_split_of_any_text_restores_like_the_whole(
    text: str, cuts: list[int], json_string: bool
) -> None:
    check_stream(text, cuts, json_string)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.booleans())
def test_one_character_at_a_time(text: str, json_string: bool) -> None:
    check_stream(text, list(range(len(text))), json_string)


def test_restore_completion() -> None:
    body = {
        "id": "c1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "hi <EMAIL_1>",
                    "tool_calls": [
                        {"id": "t", "type": "function",
                         "function": {"name": "f", "arguments": '{"to": "<EMAIL_12>"}'}}
                    ],
                },
                "finish_reason": "tool_calls",
            },
            {"index": 1, "message": {"content": [{"type": "text", "text": "<CUSTOM_1>"}],
                                     "refusal": "<EMAIL_1>",
                                     "function_call": {"name": "g", "arguments": "\"<EMAIL_1>\""}}},
            {"index": 2, "message": {"content": None}},
        ],
        "usage": {"total_tokens": 3},
    }  # fmt: skip
    before = json.dumps(body)
    restored = restore_completion(body, REDACTION)
    assert json.dumps(body) == before
    first, second, third = (c["message"] for c in restored["choices"])
    assert first["content"] == "hi ana@example.org"
    arguments = json.loads(first["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"to": 'o"brien\\<EMAIL_1>@example.org'}
    assert second["content"][0]["text"] == "Project Nightjar é\n"
    assert second["refusal"] == "ana@example.org"
    assert json.loads(second["function_call"]["arguments"]) == "ana@example.org"
    assert third == {"content": None} and restored["usage"] == {"total_tokens": 3}


def chunk(choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "s1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": choices}  # fmt: skip


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def collect(chunks: list[dict[str, Any]]) -> dict[tuple[int, str], str]:
    """Concatenate what a client would: content per choice, arguments per tool call."""
    out: dict[tuple[int, str], str] = {}
    for c in chunks:
        for choice in c["choices"]:
            delta = choice.get("delta") or {}
            for field in ("content", "reasoning_content"):
                if delta.get(field) is not None:
                    key = (choice["index"], field)
                    out[key] = out.get(key, "") + delta[field]
            for call in delta.get("tool_calls") or []:
                key = (choice["index"], f"tool{call['index']}")
                out[key] = out.get(key, "") + call["function"].get("arguments", "")
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 40])
def test_chunk_restorer_restores_streamed_content_and_tool_arguments(size: int) -> None:
    content = "Dear <EMAIL_1>, re <CUSTOM_1> <EMAIL_"
    reasoning = "think <PHONE_1_K7Q2> <PHONE_1_K7Q"
    args0 = json.dumps({"to": "<EMAIL_12>"})
    args1 = '{"k": "\\u003cAWS_ACCESS_KEY_ID_1\\u003e"}'
    upstream: list[dict[str, Any]] = [chunk([{"index": 0, "delta": {"role": "assistant"}}])]
    for piece in split(content, size):
        first = {"index": 1, "delta": {"reasoning_content": piece[:1]}}
        upstream.append(chunk([{"index": 0, "delta": {"content": piece}}, first]))
    for piece in split(reasoning, size):
        upstream.append(chunk([{"index": 1, "delta": {"reasoning_content": piece}}]))
    upstream.append(chunk([{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "t0", "type": "function", "function": {"name": "f", "arguments": ""}}
    ]}}]))  # fmt: skip
    for piece in split(args0, size):
        upstream.append(chunk([{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": piece}}]}}]))  # fmt: skip
    for piece in split(args1, size):
        upstream.append(chunk([{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "function": {"arguments": piece}}]}}]))  # fmt: skip
    upstream.append(chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]))
    upstream.append({"id": "s1", "object": "chat.completion.chunk", "choices": [], "usage": {}})

    restorer = ChunkRestorer(REDACTION)
    sent = [restorer.restore_chunk(c) for c in upstream]
    last = restorer.finish()
    assert last is not None and last["id"] == "s1" and [c["index"] for c in last["choices"]] == [1]
    sent.append(last)
    assert restorer.finish() is None

    got = collect(sent)
    expected_upstream = collect(upstream)
    assert got[(0, "content")] == restore_text(content, REDACTION)
    assert got[(0, "content")].endswith("<EMAIL_")  # the unfinished look-alike, released
    assert got[(1, "reasoning_content")] == restore_text(
        expected_upstream[(1, "reasoning_content")], REDACTION
    )
    assert json.loads(got[(0, "tool0")]) == {"to": 'o"brien\\<EMAIL_1>@example.org'}
    assert json.loads(got[(0, "tool1")]) == {"k": "AKIAIOSFODNN7EXAMPLE"}
    assert sent[0] == upstream[0]
    assert sent[-2] == upstream[-1]


def test_chunk_restorer_releases_held_text_with_the_finish_reason() -> None:
    restorer = ChunkRestorer(REDACTION)
    out = restorer.restore_chunk(chunk([{"index": 0, "delta": {"content": "a <EM"}}]))
    assert out["choices"][0]["delta"]["content"] == "a "
    calls = [{"index": 2, "function": {"arguments": '{"x": "<PHO'}}]
    out = restorer.restore_chunk(chunk([{"index": 0, "delta": {"tool_calls": calls}}]))
    assert out["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == '{"x": "'
    out = restorer.restore_chunk(chunk([{"index": 0, "finish_reason": "stop"}]))
    delta = out["choices"][0]["delta"]
    assert delta == {
        "content": "<EM",
        "tool_calls": [{"index": 2, "function": {"arguments": "<PHO"}}],
    }
    assert restorer.finish() is None


def test_chunk_restorer_legacy_function_call() -> None:
    restorer = ChunkRestorer(REDACTION)
    parts = ['{"a": "<EMA', 'IL_1>"}']
    outs = [
        restorer.restore_chunk(chunk([{"index": 0, "delta": {"function_call": {"arguments": p}}}]))
        for p in parts
    ]
    text = "".join(o["choices"][0]["delta"]["function_call"]["arguments"] for o in outs)
    assert json.loads(text) == {"a": "ana@example.org"}
