"""Both budget stores (SQLite and Redis) against the same contract: holds are atomic, never
let a bucket past its limit, expire when their replica dies, and settle to the actual cost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from freehold.auth.base import AuthStore, Bucket, Counter, Hold, Window
from freehold.auth.factory import open_auth_store
from freehold.auth.keys import new_key

from .conftest import T0

Run = Callable[[Coroutine[Any, Any, Any]], Any]
NOW = T0.timestamp()


def hold(i: int, *buckets: Bucket, nusd: int = 100, tokens: int = 10, **extra: Any) -> Hold:
    values: dict[str, Any] = {
        "id": f"req{i}",
        "buckets": buckets,
        "window": None,
        "nusd": nusd,
        "tokens": tokens,
        "prompt_tokens": 4,
        "now": NOW,
        "expires": NOW + 600,
    }
    values.update(extra)
    return Hold(**values)


def test_keys_round_trip(store: AuthStore, run: Run) -> None:
    first, _ = new_key("a", T0)
    second, _ = new_key("b", T0.replace(hour=13))
    run(store.save_key(second))
    run(store.save_key(first))
    assert run(store.key(first.id)) == first
    assert run(store.key("key_000000000000")) is None
    assert [k.id for k in run(store.keys())] == [first.id, second.id]
    revoked = first.revoke(T0)
    run(store.save_key(revoked))
    assert run(store.key(first.id)).revoked == T0


def test_holds_for_a_revoked_key_are_refused(store: AuthStore, run: Run) -> None:
    key, _ = new_key("a", T0)
    run(store.save_key(key))
    bucket = Bucket("key:k:2026-11")
    assert run(store.reserve(hold(1, bucket, key_id=key.id))).admitted
    run(store.save_key(key.revoke(T0)))
    refused = run(store.reserve(hold(2, bucket, key_id=key.id)))
    assert refused.refusal == "revoked"
    assert run(store.counters([bucket.name], NOW))[bucket.name].held_nusd == 100


def test_a_hold_counts_until_settled_then_the_actual_cost_does(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=250)
    first = run(store.reserve(hold(1, bucket)))
    assert first.admitted
    assert first.counters[bucket.name] == Counter(held_nusd=100, held_tokens=10)
    assert run(store.reserve(hold(2, bucket))).admitted
    refused = run(store.reserve(hold(3, bucket)))  # 100 + 100 + 100 > 250
    assert refused.refusal == "budget_usd" and refused.bucket == bucket.name
    run(store.settle(hold(1, bucket), 30, 7))
    assert run(store.counters([bucket.name], NOW)) == {
        bucket.name: Counter(spent_nusd=30, tokens=7, requests=1, held_nusd=100, held_tokens=10)
    }
    assert run(store.reserve(hold(3, bucket))).admitted  # 30 + 100 + 100 <= 250


def test_token_limits_and_every_bucket_must_allow(store: AuthStore, run: Run) -> None:
    key = Bucket("key:k:total", limit_tokens=25)
    team = Bucket("tag:team=a:2026-11", limit_nusd=150)
    assert run(store.reserve(hold(1, key, team))).admitted
    refused = run(store.reserve(hold(2, key, team)))
    assert (refused.refusal, refused.bucket) == ("budget_usd", team.name)
    # nothing was held by the refused request on the bucket that allowed it
    assert run(store.counters([key.name], NOW))[key.name].held_tokens == 10
    other_key = Bucket("key:k2:total", limit_tokens=15)
    refused = run(store.reserve(hold(3, other_key, nusd=0, tokens=16)))
    assert refused.refusal == "budget_tokens"


def test_a_failed_call_releases_everything(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=100)
    assert run(store.reserve(hold(1, bucket))).admitted
    assert not run(store.reserve(hold(2, bucket))).admitted
    run(store.settle(hold(1, bucket), 0, 0))
    assert run(store.reserve(hold(2, bucket))).admitted


def test_holds_of_a_dead_replica_expire(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=100)
    assert run(store.reserve(hold(1, bucket, expires=NOW + 5))).admitted
    assert not run(store.reserve(hold(2, bucket))).admitted
    later = hold(2, bucket, now=NOW + 6, expires=NOW + 600)
    assert run(store.reserve(later)).admitted
    # a late settlement of the expired hold charges its cost without releasing it twice
    run(store.settle(hold(1, bucket), 40, 4))
    counter = run(store.counters([bucket.name], NOW + 6))[bucket.name]
    assert counter == Counter(spent_nusd=40, tokens=4, requests=1, held_nusd=100, held_tokens=10)


def test_rate_windows_count_requests_and_tokens(store: AuthStore, run: Run) -> None:
    window = Window("rate:k:100", rpm=2, tpm=20)
    first = run(store.reserve(hold(1, window=window)))
    assert (first.window_requests, first.window_tokens) == (1, 4)
    assert run(store.reserve(hold(2, window=window))).admitted
    assert run(store.reserve(hold(3, window=window))).refusal == "rpm"
    # settlement corrects the window's tokens to the actual count
    run(store.settle(hold(1, window=window), 0, 15))
    tight = Window("rate:k:100", rpm=10, tpm=20)
    refused = run(store.reserve(hold(4, window=tight)))
    assert (refused.refusal, refused.window_tokens) == ("tpm", 19)
    # the next minute is a new window
    assert run(store.reserve(hold(5, window=Window("rate:k:101", rpm=2, tpm=20)))).admitted


def test_concurrent_reservations_never_pass_the_limit(store_url: str, run: Run) -> None:
    """200 holds at once from 4 clients (as 4 replicas would): exactly limit/amount admitted."""
    stores = [open_auth_store(store_url) for _ in range(4)]
    bucket = Bucket("key:k:2026-11", limit_nusd=2_500)

    async def go() -> list[bool]:
        await stores[0].migrate()
        results = await asyncio.gather(
            *(stores[i % 4].reserve(hold(i, bucket)) for i in range(200))
        )
        return [r.admitted for r in results]

    try:
        admitted = run(go())
        assert sum(admitted) == 25
        counter = run(stores[0].counters([bucket.name], NOW))[bucket.name]
        assert counter.held_nusd == 2_500
    finally:
        for opened in stores:
            run(opened.aclose())


def test_counters_of_unknown_buckets_are_zero(store: AuthStore, run: Run) -> None:
    assert run(store.counters(["nothing"], NOW)) == {"nothing": Counter()}
    assert run(store.counters([], NOW)) == {}


def test_a_hold_with_no_buckets_is_admitted(store: AuthStore, run: Run) -> None:
    assert run(store.reserve(replace(hold(1), buckets=()))).admitted


def test_sqlite_checkpoints_off_the_event_loop(tmp_path: Any, monkeypatch: Any, run: Run) -> None:
    """Automatic checkpoints (an fsync on the request path) are off; the store folds the
    write-ahead log into the database file from a worker thread instead."""
    from freehold.auth import sqlite_store

    path = tmp_path / "budgets.db"
    store = sqlite_store.SqliteAuthStore(path)
    run(store.migrate())
    bucket = Bucket("key:k:2026-11")
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_S", 3600.0)
    for i in range(50):
        run(store.reserve(hold(i, bucket)))
        run(store.settle(hold(i, bucket), 1, 1))
    unfolded = path.stat().st_size
    assert path.with_name("budgets.db-wal").stat().st_size > unfolded
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_S", 0.0)

    async def settle_and_wait() -> None:
        await store.settle(hold(99, bucket), 1, 1)
        assert store._checkpoint is not None
        await store._checkpoint

    run(settle_and_wait())
    assert path.stat().st_size > unfolded
    run(store.aclose())
