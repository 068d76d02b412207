"""``plan()``: the figures composed, the catalogue used, every number in ``assumptions``."""

from __future__ import annotations

from typing import Any

import pytest

from freehold.economics.catalog import Entry, Figure, builtin_catalog
from freehold.economics.inputs import PlanError, PlanInputs
from freehold.economics.planner import plan

CATALOG = builtin_catalog()


def run(**kwargs: Any) -> dict[str, Any]:
    return plan(PlanInputs(**kwargs), CATALOG)


def test_raw_numbers_70b_fp16() -> None:
    p = run(
        params=70e9,
        bits=16,
        layers=80,
        kv_heads=8,
        head_dim=128,
        hardware="a100-80gb",
        count=2,
        context=4096,
        concurrency=1,
        overhead_fraction=0.0,
        overhead_gb_per_device=0.0,
    )
    assert p["memory"]["weights_gb"] == 140.0
    assert p["memory"]["kv_cache_gb"] == pytest.approx(327_680 * 4096 / 1e9)
    assert p["fits"] is True
    # tensor parallel: 2 × 2039 GB/s over 140 GB + KV
    per_token = 140e9 + 327_680 * 4096
    assert p["throughput"]["decode_tokens_per_s"] == pytest.approx(2 * 2039e9 / per_token)


def test_moe_reads_active_params_only() -> None:
    dense = run(model="mixtral-8x7b", hardware="h200", active_params=46.7e9)
    moe = run(model="mixtral-8x7b", hardware="h200")
    assert moe["memory"]["weights_gb"] == dense["memory"]["weights_gb"]
    assert moe["throughput"]["decode_tokens_per_s"] > 3 * dense["throughput"]["decode_tokens_per_s"]


def test_does_not_fit_and_fits_on() -> None:
    p = run(model="llama-3.1-405b", quant="fp16", hardware="rtx-4090")
    assert p["fits"] is False
    assert p["fits_on"]["h200"] == 8
    assert p["fits_on"]["rtx-4090"] is None


def test_measured_rate_overrides_estimate() -> None:
    est = run(model="llama-3.1-8b", hardware="l40s", api_price_per_mtok=1.0)
    meas = run(
        model="llama-3.1-8b", hardware="l40s", api_price_per_mtok=1.0, measured_tokens_per_s=1000.0
    )
    assert meas["throughput"]["serving_source"] == "measured"
    assert meas["energy"]["wh_per_mtok"] < est["energy"]["wh_per_mtok"]
    names = {a["name"]: a["source"] for a in meas["assumptions"]}
    assert names["measured_tokens_per_s"].startswith("measured")


def test_rented_pricing_uses_hourly_rate() -> None:
    p = run(model="llama-3.1-8b", hardware="h100-sxm-80gb", rent=True, ops_usd_per_month=0)
    assert p["cost"]["pricing"] == "rented"
    assert p["cost"]["hardware_per_month"] == pytest.approx(2.99 * 730)


def test_breakeven_matches_self_host_cost() -> None:
    p = run(model="llama-3.1-8b", hardware="rtx-4090", api_price_per_mtok=5.0, quant="q4_k_m")
    c = p["cost"]
    v = c["breakeven_tokens_per_month"]
    assert v is not None
    assert c["fixed_per_month"] / v * 1e6 + c["energy_per_mtok"] == pytest.approx(5.0)
    assert len(c["price_decline"]["points"]) == 7


def test_assumptions_cover_every_number_with_a_source() -> None:
    p = run(
        model="llama-3.1-70b",
        quant="q4_k_m",
        hardware="a100-80gb",
        count=2,
        tokens_per_month=1e7,
        api_price_per_mtok=0.4,
    )
    names = [a["name"] for a in p["assumptions"]]
    assert len(names) == len(set(names))
    for name in (
        "GB",
        "params",
        "bits_per_weight",
        "count",
        "bandwidth_gb_s",
        "watts",
        "pue",
        "electricity_usd_per_kwh",
        "ops_usd_per_month",
        "utilisation",
        "amortisation_months",
        "price_decline_per_year",
        "kv_bits",
        "context",
    ):
        assert name in names
    for a in p["assumptions"]:
        assert a["source"] and isinstance(a["unit"], str)
    count = next(a for a in p["assumptions"] if a["name"] == "count")
    assert "tensor parallel" in count["source"]


def test_this_machine_uses_the_prober() -> None:
    def prober(entry: Entry) -> Entry:
        figures = {
            **entry.figures,
            "memory_gb": Figure(32, "GB", "measured: t"),
            "bandwidth_gb_s": Figure(50, "GB/s", "measured: t"),
            "peak_tflops": Figure(1, "TFLOP/s", "estimate: t"),
        }
        return Entry(entry.id, entry.name, figures)

    p = plan(
        PlanInputs(model="qwen2.5-7b", quant="q4_k_m", hardware="this-machine"), CATALOG, prober
    )
    assert p["hardware"]["bandwidth_gb_s"] == 50
    assert p["cost"]["hardware_per_month"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hardware": "h200"}, "--model NAME or --params"),
        ({"model": "llama-3.1-8b"}, "--hardware"),
        ({"model": "llama-3.1-8b", "hardware": "h200", "bits": 4, "quant": "q4_0"}, "not both"),
        ({"params": 7e9, "layers": 32, "hardware": "h200"}, "--kv-heads"),
        ({"model": "llama-3.1-8b", "hardware": "h200", "utilisation": 1.5}, "fraction"),
        ({"model": "llama-3.1-8b", "hardware": "h200", "context": -1}, "positive"),
        ({"model": "llama-3.1-8b", "hardware": "tpu"}, "unknown hardware"),
        ({"model": "llama-3.1-8b", "hardware": "h200", "api_input_price_per_mtok": 1}, "both"),
    ],
)
def test_bad_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        run(**kwargs)


def test_volumes_beyond_one_deployment_pay_for_more_deployments() -> None:
    common: dict[str, Any] = {
        "model": "llama-3.1-70b",
        "quant": "q4_k_m",
        "hardware": "a100-80gb",
        "count": 2,
        "api_price_per_mtok": 0.40,
    }
    one = run(**common, tokens_per_month=1e6)
    capacity = one["throughput"]["capacity_tokens_per_month"]
    fixed = one["cost"]["fixed_per_month"]
    energy = one["cost"]["energy_per_mtok"]
    volume = 2.5 * capacity
    many = run(**common, tokens_per_month=volume)["cost"]
    assert many["replicas_needed"] == 3 and many["volume_within_capacity"] is False
    assert many["self_host_per_mtok"] == pytest.approx(3 * fixed * 1e6 / volume + energy)
    # at $0.40 one deployment never pays for itself, however full: no breakeven at any volume
    assert one["cost"]["breakeven_within_capacity"] is False
    assert "does not break even at any volume" in one["cost"]["breakeven_reason"]
