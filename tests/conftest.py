"""Fixtures shared by unit and end-to-end tests: a private PostgreSQL schema per test, a
private Redis key prefix per test.

PostgreSQL tests need the server at ``$FREEHOLD_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``), Redis tests the one at
``$FREEHOLD_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``). When one cannot be reached
its tests are skipped, with the reason, unless ``$CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge correctness, not speed: no per-example deadline on a shared machine.
settings.register_profile("freehold", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("freehold")

REDIS_URL = os.environ.get("FREEHOLD_TEST_REDIS", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("FREEHOLD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _unreachable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure)")
    pytest.skip(f"{reason} (set CI=1 to make this a failure)")


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL, once checked reachable (skip, or fail under CI, otherwise)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unreachable(f"Redis is unreachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A budget-store URL with a prefix private to one test; its keys deleted afterwards."""
    import redis

    prefix = f"fhtest-{secrets.token_hex(6)}:"
    yield f"{redis_server}?prefix={prefix}"
    client = redis.Redis.from_url(redis_server)
    try:
        for name in client.scan_iter(match=prefix + "*", count=1000):
            client.delete(name)
    finally:
        client.close()


def with_options(url: str, options: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options={options}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL, once checked reachable (skip, or fail under CI, otherwise)."""
    import psycopg

    try:
        conn = psycopg.connect(PG_URL, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unreachable(f"PostgreSQL is unreachable at {PG_URL}: {str(exc).strip()}")
    conn.close()
    return PG_URL


@pytest.fixture
def pg_schema(pg_server: str) -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    import psycopg
    from psycopg import sql

    schema = f"freehold_test_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_url(pg_server: str, pg_schema: str) -> str:
    """A URL whose connections use the test's schema (``search_path`` via ``options``)."""
    return with_options(pg_server, f"-csearch_path%3D{pg_schema}")
