"""``plan(inputs, catalog)``: memory, throughput, cost and energy of serving one model.

Composes :mod:`memory`, :mod:`throughput`, :mod:`energy` and :mod:`cost` over figures
from the catalogues or the inputs, and returns a JSON-ready dict whose ``assumptions``
list every number used with its unit and source. With ``count`` K > 1 the devices are
taken as one tensor-parallel group: memory, bandwidth and FLOP/s add up. The serving
rate for cost and energy is the expected decode rate at the planned concurrency
(roofline × efficiency) unless ``measured_tokens_per_s`` overrides it. Pure apart from
probing ``this-machine`` when it is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from freehold.economics import cost, energy, memory, throughput
from freehold.economics.catalog import Catalog, CatalogError, Entry, Figure
from freehold.economics.inputs import Assumptions, PlanError, PlanInputs, check_ranges
from freehold.economics.machine import probe

SECONDS_PER_MONTH = cost.HOURS_PER_MONTH * 3600
ARCH = ("layers", "kv_heads", "head_dim")


def _figure(a: Assumptions, name: str, given: float | None, fig: Figure | None, flag: str) -> float:
    if given is not None:
        return a.add(name, given, fig.unit if fig else "", f"given ({flag})")
    if fig is None:
        raise PlanError(f"{name} is not known: give {flag}")
    return a.add(name, fig.value, fig.unit, fig.source)


def _model(a: Assumptions, i: PlanInputs, catalog: Catalog) -> dict[str, Any]:
    entry = catalog.lookup("models", i.model) if i.model else None
    if entry is None and i.params is None:
        raise PlanError("give --model NAME or --params N")

    def fig(key: str) -> Figure | None:
        return entry.figure(key) if entry else None

    out: dict[str, Any] = {"id": entry.id if entry else None, "name": entry.name if entry else None}
    out["params"] = _figure(a, "params", i.params, fig("params"), "--params")
    if i.active_params is not None or fig("active_params") is not None:
        out["active_params"] = _figure(
            a, "active_params", i.active_params, fig("active_params"), "--active-params"
        )
    else:
        out["active_params"] = a.add(
            "active_params",
            out["params"],
            "parameters",
            "dense model: every parameter is read per token",
        )
    known = [k for k in ARCH if getattr(i, k) is not None or fig(k) is not None]
    if known and len(known) < len(ARCH):
        raise PlanError("give all of --layers, --kv-heads and --head-dim, or none")
    for key in ARCH:
        if known:
            out[key] = _figure(a, key, getattr(i, key), fig(key), "--" + key.replace("_", "-"))
        else:
            out[key] = a.add(key, 0, "", "architecture not given: KV cache counted as 0")
    return out


def _bits(a: Assumptions, i: PlanInputs, catalog: Catalog) -> dict[str, Any]:
    if i.bits is not None and i.quant is not None:
        raise PlanError("give --bits or --quant, not both")
    if i.bits is not None:
        return {
            "id": None,
            "bits_per_weight": a.add("bits_per_weight", i.bits, "bits/weight", "given (--bits)"),
        }
    entry = catalog.lookup("quant", i.quant or "fp16")
    bits = entry.get("bits_per_weight")
    source = bits.source if i.quant else f"default: FP16 weights; {bits.source}"
    return {
        "id": entry.id,
        "name": entry.name,
        "bits_per_weight": a.add("bits_per_weight", bits.value, bits.unit, source),
    }


def _hardware(
    a: Assumptions, i: PlanInputs, catalog: Catalog, prober: Callable[[Entry], Entry]
) -> dict[str, Any]:
    if not i.hardware:
        raise PlanError(f"give --hardware NAME (one of: {', '.join(sorted(catalog.hardware))})")
    entry = catalog.lookup("hardware", i.hardware)
    if entry.probe:
        entry = prober(entry)
    out: dict[str, Any] = {"id": entry.id, "name": entry.name, "count": i.count}
    a.add(
        "count",
        i.count,
        "devices",
        f"tensor parallel across {i.count} device(s): memory, bandwidth and FLOP/s add up; "
        "interconnect costs are folded into the efficiency factors",
    )
    for key in ("memory_gb", "bandwidth_gb_s", "peak_tflops"):
        out[key] = _figure(a, key, None, entry.figure(key), "--catalog")
    for key in ("watts", "purchase_usd", "rental_usd_per_hour"):
        if key == "rental_usd_per_hour" and not i.rent and i.rental_usd_per_hour is None:
            continue
        out[key] = _figure(a, key, getattr(i, key), entry.figure(key), "--" + key.replace("_", "-"))
    return out


def _fits_on(
    catalog: Catalog, weights: float, kv: float, frac: float, per_dev: float
) -> dict[str, int | None]:
    return {
        hw.id: memory.smallest_count(weights, kv, hw.get("memory_gb").value, frac, per_dev)
        for hw in catalog.hardware.values()
        if not hw.probe
    }


def plan(
    inputs: PlanInputs, catalog: Catalog, prober: Callable[[Entry], Entry] = probe
) -> dict[str, Any]:
    """The plan as a JSON-ready dict; raises :class:`PlanError` on bad inputs."""
    check_ranges(inputs)
    a = Assumptions()
    a.add("GB", 1e9, "bytes", "definition: GB = 1e9 bytes and GB/s = 1e9 bytes/s throughout")
    try:
        model = _model(a, inputs, catalog)
        quant = _bits(a, inputs, catalog)
        hw = _hardware(a, inputs, catalog, prober)
    except CatalogError as exc:
        raise PlanError(str(exc)) from None
    g = partial(a.given_or_default, inputs)
    kv_bits, context, conc = g("kv_bits"), g("context"), int(g("concurrency"))
    frac, per_dev = g("overhead_fraction"), g("overhead_gb_per_device")
    k, bits = inputs.count, quant["bits_per_weight"]

    weights = memory.weights_bytes(model["params"], bits)
    kv_seq = memory.kv_cache_bytes(
        model["layers"], model["kv_heads"], model["head_dim"], kv_bits / 8, context, 1
    )
    mem = memory.estimate_memory(weights, kv_seq * conc, hw["memory_gb"], k, frac, per_dev)

    bw_eff, fl_eff = g("bandwidth_efficiency"), g("compute_efficiency")
    bandwidth, flops = hw["bandwidth_gb_s"] * 1e9 * k, hw["peak_tflops"] * 1e12 * k
    active_w = memory.weights_bytes(model["active_params"], bits)
    roofline = throughput.decode_roofline(bandwidth, throughput.bytes_per_token(active_w, kv_seq))
    prefill = throughput.compute_bound(flops, model["active_params"])
    batched = throughput.batched_decode(
        bandwidth * bw_eff, active_w, kv_seq, conc, prefill * fl_eff
    )
    serving = batched
    if inputs.measured_tokens_per_s is not None:
        serving = a.add(
            "measured_tokens_per_s",
            inputs.measured_tokens_per_s,
            "tokens/s",
            "measured (--measured-tokens-per-s): overrides the estimate",
        )
    prompt, answer = g("prompt_tokens"), g("answer_tokens")
    if prompt + answer == 0:
        raise PlanError("--prompt-tokens and --answer-tokens cannot both be 0")
    share = prompt / (prompt + answer)
    spt = throughput.blended_seconds_per_token(share, prefill * fl_eff, serving)
    util = g("utilisation")
    capacity = util * SECONDS_PER_MONTH / spt

    watts = hw["watts"] * k
    pue = g("pue")
    wh_token = energy.wh_per_token(watts, spt)
    energy_json = {
        "watts": watts,
        "wh_per_token": wh_token,
        "wh_per_mtok": wh_token * cost.MTOK,
        "wh_per_mtok_with_pue": wh_token * cost.MTOK * pue,
        "wh_per_answer": energy.wh_per_answer(watts, prompt, answer, prefill * fl_eff, serving),
    }
    cost_json = _cost(a, inputs, hw, energy_json["wh_per_mtok"], pue, share, capacity)
    return {
        "model": model,
        "quant": quant,
        "hardware": hw,
        "memory": mem.to_json(),
        "fits": mem.fits,
        "fits_on": _fits_on(catalog, weights, kv_seq * conc, frac, per_dev),
        "throughput": {
            "decode_tokens_per_s": roofline,
            "decode_tokens_per_s_expected": roofline * bw_eff,
            "decode_tokens_per_s_at_concurrency": batched,
            "prefill_tokens_per_s": prefill,
            "prefill_tokens_per_s_expected": prefill * fl_eff,
            "serving_tokens_per_s": serving,
            "serving_source": "measured" if inputs.measured_tokens_per_s else "estimate",
            "input_share": share,
            "capacity_tokens_per_month": capacity,
        },
        "cost": cost_json,
        "energy": energy_json,
        "assumptions": a.items,
    }


def _api_price(a: Assumptions, i: PlanInputs, share: float) -> float | None:
    if i.api_price_per_mtok is not None:
        if i.api_input_price_per_mtok is not None or i.api_output_price_per_mtok is not None:
            raise PlanError("give --api-price-per-mtok or input/output prices, not both")
        return a.add(
            "api_price_per_mtok", i.api_price_per_mtok, "USD/Mtok", "given (--api-price-per-mtok)"
        )
    if i.api_input_price_per_mtok is None and i.api_output_price_per_mtok is None:
        return None
    if i.api_input_price_per_mtok is None or i.api_output_price_per_mtok is None:
        raise PlanError("give both --api-input-price-per-mtok and --api-output-price-per-mtok")
    inp = a.add("api_input_price_per_mtok", i.api_input_price_per_mtok, "USD/Mtok", "given")
    out = a.add("api_output_price_per_mtok", i.api_output_price_per_mtok, "USD/Mtok", "given")
    return cost.api_per_mtok(inp, out, share)


def _cost(
    a: Assumptions,
    i: PlanInputs,
    hw: dict[str, Any],
    wh_per_mtok: float,
    pue: float,
    share: float,
    capacity: float,
) -> dict[str, Any]:
    g = partial(a.given_or_default, i)
    months, ops = int(g("amortisation_months")), g("ops_usd_per_month")
    if i.rent:
        hardware = cost.rented_per_month(hw["rental_usd_per_hour"], i.count)
    else:
        hardware = cost.owned_per_month(hw["purchase_usd"], i.count, months)
    energy_mtok = cost.energy_per_mtok(wh_per_mtok, pue, g("electricity_usd_per_kwh"))
    volume = g("tokens_per_month")
    fixed = hardware + ops
    # a volume beyond one deployment's capacity needs more deployments, each at full cost
    replicas = max(1, math.ceil(volume / capacity)) if capacity > 0 else 1
    api = _api_price(a, i, share)
    out: dict[str, Any] = {
        "pricing": "rented" if i.rent else "owned",
        "tokens_per_month": volume,
        "hardware_per_month": hardware,
        "ops_per_month": ops,
        "fixed_per_month": fixed,
        "energy_per_mtok": energy_mtok,
        "self_host_per_mtok": cost.self_host_per_mtok(fixed * replicas, energy_mtok, volume),
        "self_host_per_month": fixed * replicas + energy_mtok * volume / cost.MTOK,
        "api_per_mtok": api,
        "api_per_month": None if api is None else api * volume / cost.MTOK,
        "breakeven_tokens_per_month": None,
        "volume_within_capacity": volume <= capacity,
        "replicas_needed": replicas,
        "price_decline": None,
    }
    if api is not None:
        out["breakeven_tokens_per_month"] = cost.breakeven(fixed, energy_mtok, api)
        out["breakeven_within_capacity"] = (
            out["breakeven_tokens_per_month"] is not None
            and out["breakeven_tokens_per_month"] <= capacity
        )
        if out["breakeven_tokens_per_month"] is None:
            out["breakeven_reason"] = "the API costs no more per Mtok than the energy alone"
        elif not out["breakeven_within_capacity"]:
            full = cost.self_host_per_mtok(fixed, energy_mtok, capacity)
            out["breakeven_reason"] = (
                f"beyond one deployment's capacity: at full capacity it costs {full:.3f} USD/Mtok, "
                "more than the API, and more deployments cost the same per token, so self-hosting "
                "does not break even at any volume"
            )
        scenario = cost.decline_scenario(
            api_usd=api,
            decline_per_year=g("price_decline_per_year"),
            months=months,
            fixed_per_month=fixed,
            running_per_month=fixed if i.rent else ops,
            energy_usd_per_mtok=energy_mtok,
            volume=volume,
        )
        out["price_decline"] = scenario.to_json()
    return out
