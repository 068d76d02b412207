"""Self-hosting cost against API prices, per million tokens (Mtok), in USD.

* owned hardware per month  = purchase price × devices ÷ amortisation months
* rented hardware per month = price per hour × devices × 730 h (always on)
* fixed per month           = hardware per month + operations staff per month
* energy per Mtok           = Wh per Mtok × PUE ÷ 1000 × electricity USD/kWh
* self-host per Mtok at V   = fixed per month ÷ V × 1e6 + energy per Mtok  (V tokens/month)
* API per Mtok              = input share × input price + (1 − input share) × output price
* breakeven V               = fixed per month × 1e6 ÷ (API per Mtok − energy per Mtok);
  none when the API costs no more than the energy alone
* price decline: API price at month m = price × (1 − decline per year) ^ (m ÷ 12)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOURS_PER_MONTH = 730.0
MTOK = 1e6


def owned_per_month(purchase_usd: float, devices: int, months: float) -> float:
    """Amortised hardware cost: ``purchase × devices ÷ months``."""
    return purchase_usd * devices / months


def rented_per_month(usd_per_hour: float, devices: int) -> float:
    """Rental cost, always on: ``price per hour × devices × 730``."""
    return usd_per_hour * devices * HOURS_PER_MONTH


def energy_per_mtok(wh_per_mtok: float, pue: float, usd_per_kwh: float) -> float:
    """Electricity per Mtok: ``Wh per Mtok × PUE ÷ 1000 × USD/kWh``."""
    return wh_per_mtok * pue / 1000 * usd_per_kwh


def self_host_per_mtok(fixed_per_month: float, energy_usd_per_mtok: float, volume: float) -> float:
    """Self-hosting USD per Mtok at ``volume`` tokens/month."""
    return fixed_per_month / volume * MTOK + energy_usd_per_mtok


def api_per_mtok(input_price: float, output_price: float, input_share: float) -> float:
    """Blended API USD per Mtok: ``share × input + (1 − share) × output``."""
    return input_share * input_price + (1 - input_share) * output_price


def breakeven(fixed_per_month: float, energy_usd_per_mtok: float, api_usd: float) -> float | None:
    """Tokens/month at which self-hosting costs what the API does; None if never."""
    margin = api_usd - energy_usd_per_mtok
    if margin <= 0:
        return None
    return fixed_per_month * MTOK / margin


def declined_price(price: float, decline_per_year: float, month: float) -> float:
    """The API price after ``month`` months of ``decline_per_year`` (a fraction)."""
    return price * float((1 - decline_per_year) ** (month / 12))


@dataclass(frozen=True)
class DeclineScenario:
    """How breakeven moves while API prices fall, over the amortisation period.

    ``api_cheaper_from_month``: the first month the API undercuts the full self-host cost
    per Mtok at the planned volume. ``api_cheaper_than_running_from_month``: the first month
    it undercuts the running cost alone (energy + operations, owned hardware being sunk).
    Between the two, owned hardware is an *inhibiting lead*: it keeps the work in house
    although buying it again would not pay. None: not within the period.
    """

    points: list[dict[str, float | None]]
    api_cheaper_from_month: int | None
    api_cheaper_than_running_from_month: int | None
    self_host_total_usd: float
    api_total_usd: float

    def to_json(self) -> dict[str, object]:
        return {
            "points": self.points,
            "api_cheaper_from_month": self.api_cheaper_from_month,
            "api_cheaper_than_running_from_month": self.api_cheaper_than_running_from_month,
            "self_host_total_usd": self.self_host_total_usd,
            "api_total_usd": self.api_total_usd,
        }


def decline_scenario(
    *,
    api_usd: float,
    decline_per_year: float,
    months: int,
    fixed_per_month: float,
    running_per_month: float,
    energy_usd_per_mtok: float,
    volume: float,
    step: int = 6,
) -> DeclineScenario:
    """Breakeven every ``step`` months from 0 to ``months``, and the crossing months."""
    full = self_host_per_mtok(fixed_per_month, energy_usd_per_mtok, volume)
    running = self_host_per_mtok(running_per_month, energy_usd_per_mtok, volume)
    points: list[dict[str, float | None]] = []
    for month in sorted({*range(0, months + 1, step), months}):
        price = declined_price(api_usd, decline_per_year, month)
        points.append(
            {
                "month": month,
                "api_per_mtok": price,
                "breakeven_tokens_per_month": breakeven(
                    fixed_per_month, energy_usd_per_mtok, price
                ),
            }
        )
    prices = [declined_price(api_usd, decline_per_year, m) for m in range(months + 1)]
    api_total = sum(p * volume / MTOK for p in prices[:months])
    return DeclineScenario(
        points=points,
        api_cheaper_from_month=next((m for m, p in enumerate(prices) if p < full), None),
        api_cheaper_than_running_from_month=next(
            (m for m, p in enumerate(prices) if p < running), None
        ),
        self_host_total_usd=full * volume / MTOK * months,
        api_total_usd=api_total,
    )


def finite(value: float | None) -> float | None:
    """``value``, or None when it is infinite or NaN (JSON has no infinity)."""
    return value if value is not None and math.isfinite(value) else None
