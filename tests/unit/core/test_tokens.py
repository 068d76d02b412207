from freehold.core.tokens import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMER,
    estimate_prompt_tokens,
    estimate_text_tokens,
)


def test_text_estimate_counts_word_pieces_and_symbols() -> None:
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("hello") == 2  # 5 letters → 2 pieces of ≤ 4
    assert estimate_text_tokens("a b c") == 3
    assert estimate_text_tokens("x=12345") == 1 + 1 + 2  # x, =, 123, 45
    assert estimate_text_tokens("héllo") == 3  # h, é, llo


def test_prompt_estimate_adds_framing_and_tool_arguments() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "user", "content": [{"type": "text", "text": "ok"}]},
    ]
    expected = REPLY_PRIMER + 3 * MESSAGE_OVERHEAD + 1 + (1 + 2) + 1
    assert estimate_prompt_tokens(messages) == expected
