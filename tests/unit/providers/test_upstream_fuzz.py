"""Fuzzing the translators of what upstreams send: any JSON value in any position of an
answer, a chunk or an event gives a well-shaped result or an ``UpstreamError``, never
another exception (which the gateway would answer with a 500)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.core.errors import FreeholdError, UpstreamError
from freehold.core.types import MAX_REPORTED_TOKENS, ChatRequest, Chunk, Usage
from freehold.providers import anthropic_response, openai_wire
from freehold.providers.openai_shape import check_chunk, check_completion

REQUEST = ChatRequest.model_validate(
    {"model": "m", "messages": [{"role": "user", "content": "hi there"}]}
)
FUZZ = settings(max_examples=300)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def maybe(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right shape nine times in ten, any JSON value otherwise."""
    return st.integers(0, 9).flatmap(lambda roll: json_values if roll == 0 else shape)


def obj(
    required: tuple[str, ...] = (), **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """An object whose fields may each hold anything; those not ``required`` may be missing
    (the required ones too, rarely)."""
    always = {k: maybe(v) for k, v in fields.items() if k in required}
    sometimes = {k: maybe(v) for k, v in fields.items() if k not in required}
    whole = st.fixed_dictionaries(always, optional=sometimes)
    return st.integers(0, 19).flatmap(
        lambda roll: (
            st.fixed_dictionaries({}, optional={**always, **sometimes}) if roll == 0 else whole
        )
    )


words = st.text(max_size=10)
counts = st.integers(0, 1000)
function = obj(("name", "arguments"), name=words, arguments=words)
tool_call = obj(
    ("index", "id", "function"),
    index=st.integers(0, 3),
    id=words,
    type=st.just("function"),
    function=function,
)
part = obj(("type", "text"), type=st.sampled_from(["text", "image_url"]), text=words)
message = obj(
    role=st.just("assistant"),
    content=st.none() | words | st.lists(part, max_size=2),
    refusal=st.none() | words,
    tool_calls=st.lists(tool_call, max_size=2),
    function_call=function,
)
openai_usage = obj(
    ("prompt_tokens", "completion_tokens"),
    prompt_tokens=counts,
    completion_tokens=counts,
    total_tokens=counts,
)
choice = obj(
    ("message", "delta"),
    index=st.integers(0, 2),
    message=message,
    delta=message,
    finish_reason=st.none() | st.sampled_from(["stop", "length", "tool_calls"]),
)
completion = obj(
    ("choices",), id=words, choices=st.lists(choice, min_size=1, max_size=2), usage=openai_usage
) | obj(("error",), error=obj(message=words))


def payloads(document: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Mostly ``document`` as JSON; sometimes any JSON, or any bytes."""
    return st.integers(0, 9).flatmap(
        lambda roll: (
            st.binary()
            if roll == 0
            else json_values.map(orjson.dumps)
            if roll == 1
            else document.map(orjson.dumps)
        )
    )


def assert_usage(usage: Usage) -> None:
    assert type(usage.prompt_tokens) is int and type(usage.completion_tokens) is int
    assert 0 <= usage.prompt_tokens <= 10 * MAX_REPORTED_TOKENS
    assert 0 <= usage.completion_tokens <= MAX_REPORTED_TOKENS


def assert_chunk(chunk: Chunk) -> None:
    check_chunk(chunk.data, "up")
    orjson.dumps(chunk.data)  # the gateway can relay it
    if chunk.usage is not None:
        assert_usage(chunk.usage)


@FUZZ
@given(payloads(completion))
def test_openai_whole_answers(raw: bytes) -> None:
    try:
        result = openai_wire.parse_completion(raw, REQUEST, "up")
    except UpstreamError:
        return
    check_completion(result.body, "up")
    assert_usage(result.usage)
    if result.usage.estimated:
        assert result.body["usage"] == result.usage.to_dict()
    orjson.dumps(result.body)


@FUZZ
@given(st.lists(payloads(completion) | st.just(b"[DONE]"), max_size=6))
def test_openai_stream_chunks(raws: list[bytes]) -> None:
    reader = openai_wire.StreamReader("up")
    try:
        for raw in raws:
            chunk = reader.feed(raw)
            if chunk is not None:
                assert_chunk(chunk)
        reader.end()
    except UpstreamError:
        return


a_usage = obj(
    ("input_tokens", "output_tokens"),
    input_tokens=counts,
    output_tokens=counts,
    cache_creation_input_tokens=counts,
    cache_read_input_tokens=counts,
)
block = st.one_of(
    obj(("type", "text"), type=st.just("text"), text=words),
    obj(
        ("type", "id", "name", "input"),
        type=st.just("tool_use"),
        id=words,
        name=words,
        input=st.dictionaries(st.text(max_size=3), json_values, max_size=2),
    ),
    obj(("type",), type=st.just("thinking"), thinking=words),
)
stop_reasons = st.none() | st.sampled_from(["end_turn", "max_tokens", "tool_use", "refusal"])
a_message = obj(
    ("content",),
    id=words,
    type=st.just("message"),
    model=words,
    content=st.lists(block, max_size=3),
    stop_reason=stop_reasons,
    usage=a_usage,
) | obj(type=st.just("error"), error=obj(type=words, message=words))
delta = st.one_of(
    obj(("type", "text"), type=st.just("text_delta"), text=words),
    obj(("type", "partial_json"), type=st.just("input_json_delta"), partial_json=words),
)
event = st.one_of(
    obj(("type", "message"), type=st.just("message_start"), message=a_message),
    obj(
        ("type", "index", "content_block"),
        type=st.just("content_block_start"),
        index=st.integers(0, 2),
        content_block=block,
    ),
    obj(
        ("type", "index", "delta"),
        type=st.just("content_block_delta"),
        index=st.integers(0, 2),
        delta=delta,
    ),
    obj(
        ("type", "delta"),
        type=st.just("message_delta"),
        delta=obj(stop_reason=stop_reasons),
        usage=a_usage,
    ),
    obj(("type",), type=st.sampled_from(["message_stop", "ping", "content_block_stop"])),
    obj(("type",), type=st.just("error"), error=obj(type=words, message=words)),
)
START = orjson.dumps({"type": "message_start", "message": {"id": "m", "usage": {}}})


@FUZZ
@given(payloads(a_message))
def test_anthropic_whole_answers(raw: bytes) -> None:
    try:
        result = anthropic_response.parse_message(raw, REQUEST, "up")
    except UpstreamError:
        return
    check_completion(result.body, "up")
    assert_usage(result.usage)
    orjson.dumps(result.body)


@FUZZ
@given(st.booleans(), st.lists(payloads(event), max_size=8))
def test_anthropic_stream_events(started: bool, raws: list[bytes]) -> None:
    translator = anthropic_response.StreamTranslator(REQUEST, "up")
    try:
        for raw in [START, *raws] if started else raws:
            for chunk in translator.feed(raw):
                assert_chunk(chunk)
            if translator.finished:
                return
    except UpstreamError:
        return


@FUZZ
@given(st.integers(400, 599), payloads(obj(error=obj(message=words, type=words, code=words))))
def test_error_bodies(status: int, raw: bytes) -> None:
    for parse_error in (openai_wire.parse_error, anthropic_response.parse_error):
        error = parse_error(status, raw, "up")
        assert isinstance(error, FreeholdError)
        assert error.status == (status if status < 500 else 502)
        orjson.dumps(error.to_dict())
