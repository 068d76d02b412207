"""The parts of a reliable call, without a server: the circuit breaker's states, which
failures are retried and after how long, and how deployments are picked."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from freehold.config import parse_settings
from freehold.config.schema import BreakerSettings, ModelSettings, RetrySettings
from freehold.core.errors import (
    InvalidRequest,
    ServiceUnavailable,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from freehold.pipeline.balance import Deployment, pick
from freehold.pipeline.breaker import Breaker
from freehold.pipeline.retry import backoff_s, retry_after_s, retryable, wait_s


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- breaker ----------------------------------------------------------------------------


def test_a_breaker_opens_after_consecutive_failures_and_probes_after_the_cooldown() -> None:
    clock = Clock()
    breaker = Breaker(BreakerSettings(failures=3, cooldown_s=10), clock)
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.available() and breaker.state == "closed"
    breaker.failure()
    assert not breaker.available() and breaker.state == "open"
    assert breaker.retry_in() == 10
    clock.now += 10
    assert breaker.state == "half_open" and breaker.available()
    breaker.begin()  # the probe
    assert not breaker.available()  # one probe at a time
    breaker.failure()  # the probe failed: open for another cooldown
    assert breaker.state == "open" and breaker.retry_in() == 10
    clock.now += 10
    breaker.begin()
    breaker.success()
    assert breaker.state == "closed" and breaker.available()


def test_without_settings_a_breaker_never_opens() -> None:
    breaker = Breaker(None)
    for _ in range(100):
        breaker.failure()
    assert breaker.available()


# ---- retry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamRejected("slow down", status=429), True),
        (UpstreamRejected("conflict", status=409), True),
        (UpstreamRejected("bad", status=400), False),
        (UpstreamRejected("no key", status=401), False),
        (UpstreamRejected("too long", status=400, code="context_length_exceeded"), False),
        (UpstreamError("500 from upstream"), True),
        (UpstreamUnavailable("refused"), True),
        (UpstreamTimeout("slow"), True),
        (ServiceUnavailable("queue full"), True),
        (InvalidRequest("bad input"), False),
    ],
)
def test_which_failures_are_retried(error: Any, expected: bool) -> None:
    assert retryable(error) is expected


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    settings = RetrySettings(attempts=5, backoff_s=0.1, max_backoff_s=0.3)
    rng = random.Random(3)
    for retry, ceiling in [(1, 0.1), (2, 0.2), (3, 0.3), (4, 0.3)]:
        waits = [backoff_s(settings, retry, rng) for _ in range(200)]
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.8  # spread over the range, not a constant


def test_retry_after_wins_over_backoff_even_beyond_the_cap() -> None:
    settings = RetrySettings(attempts=2, backoff_s=0.1, max_backoff_s=0.2)
    error = UpstreamRejected("slow down", status=429, headers={"Retry-After": "7"})
    assert retry_after_s(error) == 7
    assert wait_s(error, settings, 1, random.Random(1)) == 7
    dated = UpstreamRejected("x", status=429, headers={"Retry-After": "Wed, 21 Oct 2026"})
    assert retry_after_s(dated) is None
    assert retry_after_s(UpstreamRejected("x", status=429, headers={"Retry-After": "-1"})) is None


# ---- balance ----------------------------------------------------------------------------


def deployments(*weights: float) -> list[Deployment]:
    settings = ModelSettings(name="m", backend="openai", base_url="http://127.0.0.1:9/v1")
    return [
        Deployment(str(i), settings, provider=None, breaker=Breaker(None), weight=w)  # type: ignore[arg-type]
        for i, w in enumerate(weights)
    ]


def test_weighted_round_robin_matches_the_weights_exactly_and_interleaves() -> None:
    fleet = deployments(3, 1)
    rng = random.Random(1)
    picks = [pick(fleet, "weighted", set(), rng) for _ in range(400)]
    counts = Counter(d.name for d in picks if d is not None)
    assert counts == {"0": 300, "1": 100}
    first = [d.name for d in picks[:4] if d is not None]
    assert sorted(first) == ["0", "0", "0", "1"]  # every window of 4 has the split


def test_a_retry_prefers_an_untried_deployment_and_open_breakers_are_skipped() -> None:
    fleet = deployments(100, 1)
    rng = random.Random(1)
    assert {pick(fleet, "weighted", {"0"}, rng).name for _ in range(10)} == {"1"}  # type: ignore[union-attr]
    fleet[1].breaker = Breaker(BreakerSettings(failures=1, cooldown_s=60))
    fleet[1].breaker.failure()
    assert pick(fleet, "weighted", {"0"}, rng).name == "0"  # type: ignore[union-attr]
    fleet[0].breaker = Breaker(BreakerSettings(failures=1, cooldown_s=60))
    fleet[0].breaker.failure()
    assert pick(fleet, "weighted", set(), rng) is None


def test_least_busy_takes_the_fewest_in_flight() -> None:
    fleet = deployments(1, 1, 1)
    fleet[0].in_flight, fleet[1].in_flight, fleet[2].in_flight = 4, 1, 2
    assert pick(fleet, "least_busy", set(), random.Random(1)).name == "1"  # type: ignore[union-attr]


def test_latency_measures_each_then_prefers_the_faster() -> None:
    fleet = deployments(1, 1)
    rng = random.Random(1)
    first = pick(fleet, "latency", set(), rng)
    assert first is not None
    first.observe(0.5)
    second = pick(fleet, "latency", set(), rng)
    assert second is not None and second is not first  # the unmeasured one next
    second.observe(0.05)
    picks = Counter(pick(fleet, "latency", set(), rng).name for _ in range(200))  # type: ignore[union-attr]
    assert picks[second.name] > 140  # two choices: the faster wins unless drawn twice
    first.observe(0.01)
    first.observe(0.01)
    assert first.latency_s is not None and first.latency_s < 0.5  # a moving average


# ---- settings ---------------------------------------------------------------------------


def problems(model: dict[str, Any]) -> list[str]:
    from freehold.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_settings({"models": [model]}, "c.yaml", {})
    return [p.render("c.yaml") for p in caught.value.problems]


def test_deployment_settings() -> None:
    settings = parse_settings(
        {"models": [{"name": "g", "backend": "openai", "deployments": [
            {"base_url": "http://a/v1", "weight": 3, "api_key": "sk-a-123456789"},
            {"name": "eu", "base_url": "http://b/v1", "jurisdiction": "eu"}],
            "timeouts": {"total_s": 9, "first_byte_s": 2, "connect_s": 1}}]},
        "c.yaml", {},
    ).models[0]  # fmt: skip
    assert (settings.timeout_s, settings.first_byte_timeout_s, settings.connect_timeout_s) == (
        9,
        2,
        1,
    )
    named = settings.deployment_settings()
    assert [n for n, _ in named] == ["0", "eu"]
    assert named[0][1].base_url == "http://a/v1" and named[1][1].jurisdiction == "eu"
    assert named[0][1].api_key is not None and "sk-a" not in repr(named[0][1])


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"base_url": "http://x/v1", "deployments": [{"base_url": "http://a/v1"}]},
         "give either base_url or deployments"),
        ({"deployments": [{"name": "a", "base_url": "http://a/v1"},
                          {"name": "a", "base_url": "http://b/v1"}]}, "names must be unique"),
        ({"deployments": [{"base_url": "http://a/v1", "weight": 0}]}, "greater than 0"),
        ({"base_url": "http://x/v1", "timeout_s": 5, "timeouts": {"total_s": 6}},
         "timeouts.total_s and timeout_s disagree"),
        ({"base_url": "http://x/v1", "retry": {"attempts": 0}}, "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_bad_reliability_settings_are_config_errors(model: dict[str, Any], message: str) -> None:
    found = problems({"name": "g", "backend": "openai", **model})
    assert any(message in p for p in found), found
