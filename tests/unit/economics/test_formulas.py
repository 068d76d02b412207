"""Every planner formula against a hand-computed case."""

from __future__ import annotations

import pytest

from freehold.economics import cost, energy, memory, throughput


def test_weights_70b_at_16_bits_is_140_gb() -> None:
    assert memory.weights_bytes(70e9, 16) / memory.GB == 140.0


def test_weights_at_q4_k_m_real_bits() -> None:
    # 8e9 × 4.84 / 8 = 4.84e9 bytes
    assert memory.weights_bytes(8e9, 4.84) == pytest.approx(4.84e9)


def test_kv_cache_llama_70b_shape() -> None:
    # 2 × 80 layers × 8 heads × 128 × 2 bytes = 327,680 bytes per token; × 4096 × 4 sequences
    assert memory.kv_cache_bytes(80, 8, 128, 2, 4096, 4) == 327_680 * 4096 * 4
    assert memory.kv_cache_bytes(80, 8, 128, 2, 4096, 4) / memory.GB == pytest.approx(5.36870912)


def test_overhead_and_fits() -> None:
    # overhead = 0.1 × 140 GB + 1 GB × 2 = 16 GB; total 140 + 10 + 16 = 166 > 160
    est = memory.estimate_memory(140e9, 10e9, 80, 2, 0.1, 1.0)
    assert est.overhead_gb == pytest.approx(16.0)
    assert est.total_gb == pytest.approx(166.0)
    assert est.available_gb == 160
    assert not est.fits
    assert memory.estimate_memory(140e9, 0, 80, 2, 0.0, 0.0).fits  # exactly 140 ≤ 160
    assert memory.smallest_count(140e9, 10e9, 80, 0.1, 1.0) == 4


def test_decode_roofline() -> None:
    # 2,000 GB/s over 140 GB of weights + 2 GB of KV per token = 2000/142 tokens/s
    per_token = throughput.bytes_per_token(140e9, 2e9)
    assert throughput.decode_roofline(2000e9, per_token) == pytest.approx(2000 / 142)
    assert throughput.decode_roofline(3350e9, 16e9) == pytest.approx(209.375)


def test_prefill_bound_and_flops() -> None:
    assert throughput.flops_per_token(7e9) == 14e9
    # 989 TFLOP/s ÷ (2 × 70e9) = 7,064.2857… tokens/s
    assert throughput.compute_bound(989e12, 70e9) == pytest.approx(989e12 / 140e9)


def test_batched_decode_reads_weights_once_per_step() -> None:
    # batch 4: 4 × 1000 GB/s ÷ (10 GB + 4 × 1 GB) = 285.71…; compute cap 1e6 not binding
    assert throughput.batched_decode(1000e9, 10e9, 1e9, 4, 1e6) == pytest.approx(4000 / 14)
    assert throughput.batched_decode(1000e9, 10e9, 1e9, 4, 100.0) == 100.0


def test_blended_seconds_per_token() -> None:
    # 75% at 1000 tokens/s, 25% at 50 tokens/s: 0.00075 + 0.005
    assert throughput.blended_seconds_per_token(0.75, 1000, 50) == pytest.approx(0.00575)


def test_energy() -> None:
    # 800 W for 1/20 s = 40 J = 1/90 Wh
    assert energy.wh_per_token(800, 1 / 20) == pytest.approx(800 / 20 / 3600)
    # prompt 1000 at 1000/s (1 s) + 500 at 50/s (10 s) = 11 s at 360 W = 1.1 Wh
    assert energy.wh_per_answer(360, 1000, 500, 1000, 50) == pytest.approx(1.1)


def test_hardware_cost_per_month() -> None:
    assert cost.owned_per_month(15_000, 2, 36) == pytest.approx(30_000 / 36)
    assert cost.rented_per_month(2.0, 2) == 2.0 * 2 * 730


def test_energy_cost_per_mtok() -> None:
    # 1,000 Wh/Mtok × PUE 1.5 = 1.5 kWh × 0.20 USD = 0.30 USD/Mtok
    assert cost.energy_per_mtok(1000, 1.5, 0.20) == pytest.approx(0.30)


def test_self_host_and_api_per_mtok() -> None:
    # 2,000 USD/month over 100M tokens = 20 USD/Mtok, + 0.5 energy
    assert cost.self_host_per_mtok(2000, 0.5, 100e6) == pytest.approx(20.5)
    # 75% input at 1 USD, 25% output at 4 USD
    assert cost.api_per_mtok(1.0, 4.0, 0.75) == pytest.approx(1.75)


def test_breakeven() -> None:
    # 2,000 USD/month ÷ (2.5 − 0.5 USD/Mtok) = 1,000 Mtok = 1e9 tokens/month
    assert cost.breakeven(2000, 0.5, 2.5) == pytest.approx(1e9)
    assert cost.self_host_per_mtok(2000, 0.5, 1e9) == pytest.approx(2.5)
    assert cost.breakeven(2000, 0.5, 0.5) is None
    assert cost.breakeven(2000, 0.5, 0.4) is None


def test_price_decline() -> None:
    assert cost.declined_price(1.0, 0.5, 12) == pytest.approx(0.5)
    assert cost.declined_price(1.0, 0.5, 24) == pytest.approx(0.25)
    assert cost.declined_price(1.0, 0.0, 24) == 1.0


def test_decline_scenario_crossings() -> None:
    # full cost at 1e9 tokens: 2000/1000 + 0.5 = 2.5; running (ops 500): 0.5 + 0.5 = 1.0
    s = cost.decline_scenario(
        api_usd=4.0,
        decline_per_year=0.5,
        months=36,
        fixed_per_month=2000,
        running_per_month=500,
        energy_usd_per_mtok=0.5,
        volume=1e9,
    )
    # 4 × 0.5^(m/12) < 2.5 first at m = 9 (2.378); < 1.0 first at m = 25 (0.943)
    assert s.api_cheaper_from_month == 9
    assert s.api_cheaper_than_running_from_month == 25
    assert [p["month"] for p in s.points] == [0, 6, 12, 18, 24, 30, 36]
    assert s.points[0]["breakeven_tokens_per_month"] == pytest.approx(2000e6 / 3.5)
    assert s.points[2]["breakeven_tokens_per_month"] == pytest.approx(2000e6 / 1.5)
    assert s.self_host_total_usd == pytest.approx(2.5 * 1000 * 36)
