"""A request's budget on its way through the gateway: its worst case held before any upstream
call (every model it may call, fallbacks included, every repair), settled to the actual cost
after the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from freehold.auth.enforcer import Enforcer, Ticket
from freehold.auth.estimate import Call, estimate
from freehold.config.schema import RouteSettings
from freehold.core.money import to_nanousd
from freehold.core.types import ChatRequest
from freehold.pipeline.context import RequestContext
from freehold.pipeline.plan import reachable
from freehold.providers.registry import ProviderRegistry

log = logging.getLogger("freehold.budgets")


class Budgeting:
    def __init__(
        self,
        enforcer: Enforcer | None,
        providers: ProviderRegistry,
        routes: Sequence[RouteSettings],
    ) -> None:
        self._enforcer = enforcer
        self._providers = providers
        self._routes = {route.name: route for route in routes}
        self._settling: set[asyncio.Task[None]] = set()

    def calls(self, request: ChatRequest) -> list[Call] | None:
        """Every model the request may call, with its repairs (None: an unknown model)."""
        route = self._routes.get(request.model)
        names = route.candidates if route is not None else (request.model,)
        if any(self._providers.get(n) is None for n in names):
            return None
        options = request.freehold
        asked = options.max_repairs if options and options.max_repairs is not None else 0
        calls = []
        for name in names:
            settings = self._providers.settings(name)
            repairs = max(settings.max_repairs if settings.on_fail == "repair" else 0, asked)
            if options is not None and options.on_fail == "repair" and options.max_repairs is None:
                repairs = max(repairs, settings.max_repairs)
            if route is not None and route.policy == "cascade":
                repairs = max(repairs, route.max_repairs)
            calls.append(Call(settings, 1 + repairs))
        if route is not None and route.policy != "cascade":
            # one candidate answers: hold the dearest
            calls.sort(key=lambda c: estimate(request, [c]).nusd)
            calls = calls[-1:]
        fallbacks = [n for n in reachable(names, self._providers.settings) if n not in names]
        for name in fallbacks:
            settings = self._providers.settings(name)  # a fallback may answer instead
            repairs = settings.max_repairs if settings.on_fail == "repair" else 0
            calls.append(Call(settings, 1 + repairs))
        return calls

    async def admit(self, ctx: RequestContext, request: ChatRequest) -> ChatRequest:
        """Hold the request's worst-case cost against the key's budgets (429 when it does not
        fit, before any upstream call). With a hard limit and no output cap in the request,
        the cap the hold assumed is sent upstream, so the bound holds."""
        if self._enforcer is None or ctx.key is None:
            return request
        calls = self.calls(request)
        if calls is None:
            return request  # resolution answers 404
        worst = estimate(request, calls)
        ctx.ticket = await self._enforcer.admit(ctx.key, ctx.request_id, request.model, worst)
        ctx.budget_headers = dict(ctx.ticket.headers)
        limited = any(
            c.bucket.limit_nusd is not None or c.bucket.limit_tokens is not None
            for c in ctx.ticket.charges
        )
        if limited and request.output_cap is None:
            cap = min(c.model.default_max_tokens for c in calls)
            request = request.model_copy(update={"max_tokens": cap})
        return request

    def settle(self, ctx: RequestContext) -> None:
        """Replace the hold by the actual cost, off the request's path: the response does not
        wait for the store (its headers are computed from the hold), and a client that goes
        away cannot cancel it. :meth:`drain` waits for the settlements still running."""
        ticket, ctx.ticket = ctx.ticket, None
        if ticket is None or self._enforcer is None:
            return
        prompt, completion, cost, _ = ctx.totals()
        nusd, tokens = to_nanousd(cost), prompt + completion
        ctx.budget_headers = self._enforcer.settled_headers(ticket, nusd, tokens)
        task = asyncio.ensure_future(self._settle(ctx.request_id, ticket, nusd, tokens))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, request_id: str, ticket: Ticket, nusd: int, tokens: int) -> None:
        assert self._enforcer is not None
        try:
            await self._enforcer.settle(ticket, nusd, tokens)
        except Exception:
            # the hold expires after budgets.hold_s; the ledger row still has the cost
            log.exception("settling request %s against its budget failed", request_id)

    async def drain(self) -> None:
        """Wait for every settlement still running (before the budget store closes)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
