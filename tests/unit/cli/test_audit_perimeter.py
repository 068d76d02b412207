"""``freehold audit`` says when no perimeter is configured instead of passing checks that
nothing ran: with no ``perimeter`` in the config it reports none as passed and exits 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from freehold.cli.audit import NOT_CONFIGURED
from freehold.cli.main import cli
from freehold.ledger import LedgerRow
from freehold.ledger.audit import CHECKS
from freehold.ledger.sqlite import SqliteStore

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CLOUD = {"model": "cloud", "locality": "remote", "jurisdiction": "us", "inside": False}


def row(i: int, perimeter: dict[str, Any] | None = None) -> LedgerRow:
    return LedgerRow(
        id=f"req-{i:05d}",
        ts=T0 + timedelta(seconds=i),
        key_id=None,
        requested_model="cloud",
        served_model="cloud",
        prompt_tokens=3,
        completion_tokens=4,
        cost_usd=Decimal("0.000001"),
        latency_ms=10.0,
        ttft_ms=10.0,
        status=200,
        error_type=None,
        route="/v1/chat/completions",
        usage_estimated=False,
        stream=False,
        perimeter=perimeter or {},
    )


def ledger_config(tmp_path: Path, rows: list[LedgerRow], perimeter: str = "") -> Path:
    path = tmp_path / "ledger.db"
    with SqliteStore(path) as store:
        store.migrate()
        store.write(rows)
    config = tmp_path / "freehold.yaml"
    config.write_text(f"ledger: 'sqlite:///{path}'\n{perimeter}", encoding="utf-8")
    return config


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["audit", "--config", str(config), *args])


def test_without_a_perimeter_no_check_reads_as_passed(tmp_path: Path) -> None:
    config = ledger_config(tmp_path, [row(i) for i in range(3)])
    result = run(config)
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": 3 requests, 0 with findings, 3 without a perimeter record")
    assert lines[-1] == f"{NOT_CONFIGURED} (no check run; add `perimeter:` to the config)"
    assert "PASS" not in result.stdout and "FAIL" not in result.stdout
    data = orjson.loads(run(config, "--json").stdout)
    assert data["perimeter"] == "not configured"
    assert data["checks"] == []
    assert data["requests"] == data["without_perimeter"] == 3


def test_without_a_perimeter_old_records_are_summarised_not_checked(tmp_path: Path) -> None:
    """Rows recorded while a perimeter was on still show where they went; their checks
    are not run (the requests since are not scanned), so none is passed or failed."""
    leak = {"findings": {"email": 1}, "categories": ["pii"], "label": "secret",
            "policy": "allow", "outcome": "sent", "egress": [CLOUD]}  # fmt: skip
    config = ledger_config(tmp_path, [row(0), row(1, leak)])
    result = run(config)
    assert result.exit_code == 2
    assert "OUTSIDE" in result.stdout
    assert "PASS" not in result.stdout and "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith(NOT_CONFIGURED)


def test_with_a_perimeter_the_checks_run_as_before(tmp_path: Path) -> None:
    config = ledger_config(tmp_path, [row(i) for i in range(3)], "perimeter: {}\n")
    result = run(config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [f"PASS  {name}" for name in CHECKS]
    assert NOT_CONFIGURED not in result.stdout
    data = orjson.loads(run(config, "--json").stdout)
    assert data["perimeter"] == "configured"
    assert [c["passed"] for c in data["checks"]] == [True, True, True]
