"""Trained routers at serving time: load a router file for a route, and score one request
(predictive: from its prompt) or one cheap answer (cascade: prompt and answer).

The prompt a router reads is the text of the request's last user message, as in the routing
records it was trained on (one question each).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freehold.core.importer import import_string
from freehold.core.types import ChatRequest
from freehold.routing.records import Record

if TYPE_CHECKING:
    from freehold.routing.features import AnswerCheck
    from freehold.routing.learners import Router

# numpy (the ``routing`` extra) loads only when a route has a trained router, so a gateway
# installed without the extra serves every other route.
EXTRA = "routing"


def load_for(path: str | Path, policy: str) -> Router:
    """The router at ``path``, which must have been trained for ``policy``. Raises
    :class:`~freehold.core.importer.MissingExtra` without the ``routing`` extra."""
    load: Callable[[Path], Router] = import_string("freehold.routing.learners:load", EXTRA)
    artefact_error: type[ValueError] = import_string(
        "freehold.routing.learners:ArtefactError", EXTRA
    )
    router = load(Path(path).expanduser())
    if router.policy != policy:
        raise artefact_error(
            f"{path} was trained for {router.policy!r} routing, not {policy!r}; retrain it "
            f"with `freehold router train --policy {policy}`"
        )
    return router


def last_user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return ""


def probability(
    router: Router, prompt: str, answer: str | None = None, check: AnswerCheck | None = None
) -> float:
    """How acceptable the cheap answer is, in [0, 1]: one minus the expected gain of asking
    the strongest candidate (P(strong ok) − P(cheap ok)); for a router without a strong model,
    P(cheap ok). ``predictive`` reads the prompt, ``cascade`` also the cheap ``answer``.
    A route keeps the cheap candidate when this reaches its ``target``."""
    escalation: Callable[..., Sequence[Any]] = import_string(
        "freehold.routing.policies:escalation", EXTRA
    )
    record = Record(id="", task="", prompt=prompt, weak_response=answer)
    gain = float(escalation(router, [record], check if router.recipe.answer else None)[0])
    return min(1.0, max(0.0, 1.0 - gain))
