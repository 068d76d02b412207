"""Reading settings from YAML, with every problem reported as ``PATH:KEY.PATH: reason``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from freehold.config.schema import Settings


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config: where (a key path) and why."""

    key: str
    reason: str

    def render(self, source: str) -> str:
        return f"{source}:{self.key}: {self.reason}" if self.key else f"{source}: {self.reason}"


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.render(source) for p in problems))


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


_NESTED = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.S)


def _problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        reason = _reason(error)
        key = _key_path(tuple(error["loc"]))
        # Checks across several keys name the key they are about: "name: duplicate …".
        nested = _NESTED.match(reason) if error["type"] == "value_error" else None
        if nested is not None:
            sub, reason = nested.groups()
            key = f"{key}.{sub}" if key and not sub.startswith(key) else sub
        problems.append(Problem(key, reason))
    return problems


def parse_settings(
    data: Any, source: str = "<config>", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate already-parsed YAML data; raises ConfigError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("", "the top level must be a mapping of keys")])
    context = {"env": dict(os.environ if env is None else env)}
    try:
        return Settings.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None


def load_settings(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a YAML config file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [Problem("", f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError(source, [Problem("", "file is not valid UTF-8")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [Problem("", f"{where}invalid YAML: {detail}")]) from None
    return parse_settings(data, source, env)
