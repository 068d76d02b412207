"""What a plan is asked for (:class:`PlanInputs`), the defaults with their sources, and the
``assumptions`` record every plan carries (each number used, with its unit and source)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

AS_OF = "2025-06"


class PlanError(ValueError):
    """The inputs cannot make a plan (unknown name, missing or out-of-range number)."""


@dataclass(frozen=True)
class PlanInputs:
    """A plan's inputs; None means "the catalogue's figure, else the default"."""

    model: str | None = None
    params: float | None = None
    active_params: float | None = None
    layers: float | None = None
    kv_heads: float | None = None
    head_dim: float | None = None
    quant: str | None = None
    bits: float | None = None
    kv_bits: float | None = None
    hardware: str | None = None
    count: int = 1
    context: float | None = None
    concurrency: int | None = None
    tokens_per_month: float | None = None
    api_price_per_mtok: float | None = None
    api_input_price_per_mtok: float | None = None
    api_output_price_per_mtok: float | None = None
    price_decline_per_year: float | None = None
    measured_tokens_per_s: float | None = None
    rent: bool = False
    purchase_usd: float | None = None
    rental_usd_per_hour: float | None = None
    watts: float | None = None
    amortisation_months: int | None = None
    electricity_usd_per_kwh: float | None = None
    pue: float | None = None
    ops_usd_per_month: float | None = None
    utilisation: float | None = None
    bandwidth_efficiency: float | None = None
    compute_efficiency: float | None = None
    overhead_fraction: float | None = None
    overhead_gb_per_device: float | None = None
    prompt_tokens: float | None = None
    answer_tokens: float | None = None


def _assumed(why: str) -> str:
    return f"default, assumption (as of {AS_OF}): {why}"


#: name → (value, unit, source) used when the input is None.
DEFAULTS: dict[str, tuple[float, str, str]] = {
    "kv_bits": (16, "bits/value", _assumed("FP16 KV cache")),
    "context": (4096, "tokens", _assumed("context per sequence held in the KV cache")),
    "concurrency": (1, "sequences", _assumed("one sequence at a time")),
    "tokens_per_month": (100e6, "tokens/month", _assumed("input + output tokens per month")),
    "price_decline_per_year": (
        0.3,
        "fraction/year",
        _assumed("API prices for equal capability fall 30% a year"),
    ),
    "amortisation_months": (36, "months", _assumed("3-year hardware depreciation")),
    "electricity_usd_per_kwh": (0.15, "USD/kWh", _assumed("commercial electricity price")),
    "pue": (
        1.56,
        "ratio",
        "default: average data-centre PUE, https://uptimeinstitute.com/resources/research-and-"
        "reports/uptime-institute-global-data-center-survey-results-2024",
    ),
    "ops_usd_per_month": (1250, "USD/month", _assumed("0.1 FTE at 150,000 USD/year loaded")),
    "utilisation": (0.5, "fraction", _assumed("share of the month serving at full rate")),
    "bandwidth_efficiency": (0.7, "fraction", _assumed("achieved / peak memory bandwidth")),
    "compute_efficiency": (0.4, "fraction", _assumed("model FLOP utilisation in prefill")),
    "overhead_fraction": (0.1, "fraction of weights", _assumed("runtime buffers, activations")),
    "overhead_gb_per_device": (1.0, "GB/device", _assumed("CUDA context and allocator slack")),
    "prompt_tokens": (1500, "tokens/answer", _assumed("prompt length of one answer")),
    "answer_tokens": (500, "tokens/answer", _assumed("generated tokens of one answer")),
}

ZERO_OK = frozenset(
    {
        "purchase_usd",
        "rental_usd_per_hour",
        "overhead_fraction",
        "overhead_gb_per_device",
        "ops_usd_per_month",
        "price_decline_per_year",
        "prompt_tokens",
        "answer_tokens",
    }
)
FRACTIONS = ("price_decline_per_year", "utilisation", "bandwidth_efficiency", "compute_efficiency")
FLAGS = {f.name: "--" + f.name.replace("_", "-") for f in fields(PlanInputs)}


class Assumptions:
    """Every number a plan uses, in order, with unit and source."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, name: str, value: float | None, unit: str, source: str) -> float:
        """Record ``name`` and return its value (which must be set)."""
        if value is None:
            raise PlanError(f"{name} is not known: give {FLAGS.get(name, name)}")
        self.items.append({"name": name, "value": value, "unit": unit, "source": source})
        return value

    def given_or_default(self, inputs: PlanInputs, name: str) -> float:
        """The input ``name`` when given (source: the command line), else its default."""
        value, unit, source = DEFAULTS[name]
        given = getattr(inputs, name)
        if given is not None:
            value, source = given, f"given ({FLAGS[name]})"
        return self.add(name, value, unit, source)


def check_ranges(inputs: PlanInputs) -> None:
    """Reject numbers out of range, naming the option."""
    for f in fields(PlanInputs):
        value = getattr(inputs, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value != value or value in (float("inf"), float("-inf")):
            raise PlanError(f"{FLAGS[f.name]} must be a finite number, got {value}")
        positive = f.name not in ZERO_OK
        if value < 0 or (positive and value == 0):
            kind = "positive" if positive else "zero or more"
            raise PlanError(f"{FLAGS[f.name]} must be {kind}, got {value}")
    for name in FRACTIONS:
        value = getattr(inputs, name)
        if value is not None and (value > 1 or (name == "price_decline_per_year" and value == 1)):
            raise PlanError(f"{FLAGS[name]} is a fraction (0.3 = 30%), got {value}")
    if inputs.pue is not None and inputs.pue < 1:
        raise PlanError(f"--pue is 1 or more, got {inputs.pue}")
