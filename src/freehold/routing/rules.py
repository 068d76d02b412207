"""The ``rules`` routing policy: deterministic conditions on the request pick a candidate.

Rules are tried in order; the first whose conditions all hold names the model. A route whose
rules all fail uses its first (cheapest) candidate. Pure: no I/O, no model calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from freehold.config.schema import RouteSettings, RuleConditions
from freehold.core.tokens import estimate_prompt_tokens
from freehold.core.types import ChatRequest


@dataclass(frozen=True, slots=True)
class RuleChoice:
    model: str
    rule: int | None
    """Index of the rule that chose, or None when none matched (the first candidate)."""
    prompt_tokens: int


def _holds(when: RuleConditions, request: ChatRequest, prompt_tokens: int) -> bool:
    json_mode = (request.response_format or {}).get("type") in ("json_object", "json_schema")
    checks = (
        when.prompt_tokens_over is None or prompt_tokens > when.prompt_tokens_over,
        when.prompt_tokens_under is None or prompt_tokens < when.prompt_tokens_under,
        when.has_tools is None or bool(request.tools) == when.has_tools,
        when.json_mode is None or json_mode == when.json_mode,
        all((request.metadata or {}).get(k) == v for k, v in when.metadata.items()),
    )
    return all(checks)


def choose(route: RouteSettings, request: ChatRequest) -> RuleChoice:
    messages = [m.model_dump(exclude_none=True) for m in request.messages]
    prompt_tokens = estimate_prompt_tokens(messages)
    for index, rule in enumerate(route.rules):
        if _holds(rule.when, request, prompt_tokens):
            return RuleChoice(rule.use, index, prompt_tokens)
    return RuleChoice(route.candidates[0], None, prompt_tokens)
