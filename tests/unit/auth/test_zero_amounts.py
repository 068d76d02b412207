"""Zero amounts through every store operation, on both stores (SQLite and Redis): a price-0
model holds 0 USD, a failed call settles to 0, a prompt may count 0 tokens. Redis once
refused to release a zero hold (``-0`` is not an integer to it), so a free model's holds
were never settled, and once they expired every admission on their bucket failed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from freehold.auth.base import AuthStore, Bucket, Counter, Window
from freehold.auth.keys import new_key

from .conftest import T0
from .test_stores import NOW, hold

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def counter(store: AuthStore, run: Run, bucket: Bucket, now: float = NOW) -> Counter:
    found: Counter = run(store.counters([bucket.name], now))[bucket.name]
    return found


def test_a_zero_hold_is_admitted_and_settles_to_zero(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=0, limit_tokens=0)
    admitted = run(store.reserve(hold(1, bucket, nusd=0, tokens=0)))
    assert admitted.admitted
    assert admitted.counters[bucket.name] == Counter()
    run(store.settle(hold(1, bucket, nusd=0, tokens=0), 0, 0))
    assert counter(store, run, bucket) == Counter(requests=1)
    # a zero budget admits what costs nothing, and refuses the first nano-dollar or token
    assert run(store.reserve(hold(2, bucket, nusd=0, tokens=0))).admitted
    assert run(store.reserve(hold(3, bucket, nusd=1, tokens=0))).refusal == "budget_usd"
    assert run(store.reserve(hold(4, bucket, nusd=0, tokens=1))).refusal == "budget_tokens"


def test_a_free_model_holds_tokens_only_and_settles_them(store: AuthStore, run: Run) -> None:
    """0 USD held and spent, tokens held then replaced by the actual count."""
    bucket = Bucket("key:k:total", limit_tokens=2_000)
    free = hold(1, bucket, nusd=0, tokens=981)
    assert run(store.reserve(free)).counters[bucket.name] == Counter(held_tokens=981)
    run(store.settle(free, 0, 50))
    assert counter(store, run, bucket) == Counter(tokens=50, requests=1)


def test_a_token_budget_counts_every_free_request(store: AuthStore, run: Run) -> None:
    """Each request holds 981 tokens and uses 50: admitted while 50k + 981 <= 2000."""
    bucket = Bucket("key:k:total", limit_tokens=2_000)
    admitted = 0
    for i in range(30):
        request = hold(i, bucket, nusd=0, tokens=981)
        answer = run(store.reserve(request))
        if not answer.admitted:
            assert answer.refusal == "budget_tokens"
            assert answer.counters[bucket.name] == Counter(tokens=1_050, requests=21)
            break
        admitted += 1
        run(store.settle(request, 0, 50))
    assert admitted == 21
    assert counter(store, run, bucket) == Counter(tokens=1_050, requests=21)


def test_partial_settlements_with_a_zero_side(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=1_000, limit_tokens=1_000)
    priced = hold(1, bucket, nusd=400, tokens=300)
    free = hold(2, bucket, nusd=0, tokens=300)
    assert run(store.reserve(priced)).admitted
    assert run(store.reserve(free)).admitted
    assert counter(store, run, bucket) == Counter(held_nusd=400, held_tokens=600)
    run(store.settle(priced, 0, 120))  # dollars settle to 0, tokens partly
    run(store.settle(free, 0, 0))  # nothing used
    assert counter(store, run, bucket) == Counter(tokens=120, requests=2)


def test_a_released_zero_hold_frees_nothing_twice(store: AuthStore, run: Run) -> None:
    """A failed call settles to (0, 0); settling the same zero hold again only counts."""
    bucket = Bucket("key:k:2026-11", limit_tokens=100)
    first = hold(1, bucket, nusd=0, tokens=60)
    assert run(store.reserve(first)).admitted
    assert run(store.reserve(hold(2, bucket, nusd=0, tokens=60))).refusal == "budget_tokens"
    run(store.settle(first, 0, 0))
    assert counter(store, run, bucket) == Counter(requests=1)
    assert run(store.reserve(hold(2, bucket, nusd=0, tokens=60))).admitted
    run(store.settle(first, 0, 0))
    assert counter(store, run, bucket) == Counter(requests=2, held_tokens=60)


def test_a_zero_hold_expires_and_the_bucket_keeps_working(store: AuthStore, run: Run) -> None:
    bucket = Bucket("key:k:2026-11", limit_nusd=100, limit_tokens=100)
    assert run(store.reserve(hold(1, bucket, nusd=0, tokens=0, expires=NOW + 5))).admitted
    assert run(store.reserve(hold(2, bucket, nusd=0, tokens=80, expires=NOW + 5))).admitted
    assert run(store.reserve(hold(3, bucket, nusd=100, tokens=0, expires=NOW + 5))).admitted
    # after their expiry, counters and admissions read the bucket without them
    assert counter(store, run, bucket, NOW + 6) == Counter()
    later = hold(4, bucket, nusd=100, tokens=100, now=NOW + 6, expires=NOW + 600)
    assert run(store.reserve(later)).admitted
    # late settlements of expired zero holds count the request, release nothing
    run(store.settle(hold(1, bucket, nusd=0, tokens=0), 0, 0))
    run(store.settle(hold(2, bucket, nusd=0, tokens=80), 0, 7))
    assert counter(store, run, bucket, NOW + 6) == Counter(
        tokens=7, requests=2, held_nusd=100, held_tokens=100
    )


def test_rate_windows_with_zero_tokens(store: AuthStore, run: Run) -> None:
    window = Window("rate:k:100", rpm=3, tpm=0)
    empty = hold(1, window=window, nusd=0, tokens=0, prompt_tokens=0)
    first = run(store.reserve(empty))
    assert (first.refusal, first.window_requests, first.window_tokens) == (None, 1, 0)
    run(store.settle(empty, 0, 0))  # no correction: still 0 tokens
    refused = run(store.reserve(hold(2, window=window, nusd=0, tokens=1, prompt_tokens=1)))
    assert (refused.refusal, refused.window_tokens) == ("tpm", 0)
    second = run(store.reserve(hold(3, window=window, nusd=0, tokens=0, prompt_tokens=0)))
    assert (second.refusal, second.window_requests, second.window_tokens) == (None, 2, 0)
    # a settlement whose tokens equal the prompt's leaves the window as it was
    wide = Window("rate:k:101", rpm=10, tpm=100)
    prompt = hold(4, window=wide, nusd=0, tokens=10, prompt_tokens=10)
    assert run(store.reserve(prompt)).window_tokens == 10
    run(store.settle(prompt, 0, 10))
    after = run(store.reserve(hold(5, window=wide, nusd=0, tokens=0, prompt_tokens=0)))
    assert (after.window_requests, after.window_tokens) == (2, 10)


def test_revocation_with_zero_holds(store: AuthStore, run: Run) -> None:
    key, _ = new_key("a", T0)
    run(store.save_key(key))
    bucket = Bucket(f"key:{key.id}:2026-11")
    before = hold(1, bucket, nusd=0, tokens=0, key_id=key.id)
    assert run(store.reserve(before)).admitted
    run(store.save_key(key.revoke(T0)))
    refused = run(store.reserve(hold(2, bucket, nusd=0, tokens=0, key_id=key.id)))
    assert refused.refusal == "revoked"
    # the request admitted before the revocation still settles
    run(store.settle(before, 0, 0))
    assert counter(store, run, bucket) == Counter(requests=1)


def test_large_amounts_settle_exactly(store: AuthStore, run: Run) -> None:
    """Amounts past Lua's 14-digit ``tostring`` (here $123,456.78…) return to zero exactly."""
    bucket = Bucket("key:k:total")
    big = hold(1, bucket, nusd=123_456_789_012_345, tokens=98_765_432_109_876)
    assert run(store.reserve(big)).admitted
    run(store.settle(big, 123_456_789_012_341, 98_765_432_109_871))
    assert counter(store, run, bucket) == Counter(
        spent_nusd=123_456_789_012_341, tokens=98_765_432_109_871, requests=1
    )
