"""The worst-case bound held before a call: never below what the call can cost."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from freehold.auth.estimate import Call, estimate, prompt_bound
from freehold.config.schema import ModelSettings, PriceSettings
from freehold.core.money import cost_usd, to_nanousd
from freehold.core.tokens import estimate_prompt_tokens
from freehold.core.types import ChatRequest

MODEL = ModelSettings(
    name="m",
    backend="openai",
    base_url="http://127.0.0.1:1/v1",
    price=PriceSettings(input_per_mtok=Decimal(2), output_per_mtok=Decimal(8)),
    default_max_tokens=1000,
)


def chat(text: str, **extra: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": text}], **extra}
    )


def test_prompt_bound_counts_bytes_plus_framing() -> None:
    # 3 reply primer + 4 message framing + 11 bytes
    assert prompt_bound(chat("hello world")) == 18
    assert prompt_bound(chat("é")) == 3 + 4 + 2


@given(st.text(max_size=400))
def test_prompt_bound_is_never_below_the_token_estimate(text: str) -> None:
    request = chat(text)
    messages = [m.model_dump() for m in request.messages]
    assert prompt_bound(request) >= estimate_prompt_tokens(messages)


def test_one_call_is_priced_at_the_cap() -> None:
    worst = estimate(chat("hello world", max_tokens=50), [Call(MODEL)])
    assert worst.prompt_tokens == 18
    assert worst.tokens == 18 + 50
    assert worst.nusd == to_nanousd(cost_usd(MODEL.price.to_price(), 18, 50))
    assert worst.output_cap == 50


def test_without_a_cap_the_models_default_counts_times_n() -> None:
    worst = estimate(chat("hi", n=3), [Call(MODEL)])
    assert worst.output_cap == 3000
    assert worst.tokens == prompt_bound(chat("hi")) + 3000


def test_repairs_and_cascades_add_up() -> None:
    request = chat("hello world", max_tokens=10)
    one = estimate(request, [Call(MODEL)])
    repaired = estimate(request, [Call(MODEL, calls=2)])
    # the repair re-sends the prompt plus the answer and the repair instruction
    assert repaired.tokens == one.tokens + (18 + 10 + 200) + 10
    both = estimate(request, [Call(MODEL), Call(MODEL, calls=2)])
    assert both.nusd == one.nusd + repaired.nusd


def test_tools_and_tool_calls_count() -> None:
    plain = chat("x")
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    with_tools = chat("x", tools=tools)
    assert prompt_bound(with_tools) > prompt_bound(plain) + len("lookup")
