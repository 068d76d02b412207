"""Energy per token and per answer, from power and throughput.

* Wh per token  = watts × seconds per token ÷ 3600
* Wh per Mtok   = Wh per token × 1e6
* with PUE      = Wh × power usage effectiveness (cooling and power delivery)
* Wh per answer = prompt tokens × Wh per input token + answer tokens × Wh per output token
"""

from __future__ import annotations


def wh_per_token(watts: float, seconds_per_token: float) -> float:
    """Watt-hours for one token: ``watts × seconds per token ÷ 3600``."""
    return watts * seconds_per_token / 3600


def wh_per_answer(
    watts: float,
    prompt_tokens: float,
    answer_tokens: float,
    prefill_tokens_per_s: float,
    decode_tokens_per_s: float,
) -> float:
    """Watt-hours for one answer: its prompt at the prefill rate, its tokens at decode."""
    seconds = prompt_tokens / prefill_tokens_per_s + answer_tokens / decode_tokens_per_s
    return watts * seconds / 3600
