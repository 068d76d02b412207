"""Following a stream as it passes: what to relay, and the usage it reported (or an estimate)."""

from __future__ import annotations

from typing import Any

from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, Chunk, Usage


class StreamTally:
    def __init__(self, request: ChatRequest) -> None:
        self._request = request
        self._include_usage = request.include_usage
        self._pieces: list[str] = []
        self.usage: Usage | None = None
        self.usage_relayed = False
        self.chunk_id: str | None = None
        self.model: Any = None

    def observe(self, chunk: Chunk) -> dict[str, Any] | None:
        """The chunk as the client should see it, or None when it is not for the client
        (a usage-only chunk the client did not ask for)."""
        data = chunk.data
        if self.chunk_id is None:
            self.chunk_id, self.model = data.get("id"), data.get("model")
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self._pieces.append(delta["content"])
            for call in delta.get("tool_calls") or ():
                arguments = (call.get("function") or {}).get("arguments")
                if isinstance(arguments, str):
                    self._pieces.append(arguments)
        if chunk.usage is not None:
            self.usage = chunk.usage
            if not self._include_usage:
                if not data.get("choices"):
                    return None
                data = {k: v for k, v in data.items() if k != "usage"}
            else:
                self.usage_relayed = True
        return data

    def final_usage(self) -> Usage:
        """The reported usage, or an estimate from the relayed text (marked estimated)."""
        if self.usage is None:
            messages = [m.model_dump(exclude_none=True) for m in self._request.messages]
            self.usage = Usage(
                estimate_prompt_tokens(messages),
                estimate_text_tokens("".join(self._pieces)),
                estimated=True,
            )
        return self.usage

    def usage_chunk(self) -> dict[str, Any] | None:
        """A closing usage chunk when the client asked for usage but the upstream sent none."""
        if not self._include_usage or self.usage_relayed:
            return None
        return {
            "id": self.chunk_id,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [],
            "usage": self.final_usage().to_dict(),
        }
