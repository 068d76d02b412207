"""Every model a request may reach: the route's candidates (or the model named), then each
one's fallbacks and last resort, in the order they would be tried (a fallback's own
fallbacks are not followed). The data
perimeter checks all of them before the first call, and the budget hold covers them, so a
fallback can never receive what its primary could not, nor spend what was not held.

    reachable(["gpt"], settings_of)   # ['gpt', 'claude', 'local-qwen']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from freehold.config.schema import ModelSettings
from freehold.core.errors import (
    FreeholdError,
    ServiceUnavailable,
    UpstreamError,
    UpstreamRejected,
)


def fallback_steps(settings: ModelSettings) -> list[tuple[str, str]]:
    """``(model, on)`` of a model's fallbacks in order, then its last resort (``any``)."""
    steps: list[tuple[str, str]] = [(f.model, f.on) for f in settings.fallbacks]
    if settings.degrade_to is not None:
        steps.append((settings.degrade_to, "any"))
    return steps


def fallback_chain(settings: ModelSettings) -> list[str]:
    """A model's fallbacks in order, then its last resort, each once."""
    return list(dict.fromkeys(name for name, _ in fallback_steps(settings)))


def reachable(names: Iterable[str], settings_of: Callable[[str], ModelSettings]) -> list[str]:
    """``names``, then each one's fallbacks and last resort, each model once."""
    primaries = list(names)
    out = list(dict.fromkeys(primaries))
    for name in primaries:
        out.extend(n for n in fallback_chain(settings_of(name)) if n not in out)
    return out


def falls_back_on(when: str, error: FreeholdError) -> bool:
    """Whether a fallback ``on: when`` covers ``error``: ``any`` upstream failure (its
    refusals included, and a model cut off by its breakers), the prompt being too long for
    the model, or a refusal on content policy."""
    if when == "any":
        return isinstance(error, UpstreamError | ServiceUnavailable)
    if not isinstance(error, UpstreamRejected):
        return False
    said = f"{error.code or ''} {error.message}".lower()
    if when == "context_length_exceeded":
        return any(s in said for s in ("context_length_exceeded", "context length", "too long"))
    return any(s in said for s in ("content_filter", "content_policy", "content policy"))
