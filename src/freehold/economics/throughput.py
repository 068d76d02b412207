"""Throughput rooflines (tokens/s), from memory bandwidth and peak FLOP/s.

* bytes read per generated token = active parameters × bits / 8 + KV cache of the sequence
  (dense models: active = all parameters; MoE: the parameters routed per token)
* decode roofline, batch 1 = bandwidth ÷ bytes per token
* decode at batch B = min(B × bandwidth ÷ (weights read + B × KV per sequence),
  compute bound); the weights are read once per step for all B sequences
* FLOPs per token ≈ 2 × active parameters (one multiply-add per weight; attention ignored)
* prefill (and compute) bound = peak FLOP/s ÷ FLOPs per token
* expected = roofline × efficiency (bandwidth efficiency for decode, compute efficiency,
  i.e. model FLOP utilisation, for prefill)
* blended seconds per token = input share ÷ prefill rate + (1 − input share) ÷ decode rate
"""

from __future__ import annotations


def bytes_per_token(active_weight_bytes: float, kv_bytes_per_sequence: float) -> float:
    """Bytes read to generate one token at batch 1: active weights + the sequence's KV."""
    return active_weight_bytes + kv_bytes_per_sequence


def decode_roofline(bandwidth_bytes_per_s: float, bytes_read_per_token: float) -> float:
    """Batch-1 decode tokens/s: ``bandwidth ÷ bytes per token``."""
    return bandwidth_bytes_per_s / bytes_read_per_token


def flops_per_token(active_params: float) -> float:
    """FLOPs for one token's forward pass: ``2 × active parameters``."""
    return 2 * active_params


def compute_bound(peak_flops_per_s: float, active_params: float) -> float:
    """Tokens/s when compute-bound (prefill): ``peak FLOP/s ÷ (2 × active parameters)``."""
    return peak_flops_per_s / flops_per_token(active_params)


def batched_decode(
    bandwidth_bytes_per_s: float,
    active_weight_bytes: float,
    kv_bytes_per_sequence: float,
    batch: int,
    compute_tokens_per_s: float,
) -> float:
    """Aggregate decode tokens/s of ``batch`` sequences, capped by the compute bound."""
    step_bytes = active_weight_bytes + batch * kv_bytes_per_sequence
    return min(batch * bandwidth_bytes_per_s / step_bytes, compute_tokens_per_s)


def blended_seconds_per_token(
    input_share: float, prefill_tokens_per_s: float, decode_tokens_per_s: float
) -> float:
    """Seconds per token of a mix: ``share ÷ prefill + (1 − share) ÷ decode``."""
    return input_share / prefill_tokens_per_s + (1 - input_share) / decode_tokens_per_s
