"""``freehold report``: exact figures over a hand-built ledger, the JSON shape, exit codes."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from freehold.cli.main import cli
from freehold.config.schema import ModelSettings
from freehold.economics.report import (
    NO_VALIDATED,
    ReportRow,
    UtilityParams,
    build_report,
    route_name,
)
from freehold.ledger import LedgerRow, open_store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CASCADE = "cascade; policy=cascade"
RULES = "rules; policy=rules"

# small: local, 0.1 / 0.2 USD per Mtok; mid: remote 1 / 2; big: remote 3 / 15 (the dearest)
SMALL = {"name": "small", "backend": "llamacpp", "path": "small.gguf", "locality": "local",
         "price": {"input_per_mtok": "0.1", "output_per_mtok": "0.2"}}  # fmt: skip
MID = {"name": "mid", "backend": "openai", "base_url": "http://127.0.0.1:9/v1",
       "price": {"input_per_mtok": "1", "output_per_mtok": "2"}}  # fmt: skip
BIG = {"name": "big", "backend": "openai", "base_url": "http://127.0.0.1:9/v1",
       "price": {"input_per_mtok": "3", "output_per_mtok": "15"}}  # fmt: skip
MODELS = tuple(ModelSettings.model_validate(m) for m in (SMALL, MID, BIG))


def attempt(model: str, prompt: int, completion: int, cost: str, validation: str) -> dict[str, Any]:
    return {"model": model, "prompt_tokens": prompt, "completion_tokens": completion,
            "cost_usd": cost, "calls": 1, "validation": validation, "error": None}  # fmt: skip


def row(i: int, **values: Any) -> LedgerRow:
    base: dict[str, Any] = {
        "id": f"req-{i}", "ts": T0 + timedelta(seconds=i), "key_id": "key-a",
        "requested_model": None, "served_model": None, "prompt_tokens": 0,
        "completion_tokens": 0, "cost_usd": Decimal(0), "latency_ms": 1.0, "ttft_ms": None,
        "status": 200, "error_type": None, "route": "", "usage_estimated": False,
        "stream": False,
    }  # fmt: skip
    base.update(values)
    base["cost_usd"] = Decimal(base["cost_usd"])
    return LedgerRow(**base)


def known_rows() -> list[LedgerRow]:
    """Seven requests; the costs are the configured prices × tokens."""
    return [
        # cascade answered by small at once, validated
        row(0, served_model="small", route=CASCADE, prompt_tokens=100, completion_tokens=50,
            cost_usd="0.000020", ttft_ms=200.0, validation="pass",
            attempt_log=(attempt("small", 100, 50, "0.000020000", "pass"),)),
        # cascade escalated small → big, validated: 0.000018 + 0.0012
        row(1, served_model="big", route=CASCADE, prompt_tokens=200, completion_tokens=100,
            cost_usd="0.001218", ttft_ms=1000.0, validation="pass",
            attempt_log=(attempt("small", 100, 40, "0.000018000", "fail"),
                         attempt("big", 100, 60, "0.001200000", "pass"))),
        # cascade escalated, both failed validation (annotate): 0.000012 + 0.00084
        row(2, served_model="big", route=CASCADE, prompt_tokens=160, completion_tokens=60,
            cost_usd="0.000852", ttft_ms=600.0, validation="fail",
            attempt_log=(attempt("small", 80, 20, "0.000012000", "fail"),
                         attempt("big", 80, 40, "0.000840000", "fail"))),
        # a plain model, no validators
        row(3, served_model="mid", prompt_tokens=1000, completion_tokens=500,
            cost_usd="0.002", ttft_ms=400.0),
        # a stream that failed upstream after some tokens: spend, not an answer
        row(4, served_model="mid", prompt_tokens=50, completion_tokens=10, cost_usd="0.00007",
            ttft_ms=300.0, status=502, error_type="upstream_error"),
        # a client error: counted, free, not an answer
        row(5, status=400, error_type="invalid_request"),
        # rules route to small, validated
        row(6, served_model="small", route=RULES, prompt_tokens=40, completion_tokens=10,
            cost_usd="0.000006", ttft_ms=100.0, validation="pass",
            attempt_log=(attempt("small", 40, 10, "0.000006000", "pass"),)),
    ]  # fmt: skip


def write_ledger(tmp_path: Path, rows: list[LedgerRow], models: list[dict[str, Any]]) -> Path:
    path = tmp_path / "ledger.db"
    with closing(open_store(f"sqlite:///{path}")) as store:
        store.migrate()
        store.write(rows)
    config = tmp_path / "freehold.yaml"
    text = orjson.dumps({"ledger": f"sqlite:///{path}", "models": models}).decode()
    config.write_text(text, encoding="utf-8")  # JSON is YAML
    return config


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["report", "--config", str(config), *args])


# --- the pure report ----------------------------------------------------------------------


def test_a_ledger_row_is_a_report_row() -> None:
    rows: list[ReportRow] = known_rows()  # mypy checks the protocol structurally
    assert len(rows) == 7


def test_totals_and_spend_by_model_and_route() -> None:
    report = build_report(known_rows(), MODELS)
    assert (report.requests, report.answers, report.client_errors, report.server_errors) == (
        7, 5, 1, 1,
    )  # fmt: skip
    assert (report.prompt_tokens, report.completion_tokens) == (1550, 730)
    assert report.spend == Decimal("0.004166")
    by_model = {s.name: (s.requests, s.prompt_tokens, s.completion_tokens, s.spend)
                for s in report.by_model}  # fmt: skip
    assert by_model == {
        "big": (2, 360, 160, Decimal("0.00207")),
        "mid": (2, 1050, 510, Decimal("0.00207")),
        "small": (2, 140, 60, Decimal("0.000026")),
        "-": (1, 0, 0, Decimal(0)),
    }
    assert [s.name for s in report.by_model] == ["big", "mid", "small", "-"]  # spend, then name
    by_route = {s.name: (s.requests, s.prompt_tokens, s.completion_tokens, s.spend)
                for s in report.by_route}  # fmt: skip
    assert by_route == {
        "cascade": (3, 460, 210, Decimal("0.00209")),
        "-": (3, 1050, 510, Decimal("0.00207")),
        "rules": (1, 40, 10, Decimal("0.000006")),
    }


def test_local_share_escalation_and_validated_rates() -> None:
    report = build_report(known_rows(), MODELS)
    assert (report.local.count, report.local.of) == (2, 5)  # small answered rows 0 and 6
    assert (report.escalation.count, report.escalation.of) == (2, 4)  # rows 1, 2 of 0, 1, 2, 6
    assert (report.validated.count, report.validated.of) == (3, 4)
    assert report.local.rate == 0.4 and report.escalation.rate == 0.5
    assert report.correct == 3


def test_cost_per_correct_answer_now_and_counterfactuals() -> None:
    now, strong, local = build_report(known_rows(), MODELS).scenarios
    assert (now.name, now.model, now.reason) == ("now", None, None)
    assert now.spend == Decimal("0.004166")
    assert now.per_answer == Decimal("0.000833200")  # ÷ 5 answers
    assert now.per_correct_answer == Decimal("0.001388667")  # ÷ 3, half-even to 1e-9
    # big at 3 / 15 per Mtok over each answer's last attempt: 100/50, 100/60, 80/40, 1000/500,
    # 40/10 → 0.00105 + 0.0012 + 0.00084 + 0.0105 + 0.00027
    assert (strong.name, strong.model, strong.reason) == ("all_strongest", "big", None)
    assert strong.spend == Decimal("0.01386")
    assert strong.per_answer == Decimal("0.002772")
    assert strong.per_correct_answer == Decimal("0.00462")
    # small at 0.1 / 0.2 → 0.00002 + 0.000022 + 0.000016 + 0.0002 + 0.000006
    assert (local.name, local.model) == ("all_local", "small")
    assert local.spend == Decimal("0.000264")
    assert local.per_answer == Decimal("0.0000528")
    assert local.per_correct_answer == Decimal("0.000088")


def test_utility_per_route_with_default_and_given_r_and_k() -> None:
    report = build_report(
        known_rows(), MODELS, {"cascade": UtilityParams(value=3.0, latency_exponent=2.0)}
    )
    u = {x.route: x for x in report.utility}
    assert list(u) == ["-", "cascade", "rules"]
    # cascade: A = 2/3; TTFTs 200, 600, 1000 → p50 600 ms; U = 2/3 · 3 / 0.6² = 5.555…
    assert (u["cascade"].accuracy.count, u["cascade"].accuracy.of) == (2, 3)
    assert u["cascade"].ttft_p50_ms == 600.0
    assert u["cascade"].utility == pytest.approx(2 / 0.36)
    # rules, defaults R = 1, k = 1: A = 1, p50 100 ms → U = 1 / 0.1 = 10
    assert u["rules"].utility == pytest.approx(10.0)
    assert (u["rules"].params.value, u["rules"].params.latency_exponent) == (1.0, 1.0)
    # plain requests: no validators, so no accuracy is invented; the 502's TTFT is left out
    assert (u["-"].utility, u["-"].reason, u["-"].ttft_p50_ms) == (None, NO_VALIDATED, 400.0)


def test_no_remote_or_no_local_model_leaves_that_counterfactual_null() -> None:
    _, strong, local = build_report(known_rows(), MODELS[:1]).scenarios
    assert (strong.model, strong.spend, strong.per_correct_answer) == (None, None, None)
    assert strong.reason == "no remote model configured"
    assert local.spend == Decimal("0.000264")
    _, strong, local = build_report(known_rows(), MODELS[1:]).scenarios
    assert strong.model == "big" and local.model is None
    assert local.reason == "no local model configured"


def test_no_validators_means_no_cost_per_correct_answer() -> None:
    rows = [r for r in known_rows() if not r.validation]
    now, strong, _ = build_report(rows, MODELS).scenarios
    assert now.per_answer == Decimal("0.002070000")  # (0.002 + 0.00007 + 0) ÷ 1 answer
    assert (now.per_correct_answer, now.reason) == (None, NO_VALIDATED)
    assert (strong.per_correct_answer, strong.reason) == (None, NO_VALIDATED)
    assert strong.spend == Decimal("0.0105")


def test_a_zero_p50_ttft_with_k_above_zero_has_no_utility() -> None:
    rows = [row(0, served_model="small", route=RULES, ttft_ms=0.0, validation="pass")]
    (u,) = build_report(rows, MODELS).utility
    assert (u.utility, u.reason) == (None, "p50 time to first token is 0")
    (u,) = build_report(rows, MODELS, default=UtilityParams(2.0, 0.0)).utility
    assert u.utility == 2.0


def test_route_names() -> None:
    assert (route_name(CASCADE), route_name(""), route_name("x")) == ("cascade", "-", "x")


# --- the command --------------------------------------------------------------------------


def test_json_shape_and_figures(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, known_rows(), [SMALL, MID, BIG])
    result = run(config, "--json", "--value", "cascade=3", "--latency-exponent", "cascade=2")
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert list(data) == [
        "ledger", "since", "requests", "answers", "client_errors", "server_errors",
        "prompt_tokens", "completion_tokens", "total_tokens", "spend_usd", "spend_by_model",
        "spend_by_route", "local_share", "escalation_rate", "validated_rate",
        "correct_answers", "cost_per_correct_answer", "utility", "notes",
    ]  # fmt: skip
    assert data["ledger"] == str(tmp_path / "ledger.db") and data["since"] is None
    assert (data["requests"], data["answers"], data["total_tokens"]) == (7, 5, 2280)
    assert data["spend_usd"] == "0.004166000"
    assert data["spend_by_model"]["big"] == {
        "requests": 2, "prompt_tokens": 360, "completion_tokens": 160, "spend_usd": "0.002070000",
    }  # fmt: skip
    assert data["spend_by_route"]["cascade"]["spend_usd"] == "0.002090000"
    assert data["local_share"] == {"count": 2, "of": 5, "rate": 0.4}
    assert data["escalation_rate"] == {"count": 2, "of": 4, "rate": 0.5}
    assert data["validated_rate"] == {"count": 3, "of": 4, "rate": 0.75}
    assert data["correct_answers"] == 3
    assert data["cost_per_correct_answer"] == {
        "now": {"model": None, "spend_usd": "0.004166000", "cost_per_answer_usd": "0.000833200",
                "cost_per_correct_answer_usd": "0.001388667", "reason": None},
        "all_strongest": {"model": "big", "spend_usd": "0.013860000",
                          "cost_per_answer_usd": "0.002772000",
                          "cost_per_correct_answer_usd": "0.004620000", "reason": None},
        "all_local": {"model": "small", "spend_usd": "0.000264000",
                      "cost_per_answer_usd": "0.000052800",
                      "cost_per_correct_answer_usd": "0.000088000", "reason": None},
    }  # fmt: skip
    cascade = data["utility"]["cascade"]
    assert cascade["validated_accuracy"] == {"count": 2, "of": 3, "rate": 2 / 3}
    assert (cascade["ttft_p50_ms"], cascade["value"], cascade["latency_exponent"]) == (600, 3, 2)
    assert cascade["utility"] == pytest.approx(2 / 0.36)
    assert data["utility"]["rules"]["utility"] == pytest.approx(10.0)
    assert data["utility"]["-"] == {
        "validated_accuracy": {"count": 0, "of": 0, "rate": None}, "ttft_p50_ms": 400.0,
        "value": 1.0, "latency_exponent": 1.0, "utility": None, "reason": NO_VALIDATED,
    }  # fmt: skip
    assert "all_local is the highest-priced local model, small, at its prices" in data["notes"]


def test_a_bare_value_sets_every_routes_default(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, known_rows(), [SMALL, MID, BIG])
    data = orjson.loads(run(config, "--json", "--value", "2", "--value", "cascade=3").stdout)
    assert data["utility"]["rules"]["utility"] == pytest.approx(20.0)
    assert data["utility"]["cascade"]["utility"] == pytest.approx(2 / 3 * 3 / 0.6)


def test_since_filters_rows(tmp_path: Path) -> None:
    old = row(-86_400, served_model="mid", prompt_tokens=10, cost_usd="0.5", ttft_ms=5.0)
    config = write_ledger(tmp_path, [old, *known_rows()], [SMALL, MID, BIG])
    data = orjson.loads(run(config, "--json").stdout)
    assert (data["requests"], data["spend_usd"]) == (8, "0.504166000")
    data = orjson.loads(run(config, "--json", "--since", "2025-03-01").stdout)
    assert data["since"] == "2025-03-01T00:00:00+00:00"
    assert (data["requests"], data["spend_usd"]) == (7, "0.004166000")


def test_table(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, known_rows(), [SMALL, MID, BIG])
    result = run(config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(
        ": 7 requests, 5 answers, 1 client errors, 1 server errors, 2,280 tokens, "
        "spend 0.004166000 USD"
    )
    assert "answered locally:  40.0% (2 of 5)" in lines
    assert "escalated:         50.0% (2 of 4) of routed requests" in lines
    assert "validated answers: 75.0% (3 of 4) of judged requests" in lines
    assert any(line.split()[:2] == ["all_strongest", "big"] for line in lines)


def test_empty_ledger(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, [], [SMALL, BIG])
    result = run(config)
    assert result.exit_code == 0, result.output
    assert ": 0 requests, 0 answers" in result.stdout.splitlines()[0]
    data = orjson.loads(run(config, "--json").stdout)
    assert (data["requests"], data["spend_usd"], data["utility"]) == (0, "0.000000000", {})
    assert data["local_share"] == {"count": 0, "of": 0, "rate": None}
    now = data["cost_per_correct_answer"]["now"]
    assert (now["cost_per_answer_usd"], now["cost_per_correct_answer_usd"]) == (None, None)
    assert now["reason"] == NO_VALIDATED


def test_config_without_remote_model(tmp_path: Path) -> None:
    data = orjson.loads(run(write_ledger(tmp_path, known_rows(), [SMALL]), "--json").stdout)
    assert data["cost_per_correct_answer"]["all_strongest"] == {
        "model": None, "spend_usd": None, "cost_per_answer_usd": None,
        "cost_per_correct_answer_usd": None, "reason": "no remote model configured",
    }  # fmt: skip
    assert data["local_share"]["count"] == 2


def test_plot_writes_a_png(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, known_rows(), [SMALL, MID, BIG])
    plot = tmp_path / "report.png"
    result = run(config, "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_plot_to_an_unwritable_place_exits_2(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, known_rows(), [SMALL])
    result = run(config, "--plot", str(tmp_path / "missing" / "report.png"))
    assert result.exit_code == 2
    assert "cannot write the plot" in result.stderr


def test_missing_ledger_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "ledger.db"
    config = tmp_path / "freehold.yaml"
    config.write_text(f"ledger: 'sqlite:///{path}'\n", encoding="utf-8")
    result = run(config, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: no ledger at {path} yet: nothing to report\n"
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "not an ISO-8601 date or time"),
        (["--value", "much"], "is not [ROUTE=]NUMBER"),
        (["--value", "cascade=-1"], "is not [ROUTE=]NUMBER"),
        (["--latency-exponent", "nan"], "is not [ROUTE=]NUMBER"),
        (["--frobnicate"], "No such option"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(write_ledger(tmp_path, [], []), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "freehold.yaml"
    config.write_text("ledgr: nowhere\n", encoding="utf-8")
    result = run(config)
    assert result.exit_code == 2


def test_registered_and_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["report", "--help"], terminal_width=100)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "U = A·R / L^k" in text and "--latency-exponent" in text
    assert "Exit 0 with a report, 2 when there is no ledger" in text


def test_an_energy_priced_local_model_is_a_stated_lower_bound() -> None:
    energy = ModelSettings.model_validate(
        {**SMALL, "price": {}, "energy": {"watts": "300", "usd_per_kwh": "0.2"}}
    )
    report = build_report(known_rows(), (energy, MODELS[2]))
    local = report.scenarios[2]
    assert (local.model, local.spend, local.per_correct_answer) == ("small", Decimal(0), Decimal(0))
    assert any("priced by energy" in note and "lower bound" in note for note in report.notes)
