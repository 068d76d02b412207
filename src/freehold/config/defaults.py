"""The zero-config defaults: what ``freehold`` uses when no config file is given."""

from __future__ import annotations

from freehold.config.schema import Settings


def default_settings() -> Settings:
    """Every setting at its default: SQLite ledger under ``$FREEHOLD_HOME``, no models
    (models are added by a config file)."""
    return Settings()
