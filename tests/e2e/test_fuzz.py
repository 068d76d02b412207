"""Fuzzing the gateway end to end: Hypothesis writes chat requests (valid, nearly valid and
junk) and the upstream's answers to them (well formed, subtly wrong, truncated streams, odd
statuses and content types). Whatever they are, the client never gets a 5xx other than 502,
503 or 504, every error is OpenAI error JSON, every stream event is JSON, and every request
that reached the handler has exactly one ledger row.

The upstream is a real HTTP server that answers what the request's pass-through field
``fuzz_reply`` tells it to (the gateway forwards unknown fields untouched)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from freehold.testing.servers import ServerThread

from .conftest import Gateway

# -- the scripted upstream --------------------------------------------------------------------


async def _scripted(request: Request) -> Response:
    body = orjson.loads(await request.body())
    reply = body.get("fuzz_reply") or {}
    status = int(reply.get("status", 200))
    media = str(reply.get("media", "application/json"))
    if "events" in reply:
        events = [base64.b64decode(e) for e in reply["events"]]

        async def sse() -> AsyncIterator[bytes]:
            for event in events:
                yield b"data: " + event + b"\n\n"

        return StreamingResponse(sse(), status_code=status, media_type=media)
    return Response(base64.b64decode(reply.get("raw", "")), status_code=status, media_type=media)


@pytest.fixture(scope="module")
def scripted_upstream() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/v1/chat/completions", _scripted, methods=["POST"])])
    with ServerThread(app) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_gateway(
    tmp_path_factory: pytest.TempPathFactory, scripted_upstream: ServerThread
) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = {
        "ledger": f"sqlite:///{tmp / 'ledger.db'}",
        "server": {"max_body_bytes": 100_000},
        "models": [
            {
                "name": "fuzz",
                "backend": "openai",
                "base_url": scripted_upstream.url + "/v1",
                "price": {"input_per_mtok": 1, "output_per_mtok": 2},
                "timeout_s": 5,
            }
        ],
    }
    path = tmp / "freehold.yaml"
    path.write_text(yaml.safe_dump(config))
    gateway = Gateway(path, tmp / "ledger.db", {**os.environ, "FREEHOLD_HOME": str(tmp / "home")})
    yield gateway
    gateway.stop()


# -- strategies ---------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
sometimes = st.one_of(json_values, json_values)  # junk in a place that expects a shape


def perturbed(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the well-formed value, sometimes anything at all."""
    return st.one_of(good, good, good, json_values)


contents = perturbed(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)})),
        st.none(),
    )
)
messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": perturbed(st.sampled_from(["system", "user", "assistant", "tool"])),
            "content": contents,
        }
    ),
    min_size=0,
    max_size=3,
)
usage = perturbed(
    st.fixed_dictionaries(
        {
            "prompt_tokens": perturbed(st.integers(min_value=-(2**63), max_value=2**64 - 1)),
            "completion_tokens": perturbed(st.integers(min_value=0, max_value=50)),
        }
    )
)
tool_calls = st.lists(
    perturbed(
        st.fixed_dictionaries(
            {
                "id": st.text(max_size=5),
                "type": st.just("function"),
                "function": perturbed(
                    st.fixed_dictionaries(
                        {"name": st.text(max_size=5), "arguments": perturbed(st.text(max_size=10))}
                    )
                ),
            }
        )
    ),
    max_size=2,
)
message = perturbed(
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": contents},
        optional={"tool_calls": tool_calls},
    )
)
choice = perturbed(
    st.fixed_dictionaries(
        {
            "index": perturbed(st.just(0)),
            "message": message,
            "finish_reason": perturbed(st.sampled_from(["stop", "length", None])),
        }
    )
)
completion = perturbed(
    st.fixed_dictionaries(
        {
            "id": st.just("c"),
            "object": st.just("chat.completion"),
            "model": st.text(max_size=5),
            "choices": perturbed(st.lists(choice, max_size=2)),
        },
        optional={"usage": usage},
    )
)
chunk = perturbed(
    st.fixed_dictionaries(
        {
            "id": st.just("c"),
            "object": st.just("chat.completion.chunk"),
            "choices": perturbed(
                st.lists(
                    perturbed(
                        st.fixed_dictionaries(
                            {
                                "index": perturbed(st.just(0)),
                                "delta": perturbed(st.fixed_dictionaries({"content": contents})),
                                "finish_reason": perturbed(st.sampled_from([None, "stop"])),
                            }
                        )
                    ),
                    max_size=2,
                )
            ),
        },
        optional={"usage": usage},
    )
)


clean_completion = st.fixed_dictionaries(
    {
        "id": st.just("c"),
        "object": st.just("chat.completion"),
        "model": st.just("m"),
        "choices": st.lists(
            st.fixed_dictionaries(
                {
                    "index": st.just(0),
                    "message": st.fixed_dictionaries(
                        {"role": st.just("assistant"), "content": st.text(max_size=20)}
                    ),
                    "finish_reason": st.just("stop"),
                }
            ),
            min_size=1,
            max_size=1,
        ),
    },
    optional={"usage": usage},
)
clean_chunk = st.builds(
    lambda text, finish: {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    },
    st.text(max_size=10),
    st.sampled_from([None, None, "stop"]),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


whole_reply = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200] * 8 + [400, 401, 404, 429, 500, 503]),
        "media": st.sampled_from(["application/json", "application/json", "text/html"]),
        "raw": st.one_of(
            clean_completion.map(orjson.dumps),
            clean_completion.map(orjson.dumps),
            completion.map(orjson.dumps),
            st.binary(max_size=30),
            st.just(b'{"error": {"message": "nope", "type": "x"}}'),
        ).map(_b64),
    }
)
stream_reply = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200] * 8 + [400, 500]),
        "media": st.sampled_from(["text/event-stream", "text/event-stream", "text/html"]),
        "events": st.tuples(
            st.lists(
                st.one_of(
                    clean_chunk.map(orjson.dumps),
                    clean_chunk.map(orjson.dumps),
                    chunk.map(orjson.dumps),
                    st.binary(max_size=10),
                ),
                max_size=4,
            ),
            st.sampled_from([[b"[DONE]"], [b"[DONE]"], [], [b'{"error": {"message": "mid"}}']]),
        ).map(lambda parts: [_b64(e) for e in parts[0] + parts[1]]),
    }
)
valid_requests = st.fixed_dictionaries(
    {
        "model": st.just("fuzz"),
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "system"]), "content": st.text(max_size=30)}
            ),
            min_size=1,
            max_size=2,
        ),
    },
    optional={
        "stream": st.booleans(),
        "max_tokens": st.integers(min_value=1, max_value=1000),
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
        "extra_field": json_values,
    },
)
junk_requests = st.fixed_dictionaries(
    {
        "model": perturbed(st.sampled_from(["fuzz", "FUZZ", "unknown-model"])),
        "messages": perturbed(messages),
    },
    optional={
        "stream": perturbed(st.booleans()),
        "max_tokens": perturbed(st.integers(min_value=-5, max_value=2**64 - 1)),
        "n": perturbed(st.integers(min_value=0, max_value=3)),
        "temperature": perturbed(st.floats(min_value=-1, max_value=3)),
        "stream_options": perturbed(st.fixed_dictionaries({"include_usage": st.booleans()})),
        "tools": sometimes,
        "extra_field": json_values,
    },
)
requests = st.one_of(valid_requests, junk_requests)


# -- the property -----------------------------------------------------------------------------


def check_response(response: httpx.Response) -> None:
    status = response.status_code
    assert status < 500 or status in (502, 503, 504), response.text
    assert "Traceback" not in response.text
    if status >= 400:
        body = response.json()
        assert set(body["error"]) >= {"message", "type", "param", "code"}, body
        return
    if response.headers["content-type"].startswith("text/event-stream"):
        for line in response.text.split("\n\n"):
            if line and line != "data: [DONE]":
                assert line.startswith("data: ")
                orjson.loads(line[6:])  # every event is JSON (answers and errors alike)
    else:
        assert isinstance(response.json()["choices"], list)


@pytest.mark.timeout(300)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
def test_fuzzed_requests_and_upstream_answers(fuzz_gateway: Gateway) -> None:
    seen: list[str] = []
    client = httpx.Client(base_url=fuzz_gateway.url, timeout=30)

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )
    @given(request=requests, whole=whole_reply, stream=stream_reply, junk=st.booleans())
    def one(request: dict[str, Any], whole: Any, stream: Any, junk: bool) -> None:
        request["fuzz_reply"] = stream if request.get("stream") is True else whole
        content = orjson.dumps(request, option=orjson.OPT_NON_STR_KEYS)
        if junk and len(content) % 7 == 0:  # sometimes not JSON at all
            content = content[: len(content) // 2]
        response = client.post(
            "/v1/chat/completions", content=content, headers={"content-type": "application/json"}
        )
        check_response(response)
        seen.append(response.headers["x-freehold-request-id"])

    with client:
        one()
    rows = fuzz_gateway.wait_rows(len(seen), timeout=20)
    ids = [row.id for row in rows]
    assert sorted(ids) == sorted(seen)  # one row per request, none lost, none twice
    assert all(row.cost_usd >= 0 and row.prompt_tokens >= 0 for row in rows)
