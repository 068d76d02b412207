"""``freehold report``: the economics of the gateway's traffic, from the ledger.

Exit codes: 0 with a report (an empty ledger gives zero counts), 2 when there is nothing to
report on: no ledger at the configured location, a ledger that cannot be read, a bad config
or option, a plot that cannot be written. Reading never creates a ledger.
"""

from __future__ import annotations

import importlib
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

import click

from freehold.cli.common import (
    CommandError,
    config_option,
    echo_json,
    echo_table,
    json_option,
    load_config,
    read_ledger_rows,
)
from freehold.cli.ledger import since_option
from freehold.core.money import format_usd
from freehold.economics.report import (
    DEFAULT_LATENCY_EXPONENT,
    DEFAULT_VALUE,
    Rate,
    Report,
    UtilityParams,
    build_report,
)
from freehold.ledger import describe


def _per_route(name: str, values: tuple[str, ...]) -> tuple[float | None, dict[str, float]]:
    """``[ROUTE=]NUMBER`` options: the bare number is the default, ``ROUTE=`` one route's."""
    default: float | None = None
    routes: dict[str, float] = {}
    for text in values:
        route, _, number = text.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise click.BadParameter(
                f"{text!r} is not [ROUTE=]NUMBER with a finite NUMBER >= 0", param_hint=name
            )
        if route:
            routes[route] = value
        else:
            default = value
    return default, routes


def _usd(amount: Decimal | None) -> str:
    return "-" if amount is None else format_usd(amount)


def _rate(rate: Rate) -> str:
    if rate.rate is None:
        return "- (0 of 0)"
    return f"{100 * rate.rate:.1f}% ({rate.count:,} of {rate.of:,})"


def print_report(where: str, report: Report, since: datetime | None) -> None:
    """The report as text: totals, spend tables, rates, cost per correct answer, utility."""
    period = f" since {since.isoformat()}" if since else ""
    click.echo(
        f"economics of ledger {where}{period}: {report.requests:,} requests, "
        f"{report.answers:,} answers, {report.client_errors:,} client errors, "
        f"{report.server_errors:,} server errors, "
        f"{report.prompt_tokens + report.completion_tokens:,} tokens, "
        f"spend {format_usd(report.spend)} USD"
    )
    for title, groups in (("model", report.by_model), ("route", report.by_route)):
        click.echo("")
        echo_table(
            [title, "requests", "prompt", "completion", "spend_usd"],
            [
                [
                    s.name,
                    f"{s.requests:,}",
                    f"{s.prompt_tokens:,}",
                    f"{s.completion_tokens:,}",
                    format_usd(s.spend),
                ]
                for s in groups
            ],
        )
    click.echo("")
    click.echo(f"answered locally:  {_rate(report.local)}")
    click.echo(f"escalated:         {_rate(report.escalation)} of routed requests")
    click.echo(f"validated answers: {_rate(report.validated)} of judged requests")
    click.echo("")
    echo_table(
        ["scenario", "model", "spend_usd", "per_answer", "per_correct_answer", "note"],
        [
            [
                s.name,
                s.model or "-",
                _usd(s.spend),
                _usd(s.per_answer),
                _usd(s.per_correct_answer),
                s.reason or "",
            ]
            for s in report.scenarios
        ],
    )
    click.echo("")
    echo_table(
        ["route", "accuracy", "ttft_p50_ms", "R", "k", "U", "note"],
        [
            [
                u.route,
                _rate(u.accuracy),
                "-" if u.ttft_p50_ms is None else f"{u.ttft_p50_ms:.1f}",
                f"{u.params.value:g}",
                f"{u.params.latency_exponent:g}",
                "-" if u.utility is None else f"{u.utility:.4g}",
                u.reason or "",
            ]
            for u in report.utility
        ],
    )
    click.echo("")
    for note in report.notes:
        click.echo(f"note: {note}")


def write_plot(path: str, report: Report) -> None:
    """A PNG: cost per correct answer now vs the counterfactuals, and U per route."""
    try:
        figure_module: Any = importlib.import_module("matplotlib.figure")
    except ImportError:
        raise CommandError(
            "--plot needs matplotlib: pip install matplotlib (the report above is complete)"
        ) from None
    fig = figure_module.Figure(figsize=(11, 4.5))
    cost_ax, utility_ax = fig.subplots(1, 2)
    costs = [s for s in report.scenarios if s.per_correct_answer is not None]
    cost_ax.bar([s.name for s in costs], [float(s.per_correct_answer or 0) for s in costs])
    cost_ax.set_title("cost per correct answer (at today's accuracy)")
    cost_ax.set_ylabel("USD")
    utilities = [u for u in report.utility if u.utility is not None]
    utility_ax.bar([u.route for u in utilities], [u.utility or 0.0 for u in utilities])
    utility_ax.set_title("utility U = A·R / L^k per route")
    for ax, shown in ((cost_ax, costs), (utility_ax, utilities)):
        if not shown:
            ax.text(0.5, 0.5, "no validated answers", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise CommandError(f"cannot write the plot {path}: {exc}") from None


@click.command("report", short_help="Cost, quality and utility of the traffic, from the ledger.")
@config_option
@json_option
@since_option
@click.option(
    "--plot",
    "plot_path",
    metavar="FILE.png",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a PNG of cost per correct answer and U per route (needs matplotlib).",
)
@click.option(
    "--value",
    "values",
    metavar="[ROUTE=]R",
    multiple=True,
    help=f"Value R of a correct answer in U (default {DEFAULT_VALUE:g}); ROUTE=R for one route.",
)
@click.option(
    "--latency-exponent",
    "exponents",
    metavar="[ROUTE=]K",
    multiple=True,
    help=f"Latency exponent k in U (default {DEFAULT_LATENCY_EXPONENT:g}); ROUTE=K for one route.",
)
def report_command(
    config_path: str | None,
    as_json: bool,
    since: datetime | None,
    plot_path: str | None,
    values: tuple[str, ...],
    exponents: tuple[str, ...],
) -> None:
    """Report the economics of the traffic in the ledger: requests, tokens, spend by served
    model and route, the share answered by local models, the escalation rate of routed
    requests, the validated-answer rate, cost per correct (validated) answer now and if every
    answer had gone to the highest-priced remote model or to a local model (at today's
    accuracy), and the utility U = A·R / L^k per route (A: validated accuracy, L: p50 time to
    first token in seconds).

    Spend counts every request; answers are requests with status < 400. Without validators
    there are no validated answers, and no accuracy is assumed. Exit 0 with a report, 2 when
    there is no ledger, it cannot be read, or the config, options or plot are wrong.
    """
    default_r, route_r = _per_route("--value", values)
    default_k, route_k = _per_route("--latency-exponent", exponents)
    default = UtilityParams(
        DEFAULT_VALUE if default_r is None else default_r,
        DEFAULT_LATENCY_EXPONENT if default_k is None else default_k,
    )
    params = {
        route: UtilityParams(
            route_r.get(route, default.value), route_k.get(route, default.latency_exponent)
        )
        for route in {*route_r, *route_k}
    }
    settings = load_config(config_path)
    rows = read_ledger_rows(settings.ledger, since, "report")
    report = build_report(rows, settings.models, params, default)
    if as_json:
        data: dict[str, Any] = {"ledger": describe(settings.ledger)}
        data["since"] = since.isoformat() if since else None
        data.update(report.to_json())
        echo_json(data)
    else:
        print_report(describe(settings.ledger), report, since)
    if plot_path is not None:
        write_plot(plot_path, report)
