"""Third-party validators, installed as entry points of the group ``freehold.validators``.

A plugin is a function ``check(request, answer_text, **options)``: ``request`` is the
:class:`~freehold.core.types.ChatRequest` (None when the answer is judged on its own, as in
the replay benchmark), ``answer_text`` the answer's text and ``options`` the spec's
``options`` mapping. It returns a :class:`~freehold.core.types.Verdict`, a ``bool``, a
``(bool, reason)`` tuple or a ``{"passed": bool, "reason": str, "details": dict}`` mapping.
A plugin that raises or returns anything else fails the answer; it never fails the request.
A distribution registers one in its ``pyproject.toml``::

    [project.entry-points."freehold.validators"]
    shout = "my_package.checks:shout"

and a spec names it: ``{"type": "python", "plugin": "shout", "options": {"min": 3}}``.
Plugins are code the operator installed, so unlike the built-in validators they are trusted
to bound their own time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Self

from freehold.core.types import Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.registry import SpecReader

GROUP = "freehold.validators"
_REASON_CHARS = 500
PluginFunction = Callable[..., Any]


def installed() -> dict[str, EntryPoint]:
    """The installed plugins by name (the first one wins when two share a name)."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        found.setdefault(point.name, point)
    return found


def load(name: str) -> PluginFunction:
    """The plugin function called ``name``; SpecError when it is missing or broken."""
    plugins = installed()
    point = plugins.get(name)
    if point is None:
        listed = ", ".join(sorted(plugins)) or f"none (no package provides the {GROUP} group)"
        raise SpecError(f"plugin: no validator plugin {name!r} is installed; installed: {listed}")
    try:
        function: PluginFunction = point.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise SpecError(
            f"plugin: {name!r} ({point.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from None
    if not callable(function):
        raise SpecError(f"plugin: {name!r} ({point.value}) is not a function")
    return function


@dataclass(frozen=True, slots=True)
class PluginValidator:
    """Runs one plugin function; its verdicts are labelled ``python``, the plugin's name in
    ``details["plugin"]``."""

    plugin: str
    function: PluginFunction
    options: Mapping[str, Any] = field(default_factory=dict)
    name = "python"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("plugin", "options"))
        plugin = reader.text("plugin")
        options = reader.raw("options") or {}
        if not isinstance(options, Mapping):
            raise SpecError(f"options: must be a mapping of keyword arguments, not {options!r}")
        for key in options:
            if not isinstance(key, str) or not key.isidentifier():
                raise SpecError(f"options.{key}: must be a valid Python identifier")
        return cls(plugin, load(plugin), dict(options))

    def check(self, answer: Answer) -> Verdict:
        try:
            result = self.function(answer.request, answer.text, **self.options)
        except Exception as exc:  # a plugin's bug fails the answer, not the gateway
            return self._verdict(False, f"plugin raised {type(exc).__name__}: {exc}", {})
        return self._convert(result)

    def _convert(self, result: Any) -> Verdict:
        if isinstance(result, Verdict):
            return self._verdict(result.passed, result.reason, result.details)
        if isinstance(result, bool):
            return self._verdict(result, "passed" if result else "failed", {})
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], bool):
            return self._verdict(result[0], str(result[1]), {})
        if isinstance(result, Mapping) and isinstance(result.get("passed"), bool):
            details = result.get("details")
            reason = result.get("reason")
            passed = result["passed"]
            return self._verdict(
                passed,
                str(reason) if reason is not None else ("passed" if passed else "failed"),
                dict(details) if isinstance(details, Mapping) else {},
            )
        kind = type(result).__name__
        return self._verdict(False, f"plugin returned an unsupported value of type {kind}", {})

    def _verdict(self, passed: bool, reason: str, details: Mapping[str, Any]) -> Verdict:
        text = f"{self.plugin}: {reason}"
        if len(text) > _REASON_CHARS:
            text = text[: _REASON_CHARS - 1] + "…"
        return Verdict(self.name, bool(passed), text, {**details, "plugin": self.plugin})
