"""The shape of Anthropic answers and stream events: the parts that the translation to
OpenAI objects reads (content blocks by type, text, tool-use ids, names and inputs, stop
reasons, event types and their indexes and deltas) must have the types the Messages API
documents. Block, delta and event types freehold does not translate pass unchecked.
"""

from __future__ import annotations

from typing import Any

from freehold.providers.wire_shape import Shape


def check_message(data: dict[str, Any], upstream: str) -> None:
    """Raise ``UpstreamError`` naming the first part of a message that is wrong."""
    shape = Shape(upstream, "answer")
    if "content" not in data:
        raise shape.missing("content", "a list of content blocks")
    for i, block in enumerate(shape.items(data["content"], "content", nullable=False)):
        _block(shape, block, f"content[{i}]", whole=True)
    shape.text(data, "stop_reason", "")


def check_event(event: dict[str, Any], upstream: str) -> None:
    """Raise ``UpstreamError`` naming the first part of a stream event that is wrong."""
    shape = Shape(upstream, "stream event")
    shape.text(event, "type", "", required=True)
    kind = event["type"]
    if kind == "message_start":
        shape.object(event, "message", "")
    elif kind == "content_block_start":
        shape.integer(event, "index", "", required=True)
        _block(shape, shape.object(event, "content_block", ""), "content_block", whole=False)
    elif kind == "content_block_delta":
        shape.integer(event, "index", "", required=True)
        _delta(shape, shape.object(event, "delta", ""))
    elif kind == "message_delta":
        shape.text(shape.object(event, "delta", ""), "stop_reason", "delta")


def _block(shape: Shape, block: dict[str, Any], path: str, *, whole: bool) -> None:
    """A content block; a streamed ``tool_use`` block's input arrives later (it may be
    left out at the start), a whole one's is there."""
    shape.text(block, "type", path, required=True)
    kind = block["type"]
    if kind == "text":
        shape.text(block, "text", path, required=True)
    elif kind == "tool_use":
        shape.text(block, "id", path, required=True)
        shape.text(block, "name", path, required=True)
        if whole or block.get("input") is not None:
            shape.object(block, "input", path)


def _delta(shape: Shape, delta: dict[str, Any]) -> None:
    shape.text(delta, "type", "delta", required=True)
    if delta["type"] == "text_delta":
        shape.text(delta, "text", "delta", required=True)
    elif delta["type"] == "input_json_delta":
        shape.text(delta, "partial_json", "delta", required=True)
