"""The zero-config defaults: what ``freehold`` uses when no config file is given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from freehold.config.schema import Settings


def freehold_home(env: Mapping[str, str] | None = None) -> Path:
    """``$FREEHOLD_HOME``, else ``~/.freehold``."""
    env = os.environ if env is None else env
    return Path(env.get("FREEHOLD_HOME") or Path.home() / ".freehold").expanduser()


def default_settings(env: Mapping[str, str] | None = None) -> Settings:
    """SQLite ledger under ``$FREEHOLD_HOME``; models are added by config or by the local
    model directory."""
    home = freehold_home(env)
    return Settings(ledger=f"sqlite:///{home / 'ledger.db'}")
