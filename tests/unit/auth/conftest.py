"""Auth test fixtures: both budget stores behind one ``store`` fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from freehold.auth.base import AuthStore
from freehold.auth.factory import open_auth_store

T = TypeVar("T")
T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def run() -> Iterator[Callable[[Coroutine[Any, Any, T]], T]]:
    """Run coroutines on one event loop for the whole test (a Redis client is bound to it)."""
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete
    loop.close()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        return url
    return f"sqlite:///{tmp_path / 'budgets.db'}"


@pytest.fixture
def store(store_url: str, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> Iterator[AuthStore]:
    opened = open_auth_store(store_url)
    run(opened.migrate())
    yield opened
    run(opened.aclose())
