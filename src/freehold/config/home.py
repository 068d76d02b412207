"""Where freehold keeps its own files: ``$FREEHOLD_HOME``, else ``~/.freehold``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def freehold_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("FREEHOLD_HOME") or Path.home() / ".freehold").expanduser()


def models_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where local model files live (``freehold pull`` writes there; the zero-config
    defaults serve every GGUF in it): ``$FREEHOLD_HOME/models``."""
    return freehold_home(env) / "models"


def default_ledger_url(env: Mapping[str, str] | None = None) -> str:
    """The embedded ledger: SQLite at ``$FREEHOLD_HOME/ledger.db``."""
    return f"sqlite:///{freehold_home(env) / 'ledger.db'}"
