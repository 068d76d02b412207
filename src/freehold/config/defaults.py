"""The zero-config defaults: what ``freehold`` serves when no config file is given.

- the ledger: SQLite at ``$FREEHOLD_HOME/ledger.db``;
- every ``*.gguf`` file in ``$FREEHOLD_HOME/models`` (where ``freehold pull`` puts them) as a
  local ``llamacpp`` model named after its file, as written (``SmolLM2-135M-Instruct.Q4_1.gguf``
  is served as ``SmolLM2-135M-Instruct.Q4_1``; a model name has no spaces, so each run of
  whitespace in a file name becomes ``-``);
- remote providers whose API key is in the environment: ``OPENAI_API_KEY`` (and
  ``OPENAI_BASE_URL``) and ``ANTHROPIC_API_KEY`` (and ``ANTHROPIC_BASE_URL``) add the models
  listed in ``remote_catalog.yaml`` with their prices. When ``OPENAI_BASE_URL`` points
  elsewhere than OpenAI (vLLM, Ollama, …), ``FREEHOLD_OPENAI_MODELS=a,b`` names its models
  (priced 0, as self-hosted).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from freehold.config.home import default_ledger_url, models_dir
from freehold.config.loader import parse_settings
from freehold.config.schema import Settings

_WHITESPACE = re.compile(r"\s+")

#: What to do when no model is configured (the log at start, the summary, a 404).
HOW_TO_ADD_MODELS = (
    "drop a GGUF file into $FREEHOLD_HOME/models (or run `freehold pull NAME`) and restart, "
    "set OPENAI_API_KEY or ANTHROPIC_API_KEY, or add models to a config file (see README) and "
    "run `freehold serve --config FILE`"
)


def model_name(path: Path) -> str:
    """The name a GGUF file is served under: its stem as written, whitespace runs as ``-``."""
    return _WHITESPACE.sub("-", path.stem.strip()) or "-"


def local_models(directory: Path) -> Iterator[dict[str, Any]]:
    """A llamacpp model for every GGUF file (``.gguf`` in any case) in ``directory``, sorted
    by file name."""
    if not directory.is_dir():
        return
    files = (p for p in directory.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())
    for path in sorted(files):
        yield {
            "name": model_name(path),
            "backend": "llamacpp",
            "path": str(path),
            "locality": "local",
            "jurisdiction": "on-prem",
        }


def _catalog() -> dict[str, Any]:
    text = resources.files("freehold.config").joinpath("remote_catalog.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def remote_models(env: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Models of every provider whose API key is set in ``env``."""
    for backend, provider in _catalog().items():
        if not env.get(provider["key_env"]):
            continue
        base_url = env.get(provider["base_url_env"]) or provider["default_base_url"]
        entries = provider["models"]
        custom = env.get("FREEHOLD_OPENAI_MODELS") if backend == "openai" else None
        if custom:
            entries = [{"name": name.strip()} for name in custom.split(",") if name.strip()]
        for entry in entries:
            yield {
                "name": entry["name"],
                "backend": backend,
                "base_url": base_url,
                "api_key": f"env:{provider['key_env']}",
                "price": {
                    "input_per_mtok": entry.get("input_per_mtok", "0"),
                    "output_per_mtok": entry.get("output_per_mtok", "0"),
                },
            }


def default_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings ``freehold`` runs with when given no config file."""
    env = os.environ if env is None else env
    models: dict[str, dict[str, Any]] = {}
    for model in (*local_models(models_dir(env)), *remote_models(env)):
        models.setdefault(model["name"], model)
    data = {"ledger": default_ledger_url(env), "models": list(models.values())}
    return parse_settings(data, "<defaults>", env)
