"""``freehold plan``: what serving a model on given hardware needs and costs, against an API.

Exit codes: 0 with a plan (also when the model does not fit: ``fits`` says so), 2 on bad
input (an unknown name, a missing or out-of-range number, an unreadable ``--catalog``, a
plot that cannot be written), always as one line on stderr.
"""

from __future__ import annotations

import importlib
import io
import re
from dataclasses import fields
from typing import Any

import click

from freehold.cli.common import echo_json, echo_table, json_option
from freehold.economics.catalog import Catalog, CatalogError, builtin_catalog, load_user_catalog
from freehold.economics.inputs import PlanError, PlanInputs
from freehold.economics.planner import plan

SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


class PlanFailed(click.ClickException):
    """``Error: MESSAGE`` on stderr, exit 2."""

    exit_code = 2


class OneLineCommand(click.Command):
    """Option errors as one line (``Error: …``, exit 2) rather than usage text."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise PlanFailed(exc.format_message()) from None


def parse_amount(value: str | None) -> float | None:
    """A number with an optional K/M/B/T suffix: ``70B``, ``10M``, ``7e9``."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([kKmMbBgGtT]?)\s*", value)
    try:
        if match is None:
            raise ValueError(value)
        return float(match[1]) * SUFFIX.get(match[2].lower(), 1.0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number (e.g. 70e9 or 70B)") from None


AMOUNT = "amount"
#: option name → (type, help); each maps onto the PlanInputs field of the same name.
OPTIONS: list[tuple[str, Any, str]] = [
    ("model", str, "Model id from the catalogue (see --list)."),
    ("params", AMOUNT, "Parameter count, instead of or over --model (e.g. 70B)."),
    ("active_params", AMOUNT, "Parameters read per token (MoE)."),
    ("layers", int, "Transformer layers (with --kv-heads, --head-dim)."),
    ("kv_heads", int, "Key/value heads per layer."),
    ("head_dim", int, "Values per head."),
    ("bits", float, "Bits per weight, instead of --quant."),
    ("quant", str, "Weight format id: fp16, fp8, q8_0, q4_k_m, … (default fp16)."),
    ("kv_bits", float, "Bits per KV-cache value [16]."),
    ("hardware", str, "Hardware id from the catalogue, or this-machine (probed)."),
    ("count", click.IntRange(min=1), "Devices, one tensor-parallel group [1]."),
    ("context", AMOUNT, "Tokens per sequence held in the KV cache [4096]."),
    ("concurrency", click.IntRange(min=1), "Sequences served at once [1]."),
    ("tokens_per_month", AMOUNT, "Input + output tokens per month [100M]."),
    ("api_price_per_mtok", float, "API price, USD per million tokens (blended)."),
    ("api_input_price_per_mtok", float, "API input price, USD/Mtok (with output price)."),
    ("api_output_price_per_mtok", float, "API output price, USD/Mtok."),
    ("price_decline_per_year", float, "API price fall per year, a fraction [0.3]."),
    ("measured_tokens_per_s", float, "Measured decode tokens/s: overrides the estimate."),
    ("purchase_usd", float, "Purchase price per device, USD."),
    ("rental_usd_per_hour", float, "Rental price per device-hour, USD (with --rent)."),
    ("watts", float, "Power per device, W."),
    ("amortisation_months", click.IntRange(min=1), "Months to amortise the purchase [36]."),
    ("electricity_usd_per_kwh", float, "Electricity price [0.15]."),
    ("pue", float, "Power usage effectiveness [1.56]."),
    ("ops_usd_per_month", float, "Operations staff cost per month, USD [1250]."),
    ("utilisation", float, "Share of the month serving at full rate [0.5]."),
    ("bandwidth_efficiency", float, "Achieved / peak bandwidth [0.7]."),
    ("compute_efficiency", float, "Achieved / peak FLOP/s in prefill [0.4]."),
    ("overhead_fraction", float, "Runtime overhead as a share of weights [0.1]."),
    ("overhead_gb_per_device", float, "Runtime overhead per device, GB [1]."),
    ("prompt_tokens", AMOUNT, "Prompt tokens of one answer [1500]."),
    ("answer_tokens", AMOUNT, "Generated tokens of one answer [500]."),
]
assert {name for name, _, _ in OPTIONS} | {"rent"} == {f.name for f in fields(PlanInputs)}


def _n(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.{digits}f}"


def _rows(p: dict[str, Any]) -> list[list[str]]:
    m, t, c, e = p["memory"], p["throughput"], p["cost"], p["energy"]
    available = (
        f"{_n(m['available_gb'], 1)} GB available: {'fits' if p['fits'] else 'does NOT fit'}"
    )
    return [
        ["weights", _n(m["weights_gb"], 1), "GB", ""],
        ["KV cache", _n(m["kv_cache_gb"], 1), "GB", ""],
        ["overhead", _n(m["overhead_gb"], 1), "GB", ""],
        ["memory total", _n(m["total_gb"], 1), "GB", available],
        ["decode, batch 1", _n(t["decode_tokens_per_s"], 1), "tokens/s", "roofline"],
        [
            "decode, concurrency",
            _n(t["decode_tokens_per_s_at_concurrency"], 1),
            "tokens/s",
            "expected (× efficiency)",
        ],
        ["prefill", _n(t["prefill_tokens_per_s_expected"], 0), "tokens/s", "expected"],
        ["serving rate", _n(t["serving_tokens_per_s"], 1), "tokens/s", t["serving_source"]],
        ["capacity", _n(t["capacity_tokens_per_month"]), "tokens/month", ""],
        ["volume", _n(c["tokens_per_month"]), "tokens/month", ""],
        ["fixed cost", _n(c["fixed_per_month"]), "USD/month", f"{c['pricing']} + operations"],
        ["self-host", _n(c["self_host_per_mtok"], 3), "USD/Mtok", "at this volume"],
        ["API", _n(c["api_per_mtok"], 3), "USD/Mtok", ""],
        [
            "breakeven",
            _n(c["breakeven_tokens_per_month"]),
            "tokens/month",
            c.get("breakeven_reason", ""),
        ],
        [
            "energy",
            _n(e["wh_per_mtok"], 0),
            "Wh/Mtok",
            f"{_n(e['wh_per_mtok_with_pue'], 0)} with PUE",
        ],
        ["energy per answer", _n(e["wh_per_answer"], 3), "Wh", ""],
    ]


def _value(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def print_plan(p: dict[str, Any]) -> None:
    """The plan for people: a headline, the figures, the price decline, the assumptions."""
    model, hw, quant = p["model"], p["hardware"], p["quant"]
    click.echo(
        f"plan: {model['name'] or _n(model['params'], 0) + ' parameters'} at "
        f"{quant['bits_per_weight']:g} bits/weight on {hw['count']} × {hw['name']}"
    )
    click.echo("")
    echo_table(["figure", "value", "unit", "note"], _rows(p))
    decline = p["cost"]["price_decline"]
    if decline is not None:
        click.echo("")
        click.echo("API price decline: month, USD/Mtok, breakeven tokens/month")
        for point in decline["points"]:
            click.echo(
                f"  {point['month']:>3}  {_n(point['api_per_mtok'], 3):>10}  "
                f"{_n(point['breakeven_tokens_per_month']):>18}"
            )
        click.echo(
            f"API below full self-host cost from month {decline['api_cheaper_from_month']}, "
            f"below running cost from month {decline['api_cheaper_than_running_from_month']}"
        )
    click.echo("")
    rows = [[a["name"], _value(a["value"]), a["unit"], a["source"]] for a in p["assumptions"]]
    echo_table(["assumption", "value", "unit", "source"], rows)


def write_plot(path: str, p: dict[str, Any]) -> None:
    """Cost per Mtok against volume, and breakeven over the months; PNG or HTML (SVG)."""
    try:
        figure_module: Any = importlib.import_module("matplotlib.figure")
    except ImportError:
        raise PlanFailed("--plot needs matplotlib: pip install matplotlib") from None
    c = p["cost"]
    fig = figure_module.Figure(figsize=(11, 4.5))
    cost_ax, decline_ax = fig.subplots(1, 2)
    volumes = [c["tokens_per_month"] * 10 ** (k / 10) for k in range(-20, 21)]
    cost_ax.loglog(
        volumes,
        [c["fixed_per_month"] / v * 1e6 + c["energy_per_mtok"] for v in volumes],
        label="self-host",
    )
    if c["api_per_mtok"] is not None:
        cost_ax.axhline(c["api_per_mtok"], color="tab:red", label="API")
    cost_ax.axvline(c["tokens_per_month"], color="grey", linestyle=":", label="planned volume")
    cost_ax.set(xlabel="tokens per month", ylabel="USD per million tokens", title="Cost per Mtok")
    cost_ax.legend()
    if c["price_decline"] is not None:
        points = [q for q in c["price_decline"]["points"] if q["breakeven_tokens_per_month"]]
        decline_ax.plot(
            [q["month"] for q in points],
            [q["breakeven_tokens_per_month"] for q in points],
            marker="o",
        )
    decline_ax.set(
        xlabel="month", ylabel="breakeven tokens per month", title="Breakeven as API prices fall"
    )
    fig.tight_layout()
    try:
        if path.lower().endswith(".png"):
            fig.savefig(path, dpi=120)
            return
        svg = io.StringIO()
        fig.savefig(svg, format="svg")
        with open(path, "w", encoding="utf-8") as out:
            body = svg.getvalue()
            out.write("<!doctype html><meta charset=utf-8><title>freehold plan</title>\n")
            out.write(body[body.index("<svg") :] + "\n")
    except OSError as exc:
        raise PlanFailed(f"cannot write the plot {path}: {exc}") from None


def load_catalog(path: str | None) -> Catalog:
    try:
        catalog = builtin_catalog()
        return catalog.merged(load_user_catalog(path)) if path else catalog
    except CatalogError as exc:
        raise PlanFailed(str(exc)) from None


def _amount(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    return parse_amount(value)


def _options(func: Any) -> Any:
    for name, kind, text in reversed(OPTIONS):
        flag = "--" + name.replace("_", "-")
        if kind == AMOUNT:
            func = click.option(flag, name, metavar="N", callback=_amount, help=text)(func)
        else:
            func = click.option(flag, name, type=kind, default=None, help=text)(func)
    return func


@click.command("plan", cls=OneLineCommand, short_help="Cost model: memory, speed, cost, energy.")
@_options
@click.option("--rent", is_flag=True, help="Rent the hardware by the hour instead of buying it.")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML with models/hardware/quant entries merged over the built-in ones.",
)
@click.option("--list", "list_ids", is_flag=True, help="List the catalogue ids and exit.")
@click.option(
    "--plot",
    "plot_path",
    default=None,
    metavar="FILE.png|FILE.html",
    help="Also write a chart of cost per Mtok and breakeven (needs matplotlib).",
)
@json_option
def plan_command(
    catalog_path: str | None, list_ids: bool, plot_path: str | None, as_json: bool, **values: Any
) -> None:
    """Plan serving a model: memory (weights + KV cache + overhead) and whether it fits,
    batch-1 decode roofline and prefill bound, self-host cost per million tokens against an
    API price with the breakeven volume and an API price-decline scenario, and energy per
    token. Every number used is listed with its source (GB = 1e9 bytes). Defaults in [ ]."""
    if plot_path is not None and not plot_path.lower().endswith((".png", ".html")):
        raise PlanFailed(f"--plot takes a .png or .html file, got {plot_path}")
    catalog = load_catalog(catalog_path)
    if list_ids:
        for kind in ("models", "hardware", "quant"):
            click.echo(f"{kind}: {', '.join(getattr(catalog, kind))}")
        return
    values["count"] = values["count"] or 1
    try:
        result = plan(PlanInputs(**values), catalog)
    except PlanError as exc:
        raise PlanFailed(str(exc)) from None
    if as_json:
        echo_json(result)
    else:
        print_plan(result)
    if plot_path is not None:
        write_plot(plot_path, result)
