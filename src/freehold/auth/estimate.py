"""A request's worst-case cost, held against budgets before any upstream call.

The bound must not undershoot, or concurrent requests could overspend a budget between
admission and settlement. So:

- **prompt tokens**: the UTF-8 byte count of every text the prompt carries (message texts,
  tool-call arguments, tool definitions) plus the chat framing per message. Byte-level BPE
  and SentencePiece-with-byte-fallback tokenizers (GPT, Llama, Mistral, Qwen, Claude's) never
  make more tokens than bytes, so this is an upper bound for them; it overestimates English
  about fourfold, which only matters while a budget is nearly spent (the hold is released at
  settlement);
- **completion tokens**: the request's ``max_tokens``/``max_completion_tokens``, else the
  model's ``default_max_tokens`` (which the gateway then sends upstream, so the cap holds),
  times ``n``;
- **calls**: a validated answer may be repaired (each repair re-sends the prompt plus the
  previous answer), and a cascade may call every candidate: the bound sums them all.

Money is the bound priced at each model's token prices. A local model priced by energy is
held at its token prices (normally zero): its cost is known only after it ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from freehold.config.schema import ModelSettings
from freehold.core.errors import InvalidRequest
from freehold.core.money import cost_usd, to_nanousd
from freehold.core.tokens import MESSAGE_OVERHEAD, REPLY_PRIMER
from freehold.core.types import ChatRequest

#: What a repair request adds besides the previous answer (the instruction to fix it).
REPAIR_OVERHEAD = 200
#: The largest amount (nano-dollars or tokens) a hold may carry: every store keeps it exactly
#: (Redis' Lua numbers are doubles, exact below 2^53; SQLite and PostgreSQL use int64).
MAX_HOLD = 2**53 - 1


@dataclass(frozen=True, slots=True)
class Call:
    """One model a request may call, and how many times (1 + repairs)."""

    model: ModelSettings
    calls: int = 1


@dataclass(frozen=True, slots=True)
class Estimate:
    """A request's worst case: nano-dollars, total tokens, and prompt tokens of one call."""

    nusd: int
    tokens: int
    prompt_tokens: int
    output_cap: int


def _texts(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    yield text
                elif part.get("type") not in (None, "text"):
                    yield orjson.dumps(part).decode()


def prompt_bound(request: ChatRequest) -> int:
    """An upper bound of the prompt's tokens for byte-level tokenizers (see module doc)."""
    total = REPLY_PRIMER
    for message in request.messages:
        total += MESSAGE_OVERHEAD
        total += sum(len(t.encode("utf-8")) for t in _texts(message.content))
        for call in message.tool_calls or ():
            total += len(orjson.dumps(call.model_dump()))
    if request.tools:
        total += len(orjson.dumps([t.model_dump() for t in request.tools]))
    if request.response_format:
        total += len(orjson.dumps(request.response_format))
    return total


def estimate(request: ChatRequest, calls: Sequence[Call]) -> Estimate:
    """The worst case of ``request`` over every call it may make."""
    prompt = prompt_bound(request)
    nusd = tokens = 0
    cap = 0
    choices = request.n or 1
    for call in calls:
        out = (request.output_cap or call.model.default_max_tokens) * choices
        cap = max(cap, out)
        price = call.model.price.to_price()
        for k in range(call.calls):
            asked = prompt + k * (out + REPAIR_OVERHEAD)
            nusd += to_nanousd(cost_usd(price, asked, out))
            tokens += asked + out
    if nusd > MAX_HOLD or tokens > MAX_HOLD:
        raise InvalidRequest(
            f"The request's worst case ({tokens} tokens, {nusd} nano-dollars over every call it "
            "may make) is too large to hold against a budget; lower max_tokens or n.",
            param="max_tokens",
        )
    return Estimate(nusd, tokens, prompt, cap)
