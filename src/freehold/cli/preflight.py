"""Checks that a configuration can actually run here, shared by ``serve`` and
``check-config``: files, extras, validator specs, the ledger."""

from __future__ import annotations

from pathlib import Path

from freehold.config import Settings
from freehold.core.importer import MissingExtra
from freehold.ledger import LedgerError, open_store
from freehold.ledger.factory import describe
from freehold.providers.registry import missing_backends
from freehold.routing import runtime
from freehold.routing.learners import ArtefactError
from freehold.validate.base import SpecError
from freehold.validate.registry import build_all


def validator_problems(settings: Settings) -> list[str]:
    """Every configured validator spec that cannot be built, as ``KEY.PATH: reason``."""
    problems = []
    for index, model in enumerate(settings.models):
        try:
            build_all(model.validators)
        except SpecError as exc:
            problems.append(f"models[{index}].validators{exc}")
    return problems


def route_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key path, reason) for every route whose trained router cannot be loaded."""
    problems = []
    for index, route in enumerate(settings.routes):
        if route.router is None:
            continue
        try:
            runtime.load_for(route.router, route.policy)
        except (OSError, ArtefactError) as exc:
            problems.append((f"routes[{index}].router", str(exc)))
    return problems


def local_file_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key path, reason) for every local model file that does not exist."""
    return [
        (f"models[{index}].path", f"no such file: {model.path}")
        for index, model in enumerate(settings.models)
        if model.path is not None and not Path(model.path).expanduser().is_file()
    ]


def preflight(settings: Settings) -> list[str]:
    """What keeps ``settings`` from running here: a backend's extra not installed, a
    validator spec that cannot be built, a local model file missing, the ledger not opening."""
    problems = missing_backends(settings.models) + validator_problems(settings)
    problems += [
        f"{key}: {reason}"
        for key, reason in (*local_file_problems(settings), *route_problems(settings))
    ]
    try:
        open_store(settings.ledger).close()
    except (MissingExtra, LedgerError) as exc:
        problems.append(f"cannot open the ledger {describe(settings.ledger)}: {exc}")
    return problems
