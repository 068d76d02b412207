"""Monotonicity of the cost model (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from freehold.economics import cost, memory, throughput

positive = st.floats(min_value=1e-3, max_value=1e12, allow_nan=False, allow_infinity=False)
bits = st.floats(min_value=1, max_value=32)


@given(params=positive, low=bits, high=bits)
def test_more_bits_more_memory(params: float, low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert memory.weights_bytes(params, low) <= memory.weights_bytes(params, high)

    def total(b: float) -> float:
        weights = memory.weights_bytes(params, b)
        return memory.estimate_memory(weights, 1e9, 80, 1, 0.1, 1.0).total_gb

    assert total(low) <= total(high)


@given(per_token=positive, low=positive, high=positive)
def test_more_bandwidth_more_tokens_per_s(per_token: float, low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert throughput.decode_roofline(low, per_token) <= throughput.decode_roofline(high, per_token)


@given(
    fixed=st.floats(min_value=0, max_value=1e7),
    energy=st.floats(min_value=0, max_value=100),
    low=st.floats(min_value=1e3, max_value=1e13),
    high=st.floats(min_value=1e3, max_value=1e13),
)
def test_more_volume_lower_self_host_cost(
    fixed: float, energy: float, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    assert cost.self_host_per_mtok(fixed, energy, high) <= cost.self_host_per_mtok(
        fixed, energy, low
    )


@given(
    fixed=st.floats(min_value=1, max_value=1e7),
    energy=st.floats(min_value=0, max_value=10),
    margin_low=st.floats(min_value=1e-3, max_value=100),
    margin_high=st.floats(min_value=1e-3, max_value=100),
)
def test_higher_api_price_lower_breakeven(
    fixed: float, energy: float, margin_low: float, margin_high: float
) -> None:
    margin_low, margin_high = sorted((margin_low, margin_high))
    cheap = cost.breakeven(fixed, energy, energy + margin_low)
    dear = cost.breakeven(fixed, energy, energy + margin_high)
    assert cheap is not None and dear is not None
    assert dear <= cheap


@given(price=positive, decline=st.floats(min_value=0, max_value=0.99), month=st.integers(0, 120))
def test_prices_only_fall(price: float, decline: float, month: int) -> None:
    assert cost.declined_price(price, decline, month + 1) <= cost.declined_price(
        price, decline, month
    )
