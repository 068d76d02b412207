"""Checks that a configuration can actually run here, shared by ``serve`` and
``check-config``: files, extras, validator specs, the ledger."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from freehold.config import Settings
from freehold.core.importer import MissingExtra, import_string
from freehold.ledger import LedgerError, open_store
from freehold.ledger.factory import describe, store_kind
from freehold.perimeter.rule_set import RuleFileError, load_rule_file
from freehold.providers.registry import BACKENDS
from freehold.routing import runtime
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
            artefact_error = import_string("freehold.routing.learners:ArtefactError", "routing")
        except MissingExtra as exc:
            problems.append((f"routes[{index}].router", exc.needs("a trained router")))
            continue
        try:
            runtime.load_for(route.router, route.policy)
        except (OSError, artefact_error) as exc:
            problems.append((f"routes[{index}].router", str(exc)))
    return problems


def local_file_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key path, reason) for every local model file that does not exist."""
    return [
        (f"models[{index}].path", f"no such file: {model.path}")
        for index, model in enumerate(settings.models)
        if model.path is not None and not Path(model.path).expanduser().is_file()
    ]


def perimeter_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key path, reason) for every credential rule file that cannot be loaded, and for a
    ``names`` spaCy pipeline that is not installed."""
    perimeter = settings.perimeter
    if perimeter is None:
        return []
    problems = []
    for index, path in enumerate(perimeter.secret_rules):
        try:
            load_rule_file(path)
        except RuleFileError as exc:
            problems.append((f"perimeter.secret_rules[{index}]", str(exc)))
    model = perimeter.names_model
    if "names" in perimeter.detectors and importlib.util.find_spec("spacy") is not None:
        is_path = "/" in model or model.startswith((".", "~"))
        missing = (
            not Path(model).expanduser().is_dir()
            if is_path
            else importlib.util.find_spec(model) is None
        )
        if missing:
            problems.append(
                (
                    "perimeter.names_model",
                    f"the spaCy pipeline {model!r} is not installed: "
                    f"python -m spacy download {model}",
                )
            )
    return problems


def _needs(key: str, what: str, target: str, extra: str) -> list[tuple[str, str]]:
    """``[(key, reason)]`` when ``target`` cannot be imported for want of ``extra``."""
    try:
        import_string(target, extra)
    except MissingExtra as exc:
        return [(key, exc.needs(what))]
    return []


def extra_problems(settings: Settings) -> list[tuple[str, str]]:
    """(key path, reason) for every part of ``settings`` whose optional extra is not
    installed: a backend, the ledger's driver, the budget store's (when keys are on), the
    perimeter's phone and custom-term detectors. Imports only; connects to nothing."""
    problems = []
    for index, model in enumerate(settings.models):
        target, extra = BACKENDS[model.backend]
        if extra is not None:
            what = f"model {model.name!r} (backend {model.backend})"
            problems += _needs(f"models[{index}].backend", what, target, extra)
    if store_kind(settings.ledger) == "postgresql":
        problems += _needs("ledger", "a postgresql:// ledger", "psycopg:connect", "postgres")
    store = settings.budget_store()
    if settings.auth.master_key is not None and store.startswith(("redis://", "rediss://")):
        what = "a redis:// budget store"
        problems += _needs("budgets.store", what, "redis.asyncio:Redis", "redis")
    perimeter = settings.perimeter
    if perimeter is not None and "phones" in perimeter.detectors:
        what = "phone detection"
        target = "freehold.perimeter.phones:PhoneDetector"
        problems += _needs("perimeter.detectors", what, target, "perimeter")
    if perimeter is not None and "names" in perimeter.detectors:
        what = "name, organisation and address detection"
        problems += _needs("perimeter.detectors", what, "spacy:load", "ner")
    if perimeter is not None and (perimeter.custom_terms or perimeter.custom_terms_file):
        what = "custom term matching"
        target = "ahocorasick:Automaton"
        problems += _needs("perimeter.custom_terms", what, target, "perimeter")
    return problems


def preflight(settings: Settings) -> list[str]:
    """What keeps ``settings`` from running here: an extra not installed, a validator spec
    that cannot be built, a local model file missing, the ledger not opening."""
    extras = extra_problems(settings)
    problems = [f"{key}: {reason}" for key, reason in extras] + validator_problems(settings)
    problems += [
        f"{key}: {reason}"
        for key, reason in (
            *local_file_problems(settings),
            *route_problems(settings),
            *perimeter_problems(settings),
        )
    ]
    if any(key == "ledger" for key, _ in extras):
        return problems
    try:
        open_store(settings.ledger).close()
    except (MissingExtra, LedgerError) as exc:
        problems.append(f"cannot open the ledger {describe(settings.ledger)}: {exc}")
    return problems
