"""The deployments of one model, and one call across them: pick a deployment → call under
the attempt's deadlines → on a retryable failure, wait (backoff or ``Retry-After``) and try
again, on a deployment not yet tried when there is one → until the answer, a failure that
will not change, the model's ``retry.attempts`` or the request's deadline (the model's
``timeout_s`` from the first call). Every call is an :class:`Call` record in the list the
caller passes; each outcome feeds the deployment's breaker and latency.

A stream is retried only until its first content chunk: chunks before it (a role-only
delta) are held back, so the client never sees two beginnings; a failure after it ends the
stream (the gateway sends an error event).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError, ServiceUnavailable
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.pipeline import deadlines
from freehold.pipeline.balance import Deployment, pick
from freehold.pipeline.breaker import Breaker
from freehold.pipeline.retry import retryable, wait_s
from freehold.providers.base import Provider


@dataclass(slots=True)
class Call:
    """One upstream call of a request."""

    model: str
    deployment: str
    kind: str
    """``first`` or ``retry``."""
    started: float
    ended: float = 0.0
    error: str | None = None
    status: int = 200

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "deployment": self.deployment,
            "kind": self.kind,
            "ms": round((self.ended - self.started) * 1000, 1),
            "status": self.status,
            "error": self.error,
        }


def _has_content(chunk: Chunk) -> bool:
    for choice in chunk.data.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("tool_calls") or choice.get("finish_reason"):
            return True
    return False


class Fleet:
    """The deployments of one model (one, for a model without ``deployments``)."""

    def __init__(
        self,
        settings: ModelSettings,
        deployments: list[tuple[str, ModelSettings, Provider]],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        weights = [d.weight for d in settings.deployments] or [1.0]
        self.deployments = [
            Deployment(name, s, provider, Breaker(settings.breaker), weight)
            for (name, s, provider), weight in zip(deployments, weights, strict=True)
        ]
        self._rng = rng or random.Random()

    def states(self) -> list[dict[str, Any]]:
        """Each deployment's breaker, calls in flight and last error (never its URL or key)."""
        return [
            {
                "deployment": d.name,
                "available": d.breaker.available(),
                "breaker": d.breaker.state,
                "retry_in_s": round(d.breaker.retry_in(), 1),
                "in_flight": d.in_flight,
                "calls": d.calls,
                "latency_ms": None if d.latency_s is None else round(d.latency_s * 1000, 1),
                "last_error": d.last_error,
            }
            for d in self.deployments
        ]

    def _next(self, tried: set[str]) -> Deployment:
        deployment = pick(self.deployments, self.settings.balance, tried, self._rng)
        if deployment is None:
            wait = min(d.breaker.retry_in() for d in self.deployments)
            raise ServiceUnavailable(
                f"every deployment of model {self.settings.name!r} is cut off by its circuit "
                f"breaker after repeated failures; retry in {wait:.0f} s",
                code="circuit_open",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        deployment.breaker.begin()
        return deployment

    async def _wait(self, error: FreeholdError, retry: int, deadline: float) -> bool:
        """Sleep before retry number ``retry``; False when the deadline comes first."""
        wait = wait_s(error, self.settings.retry, retry, self._rng)
        if time.monotonic() + wait >= deadline:
            return False
        await asyncio.sleep(wait)
        return True

    def _failed(self, deployment: Deployment, call: Call, error: FreeholdError) -> None:
        call.ended, call.status, call.error = time.perf_counter(), error.status, error.kind
        deployment.last_error = f"{error.status} {error.kind}"
        if retryable(error):
            deployment.breaker.failure()
        else:
            deployment.breaker.success()  # the deployment answered; the request was wrong

    def _begin(self, tried: set[str], number: int, calls: list[Call]) -> tuple[Deployment, Call]:
        """Call number ``number`` starts: its deployment, counted in flight, and its record."""
        deployment = self._next(tried)
        tried.add(deployment.name)
        kind = "first" if number == 1 else "retry"
        call = Call(self.settings.name, deployment.name, kind, time.perf_counter())
        calls.append(call)
        deployment.in_flight += 1
        deployment.calls += 1
        return deployment, call

    def _succeeded(self, deployment: Deployment, call: Call) -> None:
        call.ended = time.perf_counter()
        deployment.breaker.success()
        deployment.observe(call.ended - call.started)

    async def complete(self, request: ChatRequest, calls: list[Call]) -> ChatResult:
        """The whole answer, retried as the model's settings allow."""
        tried: set[str] = set()
        deadline = time.monotonic() + self.settings.timeout_s
        for number in range(1, self.settings.retry.attempts + 1):
            deployment, call = self._begin(tried, number, calls)
            try:
                result = await deadlines.complete(deployment.provider, request, deployment.settings)
            except FreeholdError as error:
                self._failed(deployment, call, error)
                last = number == self.settings.retry.attempts
                if last or not retryable(error) or not await self._wait(error, number, deadline):
                    raise
                continue
            finally:
                deployment.in_flight -= 1
            self._succeeded(deployment, call)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def stream(self, request: ChatRequest, calls: list[Call]) -> AsyncIterator[Chunk]:
        """The answer's chunks; retried as the model's settings allow until the first
        content chunk, which is the first chunk yielded (with any held back before it)."""
        tried: set[str] = set()
        deadline = time.monotonic() + self.settings.timeout_s
        for number in range(1, self.settings.retry.attempts + 1):
            deployment, call = self._begin(tried, number, calls)
            upstream = deadlines.stream(deployment.provider, request, deployment.settings)
            held: list[Chunk] = []
            try:
                async for chunk in upstream:
                    held.append(chunk)
                    if _has_content(chunk):
                        break
            except BaseException as error:
                deployment.in_flight -= 1
                await deadlines.close(upstream)
                if not isinstance(error, FreeholdError):
                    raise  # cancelled (the client left), or a bug: not the deployment's fault
                self._failed(deployment, call, error)
                last = number == self.settings.retry.attempts
                if last or not retryable(error) or not await self._wait(error, number, deadline):
                    raise
                continue
            deployment.observe(time.perf_counter() - call.started)
            try:
                for chunk in held:
                    yield chunk
                async for chunk in upstream:
                    yield chunk
            except FreeholdError as error:
                self._failed(deployment, call, error)
                raise
            else:
                call.ended = time.perf_counter()
                deployment.breaker.success()
            finally:
                deployment.in_flight -= 1
                await deadlines.close(upstream)
            return
        raise AssertionError("unreachable: the last attempt returns or raises")
