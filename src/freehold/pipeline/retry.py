"""When a failed call is tried again, and after how long.

Retried: 429 (the upstream's rate limit or a local model's full queue), 5xx, answers that
cannot be used, connect errors and timeouts. Not retried: any other 4xx (the same request
would be refused again), and whatever is freehold's own decision. The wait is exponential
with full jitter (``uniform(0, min(max_backoff_s, backoff_s × 2^(n-1)))``), or the upstream's
``Retry-After`` when it sends one, even beyond ``max_backoff_s``; either way the wait must end
before the request's deadline, else the last error stands.
"""

from __future__ import annotations

import random

from freehold.config.schema import RetrySettings
from freehold.core.errors import (
    FreeholdError,
    ServiceUnavailable,
    UpstreamError,
    UpstreamRejected,
)

#: Refusals of an upstream that may pass on a second try.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def retryable(error: FreeholdError) -> bool:
    """Whether the same request may succeed if sent again."""
    if isinstance(error, UpstreamRejected):
        return error.status in RETRYABLE_STATUSES or error.status >= 500
    return isinstance(error, UpstreamError | ServiceUnavailable)


def retry_after_s(error: FreeholdError) -> float | None:
    """The upstream's ``Retry-After`` in seconds, when it gave a number."""
    value = error.headers.get("Retry-After") or error.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 86_400 else None


def backoff_s(settings: RetrySettings, retry: int, rng: random.Random) -> float:
    """The wait before retry number ``retry`` (1 for the first), full jitter."""
    ceiling = min(settings.max_backoff_s, settings.backoff_s * 2 ** (retry - 1))
    return rng.uniform(0, ceiling)


def wait_s(error: FreeholdError, settings: RetrySettings, retry: int, rng: random.Random) -> float:
    """How long to wait before retry number ``retry`` after ``error``."""
    after = retry_after_s(error)
    return after if after is not None else backoff_s(settings, retry, rng)
