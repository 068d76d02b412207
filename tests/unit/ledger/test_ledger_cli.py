"""``freehold ledger`` and ``freehold ledger export`` through click's CliRunner."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from freehold.cli.ledger import ledger
from freehold.ledger import FIELDS, LedgerRow
from freehold.ledger.postgres import PostgresStore
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]


def write_config(tmp_path: Path, ledger_url: str) -> Path:
    config = tmp_path / "freehold.yaml"
    config.write_text(f"ledger: '{ledger_url}'\n", encoding="utf-8")
    return config


def rows(make_row: MakeRow) -> list[LedgerRow]:
    return [
        make_row(0, served_model="big", latency_ms=100.0, ttft_ms=10.0, prompt_tokens=1000,
                 completion_tokens=500, cost_usd=Decimal("0.012500000")),
        make_row(1, served_model="big", latency_ms=300.0, ttft_ms=30.0, prompt_tokens=2000,
                 completion_tokens=0, cost_usd=Decimal("0.000000001"), status=502,
                 error_type="upstream_error", usage_estimated=True, stream=True),
        make_row(2, served_model=None, latency_ms=2.0, ttft_ms=None, prompt_tokens=0,
                 completion_tokens=0, cost_usd=Decimal(0), status=401, key_id=None,
                 error_type="authentication_error"),
    ]  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, make_row: MakeRow) -> Path:
    with SqliteStore(tmp_path / "ledger.db") as store:
        store.migrate()
        store.write(rows(make_row))
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")


def test_summary_table(config: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(ledger, ["--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"ledger {tmp_path / 'ledger.db'}: 3 requests, 2 errors, 1 with estimated usage"
    )
    assert lines[1] == ("from 2025-01-31T12:00:00.123456+00:00 to 2025-01-31T12:00:02.123456+00:00")
    table = lines[3:9]
    assert table[0].split() == ["served", "model", "requests", "errors", "prompt",
                                "completion", "tokens", "spend", "usd", "p50", "ms", "p95",
                                "ms"]  # fmt: skip
    assert table[2].split() == ["big", "2", "1", "3,000", "500", "3,500", "0.012500001",
                                "100.0", "300.0"]  # fmt: skip
    assert table[3].split() == ["-", "1", "1", "0", "0", "0", "0.000000000", "2.0", "2.0"]
    assert table[4].split() == ["TOTAL", "3", "2", "3,000", "500", "3,500", "0.012500001",
                                "100.0", "300.0"]  # fmt: skip
    assert lines[-1] == "time to first token: p50 10.0 ms, p95 30.0 ms"


def test_summary_json(config: Path) -> None:
    result = CliRunner().invoke(ledger, ["--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["requests"] == 3
    assert data["errors"] == 2
    assert (data["prompt_tokens"], data["completion_tokens"], data["total_tokens"]) == (
        3000,
        500,
        3500,
    )
    assert data["spend_usd"] == "0.012500001"
    assert (data["latency_p50_ms"], data["latency_p95_ms"]) == (100.0, 300.0)
    assert (data["ttft_p50_ms"], data["ttft_p95_ms"]) == (10.0, 30.0)
    assert data["models"]["big"]["spend_usd"] == "0.012500001"
    assert data["models"]["-"]["requests"] == 1
    assert data["since"] is None


def test_summary_since(config: Path) -> None:
    args = ["--config", str(config), "--json", "--since", "2025-01-31T13:00:01+01:00"]
    data = orjson.loads(CliRunner().invoke(ledger, args).stdout)
    assert data["requests"] == 2  # 12:00:01Z is after 12:00:00.123456Z; row 0 is not
    assert data["since"] == "2025-01-31T12:00:01+00:00"


def test_export_jsonl_exact_rows(config: Path, make_row: MakeRow) -> None:
    result = CliRunner().invoke(ledger, ["export", "--config", str(config), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    parsed = [orjson.loads(line) for line in lines]
    assert [list(obj) for obj in parsed] == [list(FIELDS)] * 3
    assert parsed == [row.to_json() for row in rows(make_row)]
    assert parsed[1] == {
        "id": "req-00001",
        "ts": "2025-01-31T12:00:01.123456+00:00",
        "key_id": "key-a",
        "requested_model": "small",
        "served_model": "big",
        "prompt_tokens": 2000,
        "completion_tokens": 0,
        "cost_usd": "0.000000001",
        "latency_ms": 300.0,
        "ttft_ms": 30.0,
        "status": 502,
        "error_type": "upstream_error",
        "route": "/v1/chat/completions",
        "usage_estimated": True,
        "stream": True,
        "cost_basis": "tokens",
        "validation": "",
        "verdicts": [],
        "attempts": 1,
        "decision": {},
        "attempt_log": [],
        "perimeter": {},
    }
    assert parsed[2]["served_model"] is None
    assert parsed[2]["ttft_ms"] is None


def test_export_takes_the_groups_options_and_since(config: Path) -> None:
    args = ["--config", str(config), "--since", "2025-01-31T12:00:01.5", "export"]
    result = CliRunner().invoke(ledger, args)
    assert result.exit_code == 0, result.output
    assert [orjson.loads(line)["id"] for line in result.stdout.splitlines()] == ["req-00002"]


def test_missing_ledger_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "ledger.db"
    config = write_config(tmp_path, f"sqlite:///{path}")
    runner = CliRunner()
    result = runner.invoke(ledger, ["--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert f"no ledger at {path} yet" in result.stderr
    data = orjson.loads(result.stdout)
    assert (data["requests"], data["errors"], data["spend_usd"]) == (0, 0, "0.000000000")
    table = runner.invoke(ledger, ["--config", str(config)])
    assert table.exit_code == 0
    assert "0 requests, 0 errors" in table.stdout
    export = runner.invoke(ledger, ["export", "--config", str(config)])
    assert (export.exit_code, export.stdout) == (0, "")
    assert not path.parent.exists()


def test_bad_since_is_a_usage_error(config: Path) -> None:
    result = CliRunner().invoke(ledger, ["--config", str(config), "--since", "yesterday"])
    assert result.exit_code == 2
    assert "not an ISO-8601 date or time" in result.output


def test_unreachable_postgres_is_a_clear_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql://postgres:hunter2@127.0.0.1:1/test")
    result = CliRunner().invoke(ledger, ["--config", str(config)])
    assert result.exit_code == 1
    assert "cannot read the ledger postgresql://postgres:***@127.0.0.1:1/test" in result.output
    assert "hunter2" not in result.output


@pytest.mark.postgres
def test_summary_and_export_from_postgres(tmp_path: Path, pg_url: str, make_row: MakeRow) -> None:
    with PostgresStore(pg_url) as store:
        store.migrate()
        store.write(rows(make_row))
    config = write_config(tmp_path, pg_url)
    data = orjson.loads(CliRunner().invoke(ledger, ["--config", str(config), "--json"]).stdout)
    assert (data["requests"], data["spend_usd"]) == (3, "0.012500001")
    export = CliRunner().invoke(ledger, ["export", "--config", str(config)])
    assert [orjson.loads(line) for line in export.stdout.splitlines()] == [
        row.to_json() for row in rows(make_row)
    ]
