"""The rules policy: first matching rule wins; none matching means the first candidate."""

from __future__ import annotations

from typing import Any

import pytest

from freehold.config import ConfigError, parse_settings
from freehold.config.schema import RouteSettings
from freehold.core.types import ChatRequest
from freehold.routing.rules import choose

MODELS = [
    {"name": n, "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}
    for n in ("small", "big", "long")
]


def route(*rules: dict[str, Any]) -> RouteSettings:
    return RouteSettings(
        name="auto", policy="rules", candidates=("small", "big", "long"), rules=rules
    )  # type: ignore[arg-type]


def req(text: str = "hi", **fields: Any) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "auto", "messages": [{"role": "user", "content": text}], **fields}
    )


def test_conditions() -> None:
    r = route(
        {"use": "long", "when": {"prompt_tokens_over": 100}},
        {"use": "big", "when": {"has_tools": True}},
        {"use": "big", "when": {"json_mode": True}},
        {"use": "big", "when": {"metadata": {"tier": "gold"}}},
    )
    assert choose(r, req()).model == "small" and choose(r, req()).rule is None
    assert choose(r, req("word " * 200)).model == "long"
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert choose(r, req(tools=tools)).rule == 1
    assert choose(r, req(response_format={"type": "json_object"})).rule == 2
    assert choose(r, req(metadata={"tier": "gold"})).rule == 3
    assert choose(r, req(metadata={"tier": "silver"})).rule is None


def test_first_matching_rule_wins() -> None:
    r = route({"use": "big", "when": {"prompt_tokens_under": 50}}, {"use": "long"})
    assert choose(r, req()).model == "big"
    assert choose(r, req("word " * 100)).model == "long"


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        (
            [{"name": "a", "policy": "rules", "candidates": ["small"], "rules": []}],
            "routes[0].rules: a rules route needs at least one rule",
        ),
        (
            [{"name": "a", "policy": "cascade", "candidates": ["small", "big"]}],
            "routes[0].validators: a cascade escalates when its checks fail: give it validators "
            "(or a trained router)",
        ),
        (
            [
                {
                    "name": "a",
                    "policy": "cascade",
                    "candidates": ["small", "nope"],
                    "validators": [{"type": "json"}],
                }
            ],
            "routes[0].candidates[1]: no model named 'nope'",
        ),
        (
            [
                {
                    "name": "big",
                    "policy": "rules",
                    "candidates": ["small"],
                    "rules": [{"use": "small"}],
                }
            ],
            "routes[0].name: 'big' is already a model name",
        ),
        (
            [{"name": "a", "policy": "rules", "candidates": ["small"], "rules": [{"use": "big"}]}],
            "routes[0].rules[0].use: 'big' is not one of the candidates",
        ),
    ],
)
def test_route_config_problems(routes: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"models": MODELS, "routes": routes}, "c.yaml", {})
    assert [p.render("c.yaml") for p in caught.value.problems] == [f"c.yaml:{problem}"]
