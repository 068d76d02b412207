"""Trained routers at serving time: load a router file for a route, and score one request
(predictive: from its prompt) or one cheap answer (cascade: prompt and answer).

The prompt a router reads is the text of the request's last user message, as in the routing
records it was trained on (one question each).
"""

from __future__ import annotations

from pathlib import Path

from freehold.core.types import ChatRequest
from freehold.routing.features import AnswerCheck
from freehold.routing.learners import ArtefactError, Router, load
from freehold.routing.policies import escalation
from freehold.routing.records import Record


def load_for(path: str | Path, policy: str) -> Router:
    """The router at ``path``, which must have been trained for ``policy``."""
    router = load(Path(path).expanduser())
    if router.policy != policy:
        raise ArtefactError(
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
    record = Record(id="", task="", prompt=prompt, weak_response=answer)
    gain = float(escalation(router, [record], check if router.recipe.answer else None)[0])
    return min(1.0, max(0.0, 1.0 - gain))
