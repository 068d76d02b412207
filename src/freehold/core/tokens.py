"""Token counting where the upstream reported none.

Counts made here are estimates and are marked so in the ledger. The estimator is a
pre-tokenizing heuristic calibrated on BPE vocabularies of the GPT/Llama family: every
word piece counts one token per four characters (at least one), every other symbol one.
Local models (llama.cpp) count with their own tokenizer instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PIECES = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]|[^\x00-\x7f]")
# Every chat message costs a few tokens of framing (role markers, separators).
MESSAGE_OVERHEAD = 4
REPLY_PRIMER = 3


def estimate_text_tokens(text: str) -> int:
    """Estimated token count of ``text``."""
    total = 0
    for piece in _PIECES.findall(text):
        total += (len(piece) + 3) // 4 if piece.isalpha() else 1
    return total


def _content_text(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"]


def estimate_prompt_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Estimated prompt tokens for OpenAI-format messages, framing included."""
    total = REPLY_PRIMER
    for message in messages:
        total += MESSAGE_OVERHEAD
        for text in _content_text(message.get("content")):
            total += estimate_text_tokens(text)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += estimate_text_tokens(str(function.get("name", "")))
            total += estimate_text_tokens(str(function.get("arguments", "")))
    return total
