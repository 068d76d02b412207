"""What the routes need from the running app, built once at start."""

from __future__ import annotations

from dataclasses import dataclass

from freehold.auth.enforcer import Enforcer
from freehold.config.schema import Settings
from freehold.ledger.base import LedgerStore
from freehold.pipeline.gateway import Gateway


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    gateway: Gateway
    store: LedgerStore
    enforcer: Enforcer | None = None
