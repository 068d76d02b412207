from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.core.money import Price, cost_usd, format_usd, from_nanousd, to_nanousd


def test_cost_is_exact() -> None:
    price = Price(Decimal("2.5"), Decimal("10"))
    assert cost_usd(price, 3, 5) == Decimal("0.0000575")
    assert cost_usd(price, 1_000_000, 0) == Decimal("2.5")


def test_cost_rounds_half_even_to_a_nano_dollar() -> None:
    price = Price(Decimal("0.0015"), Decimal("0"))  # 1 token → 1.5e-9 USD
    assert cost_usd(price, 1, 0) == Decimal("0.000000002")
    assert cost_usd(Price(Decimal("0.0025")), 1, 0) == Decimal("0.000000002")  # 2.5e-9 → even


def test_free_price() -> None:
    assert Price().is_free
    assert cost_usd(Price(), 10**9, 10**9) == 0


def test_format_usd_is_fixed_point() -> None:
    assert format_usd(Decimal("0.0000575")) == "0.000057500"
    assert format_usd(Decimal("12")) == "12.000000000"


@given(st.integers(min_value=0, max_value=10**15))
def test_nano_round_trip(nano: int) -> None:
    assert to_nanousd(from_nanousd(nano)) == nano


@pytest.mark.parametrize(("a", "b"), [(0, 0), (1, 2), (10**6, 10**6)])
def test_cost_grows_with_tokens(a: int, b: int) -> None:
    price = Price(Decimal("1"), Decimal("2"))
    assert cost_usd(price, a + 1, b) > cost_usd(price, a, b)
