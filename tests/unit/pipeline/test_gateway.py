"""The Gateway in-process, over a real mock upstream, with the in-memory ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest

from freehold.auth.static_keys import StaticKeys
from freehold.config import parse_settings
from freehold.core.errors import ModelNotFound, UpstreamError
from freehold.core.types import ChatRequest
from freehold.pipeline.context import RequestContext
from freehold.pipeline.gateway import CLIENT_CLOSED, Gateway
from freehold.providers.registry import ProviderRegistry
from freehold.testing import mock_openai
from freehold.testing.ledger import MemoryLedger
from freehold.testing.servers import ServerThread


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    with ServerThread(mock_openai.create_app()) as server:
        yield server


def request(text: str, **fields: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": text}], **fields}
    )


def run(upstream: ServerThread, scenario):  # type: ignore[no-untyped-def]
    settings = parse_settings(
        {
            "models": [
                {
                    "name": "m",
                    "backend": "openai",
                    "base_url": upstream.url + "/v1",
                    "price": {"input_per_mtok": 1, "output_per_mtok": 1},
                }
            ]
        },
        env={},
    )
    ledger = MemoryLedger()

    async def main():  # type: ignore[no-untyped-def]
        registry = ProviderRegistry(settings.models)
        try:
            return await scenario(Gateway(registry, ledger, StaticKeys([])))
        finally:
            await registry.aclose()

    return asyncio.run(main()), ledger.rows


def test_whole_answer_is_costed_and_recorded(upstream: ServerThread) -> None:
    async def scenario(gateway: Gateway):  # type: ignore[no-untyped-def]
        return await gateway.handle(RequestContext("r1", "key-1"), request("a b"))

    result, rows = run(upstream, scenario)
    assert result.usage.total_tokens == 2 + 4
    (row,) = rows
    assert (row.id, row.key_id, row.cost_usd, row.status) == ("r1", "key-1", Decimal("6E-6"), 200)


def test_unknown_model_is_recorded(upstream: ServerThread) -> None:
    async def scenario(gateway: Gateway) -> None:
        with pytest.raises(ModelNotFound, match="Available models: m"):
            await gateway.handle(RequestContext("r2", None), request("x", model="zzz"))

    _, rows = run(upstream, scenario)
    assert (rows[0].status, rows[0].error_type, rows[0].served_model) == (
        404,
        "model_not_found",
        None,
    )


def test_stream_abandoned_by_the_client_is_recorded_as_499(upstream: ServerThread) -> None:
    async def scenario(gateway: Gateway) -> int:
        chunks = await gateway.open_stream(
            RequestContext("r3", None), request("[[words:50]]", stream=True)
        )
        seen = 0
        async for _ in chunks:
            seen += 1
            if seen == 3:
                break
        await chunks.aclose()  # type: ignore[attr-defined]
        return seen

    seen, rows = run(upstream, scenario)
    assert seen == 3
    (row,) = rows
    assert (row.status, row.error_type, row.stream) == (CLIENT_CLOSED, "client_disconnected", True)
    assert row.usage_estimated is True  # the usage chunk never came; what was relayed is counted


def test_stream_refused_before_the_first_chunk_raises_from_open(upstream: ServerThread) -> None:
    async def scenario(gateway: Gateway) -> None:
        with pytest.raises(UpstreamError):
            await gateway.open_stream(
                RequestContext("r4", None), request("x [[status:500]]", stream=True)
            )

    _, rows = run(upstream, scenario)
    assert rows[0].status == 502
