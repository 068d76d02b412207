"""A repair re-sends the failed answer; an answer shaped in a way freehold does not model
(a custom tool call) is re-sent as its text instead of failing the request."""

from __future__ import annotations

from freehold.core.types import ChatRequest, ChatResult, Usage, Verdict
from freehold.pipeline.validation import repair_request

REQUEST = ChatRequest.model_validate({"model": "m", "messages": [{"role": "user", "content": "q"}]})
FAILED = [Verdict("json", False, "not JSON")]


def answer(message: dict[str, object]) -> ChatResult:
    return ChatResult({"choices": [{"index": 0, "message": message}]}, Usage(1, 1))


def test_a_function_tool_call_is_re_sent_as_it_was() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    repaired = repair_request(REQUEST, answer({"role": "assistant", "tool_calls": [call]}), FAILED)
    sent = repaired.messages[1]
    assert sent.tool_calls is not None and sent.tool_calls[0].function.name == "f"
    assert "not JSON" in str(repaired.messages[2].content)


def test_a_custom_tool_call_falls_back_to_the_text() -> None:
    call = {"id": "c1", "type": "custom", "custom": {"name": "f", "input": "x"}}
    message = {"role": "assistant", "content": "partial", "tool_calls": [call]}
    repaired = repair_request(REQUEST, answer(message), FAILED)
    assert [m.role for m in repaired.messages] == ["user", "assistant", "user"]
    assert repaired.messages[1].content == "partial"
    assert repaired.messages[1].tool_calls is None
