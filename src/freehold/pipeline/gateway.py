"""The Gateway: the one orchestrator of a request, from resolved model to ledger row."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from freehold.auth.enforcer import Enforcer
from freehold.auth.static_keys import StaticKeys
from freehold.config.defaults import HOW_TO_ADD_MODELS
from freehold.config.schema import ModelSettings, RouteSettings
from freehold.core.errors import (
    ClientClosedRequest,
    FreeholdError,
    ModelNotFound,
    PerimeterBlocked,
    UpstreamError,
    UpstreamRejected,
    ValidationFailed,
)
from freehold.core.names import by_folded_case, canonical_name
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.ledger.base import LedgerRow, TextRecord
from freehold.perimeter.restore import ChunkRestorer, restore_completion
from freehold.pipeline import deadlines
from freehold.pipeline.budgeting import Budgeting
from freehold.pipeline.context import RequestContext
from freehold.pipeline.fleet import Fleet
from freehold.pipeline.perimeter_gate import PerimeterGate
from freehold.pipeline.plan import fallback_steps, falls_back_on, reachable
from freehold.pipeline.request_log import RequestLog
from freehold.pipeline.tally import StreamTally
from freehold.pipeline.validation import (
    CascadeStep,
    Checks,
    answer_of,
    as_chunks,
    build_model_validators,
    checks_for,
    failure_summary,
    ledger_verdicts,
    passed,
    repair_request,
)
from freehold.providers.registry import ProviderRegistry
from freehold.routing import rules, runtime
from freehold.validate.arithmetic import step_facts
from freehold.validate.registry import build_all, run_all

log = logging.getLogger("freehold.gateway")

#: Recorded for a request whose client went away before the end (nginx's convention).
CLIENT_CLOSED = ClientClosedRequest.status
#: How much of an unknown model name an error message repeats.
ECHOED_NAME = 100


_T = TypeVar("_T")


@dataclass(slots=True)
class _Started:
    """A stream that has begun (its first chunk in hand), or a validated answer's replay."""

    settings: ModelSettings
    upstream: AsyncIterator[Chunk] | None = None
    first: Chunk | None = None
    validated: AsyncIterator[dict[str, Any]] | None = None


class LedgerSink(Protocol):
    def record(self, row: LedgerRow) -> None: ...


class Gateway:
    def __init__(
        self,
        providers: ProviderRegistry,
        ledger: LedgerSink,
        keys: StaticKeys,
        routes: Sequence[RouteSettings] = (),
        *,
        keep_text: bool = False,
        enforcer: Enforcer | None = None,
        perimeter: PerimeterGate | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        self._providers = providers
        self._fleets = {
            name: Fleet(providers.settings(name), providers.deployments(name))
            for name in providers.names
        }
        self._request_log = request_log or RequestLog()
        self._enforcer = enforcer
        self._budgets = Budgeting(enforcer, providers, routes)
        self._perimeter = perimeter
        self._ledger = ledger
        self._keys = keys
        self._validators = {
            name: build_model_validators(providers.settings(name)) for name in providers.names
        }
        self._keep_text = keep_text
        self._routes = {route.name: route for route in routes}
        self._names = by_folded_case([*providers.names, *self._routes])
        self._routers = {
            r.name: runtime.load_for(r.router, r.policy) for r in routes if r.router is not None
        }
        self._route_validators = {
            route.name: tuple(build_all(route.validators)) for route in routes
        }

    # -- admission ----------------------------------------------------------------------
    async def authenticate(
        self, ctx: RequestContext, authorization: str | None, *, fresh: bool = False
    ) -> None:
        """Who is calling: a live virtual key when keys are enabled, else a fingerprint of
        the bearer token (checked against ``server.api_keys`` when that is set). ``fresh``:
        read the key from the store, for requests that are not admitted against a budget
        (where revocation is checked again)."""
        if self._enforcer is None:
            ctx.key_id = self._keys.identify(authorization)
            return
        ctx.key = await self._enforcer.identify(authorization, fresh=fresh)
        ctx.key_id = ctx.key.id

    async def finish(self, ctx: RequestContext) -> None:
        """Settle the request's budget hold, then hand its row to the ledger."""
        self._budgets.settle(ctx)
        self.record(ctx)

    async def drain(self) -> None:
        """Wait for the budget settlements still running (before the store closes)."""
        await self._budgets.drain()

    def reject(self, ctx: RequestContext, error: FreeholdError) -> None:
        """Record a request refused before it reached a model (bad input, no key)."""
        ctx.fail(error)
        self.record(ctx)

    async def _inspect(self, ctx: RequestContext, request: ChatRequest) -> ChatRequest:
        """The data perimeter's decision (403 for blocked data, or when no permitted model
        can answer); the request to send on, redacted where the policy says so."""
        if self._perimeter is None:
            return request
        route = self._routes.get(request.model)
        names = route.candidates if route is not None else (request.model,)
        if any(self._providers.get(n) is None for n in names):
            return request  # resolution answers 404
        # fallbacks included: what may reach a model outside is decided before any call
        models = [self._providers.settings(n) for n in reachable(names, self._providers.settings)]
        request, ctx.perimeter = await self._perimeter.inspect_async(
            request, ctx.sensitivity, models
        )
        if ctx.perimeter.refusal is not None:
            raise ctx.perimeter.refusal
        return request

    def _permitted(self, ctx: RequestContext, names: Sequence[str]) -> list[str]:
        """The candidates the perimeter lets this request reach, in order."""
        if ctx.perimeter is None:
            return list(names)
        return [n for n in names if ctx.perimeter.permits(self._providers.settings(n))]

    # -- resolution ---------------------------------------------------------------------
    def _named(self, request: ChatRequest) -> ChatRequest:
        """The request naming its model as configured: names match ignoring case where
        that is unambiguous (``smollm2-135m`` finds ``SmolLM2-135M``)."""
        name = canonical_name(request.model, self._names)
        if name is None or name == request.model:
            return request
        return request.model_copy(update={"model": name})

    def _resolve(self, ctx: RequestContext, request: ChatRequest) -> tuple[Fleet, ModelSettings]:
        """The model that answers: the one named, or the one a rules or predictive route
        picks."""
        name = request.model
        route = self._routes.get(name)
        if route is not None and route.policy == "rules":
            choice = rules.choose(route, request)
            permitted = self._permitted(ctx, route.candidates)
            ctx.route = f"{route.name}; policy=rules"
            ctx.decision = {
                "policy": "rules",
                "rule": choice.rule,
                "choice": choice.model,
                "prompt_tokens": choice.prompt_tokens,
            }
            name = choice.model if choice.model in permitted else permitted[0]
        elif route is not None and route.policy == "predictive":
            name = self._predict(ctx, route, request)
        return self._model(ctx, name)

    def _predict(self, ctx: RequestContext, route: RouteSettings, request: ChatRequest) -> str:
        """The cheapest candidate when the router expects its answer to be good enough
        (P ≥ target), else the last (strongest)."""
        p = runtime.probability(self._routers[route.name], runtime.last_user_text(request))
        permitted = self._permitted(ctx, route.candidates)
        name = permitted[0] if p >= route.target else permitted[-1]
        ctx.route = f"{route.name}; policy=predictive"
        ctx.decision = {
            "policy": "predictive",
            "p_cheap_ok": round(p, 6),
            "target": route.target,
            "choice": name,
        }
        return name

    def _model(self, ctx: RequestContext, name: str) -> tuple[Fleet, ModelSettings]:
        """The model that is called next (the perimeter's last check: fail closed)."""
        fleet = self._fleets.get(name)
        if fleet is None:
            raise ModelNotFound(self._unknown_model_message(ctx, name), param="model")
        settings = self._providers.settings(name)
        if ctx.perimeter is not None:
            if not ctx.perimeter.permits(settings):
                raise PerimeterBlocked(
                    f"The data perimeter does not let this request reach {name!r}.",
                    code="no_permitted_model",
                )
            ctx.perimeter.reach(settings)
        ctx.served_model = name
        return fleet, settings

    def _cascade_of(self, request: ChatRequest) -> RouteSettings | None:
        route = self._routes.get(request.model)
        return route if route is not None and route.policy == "cascade" else None

    def deployment_states(self) -> dict[str, list[dict[str, Any]]]:
        """Model → the state of each of its deployments (for ``/health/ready``)."""
        return {name: fleet.states() for name, fleet in self._fleets.items()}

    def visible_models(self, ctx: RequestContext) -> list[str]:
        """The models and routes the caller may use (a scoped key sees only its own)."""
        names = [*self._providers.names, *self._routes]
        return names if ctx.key is None else [n for n in names if ctx.key.allows(n)]

    def _unknown_model_message(self, ctx: RequestContext, name: str) -> str:
        shown = repr(name[:ECHOED_NAME]) + (" (cut)" if len(name) > ECHOED_NAME else "")
        if not self._providers.names and not self._routes:
            return (
                f"The model {shown} does not exist: no models are configured; {HOW_TO_ADD_MODELS}."
            )
        names = self.visible_models(ctx)
        return f"The model {shown} does not exist. Available models: {', '.join(names)}."

    # -- whole answers ------------------------------------------------------------------
    async def handle(self, ctx: RequestContext, request: ChatRequest) -> ChatResult:
        ctx.request, ctx.requested_model = request, request.model
        try:
            with _failures(ctx):
                request = await self._inspect(ctx, self._named(request))
                request = await self._budgets.admit(ctx, request)
                cascade = self._cascade_of(request)
                if cascade is not None:
                    result = await self._cascade(ctx, request, cascade)
                else:
                    fleet, settings = self._resolve(ctx, request)

                    async def answer(fleet: Fleet, settings: ModelSettings) -> ChatResult:
                        checks = checks_for(request, settings, self._validators[settings.name])
                        return await self._answer(ctx, fleet, request, settings, checks)

                    result = await self._with_fallbacks(ctx, fleet, settings, answer)
            ctx.first_chunk_at = time.perf_counter()
            return _restored(ctx, result)
        except asyncio.CancelledError:
            ctx.fail(ClientClosedRequest("the client went away before the answer was ready"))
            raise
        finally:
            await self.finish(ctx)

    async def _cascade(
        self, ctx: RequestContext, request: ChatRequest, route: RouteSettings
    ) -> ChatResult:
        """Cheapest candidate first; escalate while its answer fails the checks (or it
        fails upstream); the last candidate's answer stands."""
        ctx.route = f"{route.name}; policy=cascade"
        candidates = self._permitted(ctx, route.candidates)
        ctx.decision = {"policy": "cascade", "candidates": candidates}
        for position, name in enumerate(candidates):
            last = position == len(candidates) - 1
            fleet, settings = self._model(ctx, name)
            step = CascadeStep(self._route_validators[route.name], last, route.max_repairs)
            checks = checks_for(request, settings, self._validators[name], cascade=step)
            try:
                result = await self._answer(ctx, fleet, request, settings, checks)
            except UpstreamError as error:
                if last or (isinstance(error, UpstreamRejected) and error.status != 429):
                    raise
                ctx.fail(error)
                ctx.escalate()
                continue
            if last or self._accepts(ctx, route, position, request, result):
                ctx.decision["accepted"] = name
                return result
            ctx.escalate()
        raise AssertionError("unreachable: the last candidate always returns or raises")

    async def _answer(
        self,
        ctx: RequestContext,
        fleet: Fleet,
        request: ChatRequest,
        settings: ModelSettings,
        checks: Checks | None,
    ) -> ChatResult:
        """A whole answer; with checks, validated (and repaired, while allowed)."""
        result = await fleet.complete(request, ctx.calls)
        usage = result.usage
        ctx.settle(usage, settings)
        if self._keep_text and ctx.text is None:
            answer = answer_of(result, request).text
            prompt = runtime.last_user_text(request)
            ctx.text = TextRecord(ctx.request_id, settings.name, prompt, answer)
        if checks is None:
            return result
        verdicts = run_all(checks.validators, answer_of(result, request))
        asked = request
        while (
            not passed(verdicts)
            and checks.on_fail == "repair"
            and (ctx.attempts <= checks.max_repairs)
        ):
            asked = repair_request(asked, result, verdicts)
            result = await fleet.complete(asked, ctx.calls)
            ctx.attempts += 1
            usage = usage.plus(result.usage)
            ctx.settle(usage, settings)
            verdicts = run_all(checks.validators, answer_of(result, asked))
        result.usage, result.body["usage"] = usage, usage.to_dict()
        ctx.validation = "pass" if passed(verdicts) else "fail"
        ctx.verdicts = ledger_verdicts(verdicts)
        if checks.echo:
            result.body["freehold"] = {
                "validation": ctx.validation,
                "verdicts": [v.to_dict() for v in verdicts],
                "attempts": ctx.attempts,
            }
        if ctx.validation == "fail" and checks.on_fail in ("error", "repair"):
            raise ValidationFailed(
                f"The answer failed validation: {failure_summary(verdicts)}",
                [v.to_dict() for v in verdicts],
            )
        return result

    # -- fallbacks ----------------------------------------------------------------------
    async def _with_fallbacks(
        self,
        ctx: RequestContext,
        fleet: Fleet,
        settings: ModelSettings,
        attempt: Callable[[Fleet, ModelSettings], Awaitable[_T]],
    ) -> _T:
        """``attempt`` on the model, then, while it fails in a way a fallback covers, on its
        fallbacks in order and its last resort (each one the perimeter lets this request
        reach; each failed model is an entry of the ledger's attempt log)."""
        try:
            return await attempt(fleet, settings)
        except FreeholdError as error:
            failure = error
        for name, when in fallback_steps(settings):
            if not falls_back_on(when, failure):
                continue
            target = self._providers.settings(name)
            if ctx.perimeter is not None and not ctx.perimeter.permits(target):
                continue
            ctx.fail(failure)
            ctx.escalate()
            ctx.fallback = name
            next_fleet, next_settings = self._model(ctx, name)
            try:
                return await attempt(next_fleet, next_settings)
            except FreeholdError as error:
                failure = error
        raise failure

    # -- streams ------------------------------------------------------------------------
    async def open_stream(
        self, ctx: RequestContext, request: ChatRequest
    ) -> AsyncIterator[dict[str, Any]]:
        """Start a stream. Whatever fails before the first chunk raises here (and is recorded),
        so the API can still answer with a proper status; later failures end the stream."""
        ctx.request, ctx.requested_model = request, request.model
        try:
            with _failures(ctx):
                request = await self._inspect(ctx, self._named(request))
                request = await self._budgets.admit(ctx, request)
                cascade = self._cascade_of(request)
                if cascade is not None:
                    return await self._cascade_stream(ctx, request, cascade)
                fleet, settings = self._resolve(ctx, request)

                async def start(fleet: Fleet, settings: ModelSettings) -> _Started:
                    checks = checks_for(request, settings, self._validators[settings.name])
                    if checks is not None:
                        validated = await self._validated_stream(
                            ctx, fleet, request, settings, checks
                        )
                        return _Started(settings, validated=validated)
                    upstream = aiter(fleet.stream(request, ctx.calls))
                    return _Started(settings, upstream, await anext(upstream, None))

                started = await self._with_fallbacks(ctx, fleet, settings, start)
                if started.validated is not None:
                    return started.validated
                settings, upstream, first = started.settings, started.upstream, started.first
                assert upstream is not None
        except FreeholdError:
            await self.finish(ctx)
            raise
        except asyncio.CancelledError:
            ctx.fail(ClientClosedRequest("the client went away before the stream began"))
            await self.finish(ctx)
            raise
        ctx.first_chunk_at = time.perf_counter()
        return self._relay(ctx, request, settings, upstream, first)

    async def _validated_stream(
        self,
        ctx: RequestContext,
        fleet: Fleet,
        request: ChatRequest,
        settings: ModelSettings,
        checks: Checks,
    ) -> AsyncIterator[dict[str, Any]]:
        """A stream whose answer must pass its checks: the whole answer is generated and
        validated first, then sent as chunks (so a failure can still be a proper error)."""
        result = _restored(ctx, await self._answer(ctx, fleet, request, settings, checks))
        ctx.first_chunk_at = time.perf_counter()
        await self.finish(ctx)
        return _replay(as_chunks(result.body, request.include_usage))

    def _accepts(
        self,
        ctx: RequestContext,
        route: RouteSettings,
        position: int,
        request: ChatRequest,
        result: ChatResult,
    ) -> bool:
        """Whether the cascade keeps this answer: its checks passed and, for the cheapest
        candidate when the route has a trained verifier, its score (1 − the expected gain of
        escalating) reaches the target."""
        if ctx.validation == "fail":
            return False
        router = self._routers.get(route.name)
        if router is None or position != 0:
            return True
        answer = answer_of(result, request).text
        p = runtime.probability(router, runtime.last_user_text(request), answer, step_facts)
        ctx.decision["verifier"] = round(p, 6)
        return p >= route.target

    async def _cascade_stream(
        self, ctx: RequestContext, request: ChatRequest, route: RouteSettings
    ) -> AsyncIterator[dict[str, Any]]:
        """A cascade decides which answer stands before sending any of it."""
        result = _restored(ctx, await self._cascade(ctx, request, route))
        ctx.first_chunk_at = time.perf_counter()
        await self.finish(ctx)
        return _replay(as_chunks(result.body, request.include_usage))

    async def _relay(
        self,
        ctx: RequestContext,
        request: ChatRequest,
        settings: ModelSettings,
        upstream: AsyncIterator[Chunk],
        chunk: Chunk | None,
    ) -> AsyncIterator[dict[str, Any]]:
        tally = StreamTally(request)
        redaction = ctx.perimeter.redaction if ctx.perimeter is not None else None
        restorer = ChunkRestorer(redaction) if redaction else None
        try:
            with _failures(ctx):
                while chunk is not None:
                    data = tally.observe(chunk)
                    if data is not None:
                        yield restorer.restore_chunk(data) if restorer else data
                    chunk = await anext(upstream, None)
                held = restorer.finish() if restorer else None
                if held is not None:
                    yield held
                closing = tally.usage_chunk()
                if closing is not None:
                    yield closing
        except (asyncio.CancelledError, GeneratorExit):
            ctx.fail(ClientClosedRequest("the client went away during the stream"))
            raise
        finally:
            await deadlines.close(upstream)
            ctx.settle(tally.final_usage(), settings)
            await self.finish(ctx)

    # -- ledger -------------------------------------------------------------------------
    def record(self, ctx: RequestContext) -> None:
        """Hand the request's row to the ledger (never blocks)."""
        latency = ctx.elapsed_ms()
        usage = ctx.usage
        prompt, completion, cost, calls = ctx.totals()
        row = LedgerRow(
            id=ctx.request_id,
            ts=ctx.ts,
            key_id=ctx.key_id,
            requested_model=ctx.requested_model,
            served_model=ctx.served_model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            latency_ms=round(latency, 3),
            ttft_ms=round(ctx.elapsed_ms(ctx.first_chunk_at), 3) if ctx.first_chunk_at else None,
            status=ctx.status,
            error_type=ctx.error_type,
            route=ctx.route,
            usage_estimated=bool(usage and usage.estimated),
            stream=bool(ctx.request and ctx.request.stream),
            cost_basis=ctx.cost_basis,
            validation=ctx.validation,
            verdicts=ctx.verdicts,
            attempts=calls,
            decision=ctx.decision,
            attempt_log=(
                (*ctx.tried, ctx.attempt()) if ctx.tried or ctx.route or ctx.retried() else ()
            ),
            perimeter=ctx.perimeter_audit(),
            text=ctx.text,
        )
        self._ledger.record(row)
        self._request_log.request(row)


@contextmanager
def _failures(ctx: RequestContext) -> Iterator[None]:
    """A failure becomes the request's error: freehold's own errors pass as they are; anything
    else is logged and leaves as an internal error, its details kept out of the response."""
    try:
        yield
    except FreeholdError as error:
        ctx.fail(error)
        raise
    except Exception:
        log.exception("request %s failed inside freehold", ctx.request_id)
        internal = FreeholdError("freehold failed to handle the request")
        ctx.fail(internal)
        raise internal from None


def _restored(ctx: RequestContext, result: ChatResult) -> ChatResult:
    """The answer with the perimeter's placeholders replaced by the client's originals."""
    redaction = ctx.perimeter.redaction if ctx.perimeter is not None else None
    if redaction:
        result.body = restore_completion(result.body, redaction)
    return result


async def _replay(chunks: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for chunk in chunks:
        yield chunk
