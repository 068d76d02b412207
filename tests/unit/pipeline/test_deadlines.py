"""The attempt's deadlines, for any provider: total, first chunk, and closing what was cut."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from freehold.config.schema import ModelSettings
from freehold.core.errors import UpstreamTimeout
from freehold.core.types import ChatRequest, ChatResult, Chunk, Usage
from freehold.pipeline import deadlines

REQUEST = ChatRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "x"}]})


def model(**timeouts: float) -> ModelSettings:
    return ModelSettings(name="m", backend="openai", base_url="http://127.0.0.1:1/v1", **timeouts)


class Scripted:
    """A provider whose answer takes ``delay`` s and whose stream sends a chunk every
    ``every`` s after ``first`` s (``count`` chunks, None: forever)."""

    def __init__(
        self, delay: float = 0.0, first: float = 0.0, every: float = 0.0, count: int | None = 3
    ) -> None:
        self.delay, self.first, self.every, self.count = delay, first, every, count
        self.closed = False

    async def complete(self, request: ChatRequest) -> ChatResult:
        await asyncio.sleep(self.delay)
        return ChatResult({"choices": []}, Usage(1, 1))

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        try:
            await asyncio.sleep(self.first)
            sent = 0
            while self.count is None or sent < self.count:
                yield Chunk({"n": sent})
                sent += 1
                await asyncio.sleep(self.every)
        finally:
            self.closed = True

    async def aclose(self) -> None:
        return None


def collect(provider: Scripted, settings: ModelSettings) -> tuple[list[Any], Exception | None]:
    async def run() -> tuple[list[Any], Exception | None]:
        got: list[Any] = []
        try:
            async for chunk in deadlines.stream(provider, REQUEST, settings):
                got.append(chunk.data["n"])
        except UpstreamTimeout as error:
            return got, error
        return got, None

    return asyncio.run(run())


def test_a_whole_answer_within_its_deadline_passes() -> None:
    result = asyncio.run(deadlines.complete(Scripted(delay=0.01), REQUEST, model(timeout_s=1)))
    assert result.usage.total_tokens == 2


def test_a_whole_answer_past_its_deadline_is_a_504() -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"within 0\.2 s \(timeout_s\)") as caught:
        asyncio.run(deadlines.complete(Scripted(delay=5), REQUEST, model(timeout_s=0.2)))
    assert caught.value.status == 504
    assert time.monotonic() - started < 1


def test_a_stream_within_its_deadlines_passes_whole() -> None:
    provider = Scripted(every=0.01)
    chunks, error = collect(provider, model(timeout_s=2, first_byte_timeout_s=1))
    assert (chunks, error) == ([0, 1, 2], None)
    assert provider.closed


def test_a_late_first_chunk_is_cut_by_the_first_byte_timeout() -> None:
    provider = Scripted(first=5)
    chunks, error = collect(provider, model(timeout_s=10, first_byte_timeout_s=0.2))
    assert chunks == [] and error is not None
    assert "no first chunk within 0.2 s (first_byte_timeout_s)" in error.message
    assert provider.closed  # the upstream call is closed, not left running


def test_a_trickling_stream_is_cut_by_the_total_deadline() -> None:
    provider = Scripted(every=0.05, count=None)
    started = time.monotonic()
    chunks, error = collect(provider, model(timeout_s=0.5, first_byte_timeout_s=0.4))
    assert error is not None and "did not finish the stream within 0.5 s" in error.message
    assert 0.45 < time.monotonic() - started < 1.5
    assert len(chunks) >= 5
    assert provider.closed


def test_a_first_byte_timeout_beyond_the_total_is_the_total() -> None:
    provider = Scripted(first=5)
    chunks, error = collect(provider, model(timeout_s=0.2, first_byte_timeout_s=60))
    assert chunks == [] and error is not None and "(timeout_s)" in error.message
