"""``create_app(settings)``: the ASGI application. Nothing is built before it is called, and
nothing that does I/O before the server starts it (lifespan)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from freehold.api import admin, routes
from freehold.api.errors import on_freehold_error, on_http_exception, on_unexpected
from freehold.api.hosts import HostGuard, allowed_names
from freehold.api.state import AppState
from freehold.auth.enforcer import Clock, Enforcer, utc_now
from freehold.auth.factory import open_auth_store
from freehold.auth.static_keys import StaticKeys
from freehold.config.defaults import HOW_TO_ADD_MODELS
from freehold.config.schema import Settings
from freehold.core.errors import FreeholdError
from freehold.ledger import open_store
from freehold.ledger.factory import open_writer
from freehold.pipeline.context import RequestContext
from freehold.pipeline.gateway import Gateway
from freehold.pipeline.perimeter_gate import PerimeterGate
from freehold.pipeline.request_log import RequestLog
from freehold.providers.registry import ProviderRegistry

log = logging.getLogger("freehold")


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    on_ready: Callable[[AppState], None] | None = None,
) -> Starlette:
    """The app; ``clock`` is what budget periods and rate windows are read from (tests
    inject one); ``on_ready`` is called once everything is built (``serve`` prints its
    summary there)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(settings.ledger)
        await asyncio.to_thread(store.migrate)
        writer = open_writer(settings, store)
        writer.start()
        providers = ProviderRegistry(settings.models)
        keys = StaticKeys(k.get_secret_value() for k in settings.server.api_keys)
        enforcer = None
        if settings.auth.master_key is not None:
            auth_store = open_auth_store(settings.budget_store())
            await auth_store.migrate()
            enforcer = Enforcer(auth_store, settings.budgets, clock)
        gateway = Gateway(
            providers,
            writer,
            keys,
            settings.routes,
            keep_text=settings.training.keep_text,
            enforcer=enforcer,
            perimeter=(
                PerimeterGate(settings.perimeter, settings.routes) if settings.perimeter else None
            ),
            request_log=RequestLog(access=settings.server.access_log),
        )
        app.state.freehold = AppState(settings, gateway, store, enforcer)
        if not settings.models:
            log.warning("no models configured: %s", HOW_TO_ADD_MODELS)
        if on_ready is not None:
            on_ready(app.state.freehold)
        try:
            yield
        finally:
            await providers.aclose()
            await gateway.drain()
            if enforcer is not None:
                await enforcer.store.aclose()
            await asyncio.to_thread(writer.close)
            await asyncio.to_thread(store.close)

    def refused(error: FreeholdError) -> None:
        """A request refused before any route (foreign Host, malformed HTTP, slow headers)."""
        state: AppState | None = getattr(app.state, "freehold", None)
        if state is not None:
            state.gateway.reject(RequestContext(routes.new_request_id(), None), error)

    middleware = []
    hosts = allowed_names(settings.server.host, settings.server.allowed_hosts)
    if hosts is not None:
        middleware.append(Middleware(HostGuard, allowed=hosts, on_refused=refused))
    if settings.server.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.server.cors_origins),
                allow_methods=["GET", "POST", "PATCH", "DELETE"],
                allow_headers=["*"],
                expose_headers=["*"],
            )
        )
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/v1/chat/completions", routes.chat_completions, methods=["POST"]),
            Route("/v1/models", routes.list_models, methods=["GET"]),
            Route("/v1/feedback", routes.feedback, methods=["POST"]),
            Route("/health", routes.health, methods=["GET"]),
            Route("/health/ready", routes.ready, methods=["GET"]),
            Route("/admin/keys", admin.create_key, methods=["POST"]),
            Route("/admin/keys", admin.list_keys, methods=["GET"]),
            Route("/admin/keys/{key_id}", admin.show_key, methods=["GET"]),
            Route("/admin/keys/{key_id}", admin.update_key, methods=["PATCH"]),
            Route("/admin/keys/{key_id}", admin.revoke_key, methods=["DELETE"]),
            Route("/admin/keys/{key_id}/revoke", admin.revoke_key, methods=["POST"]),
            Route("/admin/budget", admin.budget, methods=["GET"]),
        ],
        exception_handlers={
            FreeholdError: on_freehold_error,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.refused = refused
    return app
