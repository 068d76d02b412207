"""Exact decimal cost arithmetic. Costs are USD, quantized to 1e-9 (one nano-dollar)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

NANO = Decimal("0.000000001")
_PER_MTOK = Decimal(1_000_000)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens, input and output."""

    input_per_mtok: Decimal = ZERO
    output_per_mtok: Decimal = ZERO

    @property
    def is_free(self) -> bool:
        return self.input_per_mtok == 0 and self.output_per_mtok == 0


def cost_usd(price: Price, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """Tokens × prices, rounded half-even to 1e-9 USD."""
    raw = (
        price.input_per_mtok * prompt_tokens + price.output_per_mtok * completion_tokens
    ) / _PER_MTOK
    return raw.quantize(NANO, rounding=ROUND_HALF_EVEN)


_JOULES_PER_KWH = Decimal(3_600_000)


def energy_cost_usd(watts: Decimal, usd_per_kwh: Decimal, seconds: float) -> Decimal:
    """The electricity a generation used: watts × seconds, at ``usd_per_kwh``, to 1e-9 USD."""
    joules = watts * Decimal(repr(seconds))
    return (joules / _JOULES_PER_KWH * usd_per_kwh).quantize(NANO, rounding=ROUND_HALF_EVEN)


def to_nanousd(amount: Decimal) -> int:
    """A cost as an integer count of nano-dollars (how stores keep it exactly)."""
    return int(amount.quantize(NANO, rounding=ROUND_HALF_EVEN) / NANO)


def from_nanousd(nano: int) -> Decimal:
    return (Decimal(nano) * NANO).quantize(NANO)


def format_usd(amount: Decimal) -> str:
    """Fixed-point text with nine decimals, e.g. ``0.000012500``."""
    return f"{amount.quantize(NANO, rounding=ROUND_HALF_EVEN):f}"


def format_nanousd(nano: int) -> str:
    """Nano-dollars as :func:`format_usd` text, e.g. ``1500`` → ``0.000001500``."""
    return format_usd(from_nanousd(nano))
