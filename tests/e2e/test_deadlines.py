"""Deadlines of an attempt and clients that leave: a trickling upstream is cut at the total
deadline, a silent one at the first-byte timeout, and a client that disconnects stops the
upstream call at once (499 in the ledger)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from freehold.testing.servers import free_port

from .conftest import Gateway, MakeClient, StartGateway

CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}],
}


class SlowUpstream:
    """An OpenAI-compatible upstream that misbehaves in time, chosen by the last user
    message: ``trickle-stream`` (a chunk every 0.2 s, forever), ``trickle-whole`` (headers,
    then a byte every 0.2 s), ``late-first`` (a stream whose first chunk comes after 3 s),
    ``hang`` (reads the request, never answers). It notes when each connection closed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.closed: dict[str, float] = {}
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()

    def __enter__(self) -> SlowUpstream:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = "?"
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = json.loads(await reader.readexactly(length))
            mode = body["messages"][-1]["content"]
            await getattr(self, "_" + mode.replace("-", "_"))(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self.closed[mode] = time.monotonic()
            writer.close()

    @staticmethod
    async def _event(writer: asyncio.StreamWriter, data: bytes) -> None:
        payload = b"data: " + data + b"\n\n"
        writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        await writer.drain()

    async def _stream_head(self, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        await writer.drain()

    async def _trickle_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await self._stream_head(writer)
        while True:
            await self._event(writer, json.dumps(CHUNK).encode())
            await asyncio.sleep(0.2)

    async def _late_first(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3)
        await self._stream_head(writer)
        await self._event(writer, json.dumps(CHUNK).encode())
        await self._event(writer, b"[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _trickle_whole(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n"
        )
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)

    async def _hang(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.wait_for(reader.read(), 60)  # returns when the gateway hangs up

    def wait_closed(self, mode: str, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while mode not in self.closed:
            if time.monotonic() > deadline:
                raise AssertionError(f"the upstream connection for {mode!r} was never closed")
            time.sleep(0.02)
        return self.closed.pop(mode)


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[SlowUpstream]:
    with SlowUpstream() as upstream:
        yield upstream


@pytest.fixture
def slow_gateway(start_gateway: StartGateway, slow_upstream: SlowUpstream) -> Gateway:
    def edit(config: dict[str, Any]) -> None:
        config["models"].append(
            {
                "name": "slow",
                "backend": "openai",
                "base_url": slow_upstream.url,
                "timeout_s": 1.5,
                "first_byte_timeout_s": 1.0,
                "read_timeout_s": 5,
            }
        )

    return start_gateway(edit)


def ask(mode: str, **extra: Any) -> dict[str, Any]:
    return {"model": "slow", "messages": [{"role": "user", "content": mode}], **extra}


def test_a_trickling_stream_is_cut_at_the_total_deadline(
    slow_gateway: Gateway, slow_upstream: SlowUpstream, make_client: MakeClient
) -> None:
    client = make_client(slow_gateway)
    started = time.monotonic()
    raw = client.chat.completions.with_raw_response.create(**ask("trickle-stream"), stream=True)
    request_id = raw.headers["x-freehold-request-id"]
    received: list[Any] = []
    with pytest.raises(openai.APIError, match=r"did not finish .*\(timeout_s\)"):
        received.extend(raw.parse())
    elapsed = time.monotonic() - started
    assert len(received) >= 3  # chunks flowed until the deadline
    assert 1.4 < elapsed < 4.0
    closed = slow_upstream.wait_closed("trickle-stream")
    assert closed - started < 4.0
    row = slow_gateway.row(request_id)
    assert (row.status, row.error_type, row.stream) == (504, "upstream_timeout", True)


def test_a_trickling_whole_answer_is_cut_at_the_total_deadline(
    slow_gateway: Gateway, slow_upstream: SlowUpstream
) -> None:
    started = time.monotonic()
    response = httpx.post(
        slow_gateway.url + "/v1/chat/completions", json=ask("trickle-whole"), timeout=20
    )
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert "within 1.5 s (timeout_s)" in response.json()["error"]["message"]
    assert time.monotonic() - started < 4.0
    slow_upstream.wait_closed("trickle-whole")
    row = slow_gateway.row(response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type) == (504, "upstream_timeout")


def test_a_stream_without_a_first_chunk_gets_504_before_it_starts(
    slow_gateway: Gateway, slow_upstream: SlowUpstream
) -> None:
    started = time.monotonic()
    response = httpx.post(
        slow_gateway.url + "/v1/chat/completions", json=ask("late-first", stream=True), timeout=20
    )
    assert response.status_code == 504, response.text
    assert "first_byte_timeout_s" in response.json()["error"]["message"]
    assert time.monotonic() - started < 2.5
    row = slow_gateway.row(response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type, row.stream) == (504, "upstream_timeout", True)


def _raw_post(gateway: Gateway, body: dict[str, Any]) -> socket.socket:
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", gateway.port))
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data)
    )
    return sock


def test_a_client_that_leaves_a_whole_request_cancels_the_upstream_call(
    slow_gateway: Gateway, slow_upstream: SlowUpstream
) -> None:
    sock = _raw_post(slow_gateway, ask("hang"))
    time.sleep(0.5)
    left = time.monotonic()
    sock.close()
    closed = slow_upstream.wait_closed("hang")
    assert closed - left < 1.0  # not the 60 s the upstream would have hung
    rows = slow_gateway.wait_rows(1)
    assert [(r.status, r.error_type, r.served_model) for r in rows] == [
        (499, "client_disconnected", "slow")
    ]
    assert "499 whole model=slow error=client_disconnected" in slow_gateway.log()


def test_a_client_that_leaves_a_stream_cancels_the_upstream_call(
    slow_gateway: Gateway, slow_upstream: SlowUpstream
) -> None:
    sock = _raw_post(slow_gateway, ask("trickle-stream", stream=True))
    assert b"tick" in sock.recv(65536) or b"tick" in sock.recv(65536)
    left = time.monotonic()
    sock.close()
    closed = slow_upstream.wait_closed("trickle-stream")
    assert closed - left < 1.0
    row = slow_gateway.wait_rows(1)[0]
    assert (row.status, row.error_type, row.stream) == (499, "client_disconnected", True)
