"""``freehold audit``: the perimeter summary over ledger rows, its checks and exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from freehold.cli.audit import NOT_CONFIGURED
from freehold.cli.main import cli
from freehold.ledger import LedgerRow
from freehold.ledger.audit import (
    BLOCKED_REACHED_NONE,
    CHECKS,
    LOCAL_ONLY_STAYED,
    MAX_IDS,
    SECRET_STAYED,
    audit,
)
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]

CLOUD = {"model": "cloud-big", "locality": "remote", "jurisdiction": "us", "inside": False}
EU = {"model": "cloud-eu", "locality": "remote", "jurisdiction": "eu", "inside": True}
LOCAL = {"model": "local-small", "locality": "local", "jurisdiction": "on-prem", "inside": True}


def perimeter(
    findings: dict[str, int] | None = None,
    categories: list[str] | None = None,
    label: str | None = None,
    policy: str = "allow",
    redacted: int = 0,
    outcome: str = "sent",
    egress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "findings": findings or {},
        "categories": categories or [],
        "label": label,
        "policy": policy,
        "redacted": redacted,
        "outcome": outcome,
        "egress": egress if egress is not None else [],
    }


def clean_rows(make_row: MakeRow) -> list[LedgerRow]:
    """Seven rows that break no check: every figure below is counted from these."""
    return [
        # 0: no perimeter record
        make_row(0),
        # 1: nothing found, sent to the cloud
        make_row(1, perimeter=perimeter(egress=[CLOUD])),
        # 2: PII redacted, then sent to the cloud
        make_row(2, perimeter=perimeter({"email": 2, "phone": 1}, ["pii"], "confidential",
                                        "redact", 3, egress=[CLOUD])),
        # 3: a secret kept local
        make_row(3, perimeter=perimeter({"aws_access_key_id": 1, "email": 1}, ["pii", "secret"],
                                        "secret", "local_only", egress=[LOCAL])),
        # 4: local_only with no local model: nothing sent
        make_row(4, perimeter=perimeter({"iban": 1}, ["financial"], "secret", "local_only",
                                        outcome="no_local_candidate")),
        # 5: blocked
        make_row(5, perimeter=perimeter({"private_key": 1}, ["secret"], "secret", "block",
                                        outcome="blocked")),
        # 6: failed locally, then fell back to an allowed jurisdiction
        make_row(6, perimeter=perimeter({"email": 1}, ["pii"], "internal", "redact", 1,
                                        egress=[LOCAL, EU, LOCAL])),
    ]  # fmt: skip


def write_ledger(tmp_path: Path, rows: list[LedgerRow], perimeter: str = "perimeter: {}\n") -> Path:
    """A SQLite ledger holding ``rows``, and a config naming it (with a perimeter, unless
    ``perimeter`` is empty)."""
    path = tmp_path / "ledger.db"
    with SqliteStore(path) as store:
        store.migrate()
        store.write(rows)
    config = tmp_path / "freehold.yaml"
    config.write_text(f"ledger: 'sqlite:///{path}'\n{perimeter}", encoding="utf-8")
    return config


def run(config: Path, *args: str) -> Any:
    # through the group, as users call it: invoking the command alone would cache a help
    # option without the group's -h, and README's CLI reference would read it
    return CliRunner().invoke(cli, ["audit", "--config", str(config), *args])


# --- the pure summary ---------------------------------------------------------------------


def test_counts_over_known_rows(make_row: MakeRow) -> None:
    result = audit(clean_rows(make_row))
    assert (result.requests, result.without_perimeter, result.with_findings) == (7, 1, 5)
    assert {kind: (f.requests, f.values) for kind, f in result.findings.items()} == {
        "aws_access_key_id": (1, 1),
        "email": (3, 4),
        "iban": (1, 1),
        "phone": (1, 1),
        "private_key": (1, 1),
    }
    assert result.categories == {"financial": 1, "pii": 3, "secret": 2}
    assert result.labels == {"confidential": 1, "internal": 1, "none": 1, "secret": 3}
    assert result.policies == {"allow": 1, "block": 1, "local_only": 2, "redact": 2}
    assert result.outcomes == {"blocked": 1, "no_local_candidate": 1, "sent": 4}
    assert [c.to_json() for c in result.checks] == [
        {"name": name, "passed": True, "violations": 0, "request_ids": []} for name in CHECKS
    ]
    assert result.passed


def test_egress_of_requests_with_findings(make_row: MakeRow) -> None:
    egress = [e.to_json() for e in audit(clean_rows(make_row)).egress]
    assert egress == [
        # outside the perimeter first; row 1 (no findings) is not counted
        {"model": "cloud-big", "locality": "remote", "jurisdiction": "us", "inside": False,
         "requests": 1, "findings": {"email": 1, "phone": 1}, "categories": {"pii": 1},
         "policies": {"redact": 1}},
        # row 6 reached local-small twice: one request
        {"model": "local-small", "locality": "local", "jurisdiction": "on-prem", "inside": True,
         "requests": 2, "findings": {"aws_access_key_id": 1, "email": 2},
         "categories": {"pii": 2, "secret": 1}, "policies": {"local_only": 1, "redact": 1}},
        {"model": "cloud-eu", "locality": "remote", "jurisdiction": "eu", "inside": True,
         "requests": 1, "findings": {"email": 1}, "categories": {"pii": 1},
         "policies": {"redact": 1}},
    ]  # fmt: skip


def test_empty_input_passes_with_zero_counts() -> None:
    result = audit([])
    data = result.to_json()
    assert data["requests"] == data["with_findings"] == data["without_perimeter"] == 0
    assert data["findings"] == data["labels"] == data["outcomes"] == {}
    assert data["egress"] == []
    assert [c["passed"] for c in data["checks"]] == [True, True, True]


@pytest.mark.parametrize(
    ("check", "violating", "harmless"),
    [
        (
            SECRET_STAYED,
            perimeter({"api_key": 1}, ["secret"], "secret", "redact", 1, egress=[LOCAL, CLOUD]),
            perimeter({"api_key": 1}, ["secret"], "confidential", "redact", 1, egress=[CLOUD]),
        ),
        (
            LOCAL_ONLY_STAYED,
            perimeter({"email": 1}, ["pii"], "confidential", "local_only", egress=[CLOUD]),
            perimeter({"email": 1}, ["pii"], "confidential", "local_only", egress=[LOCAL, EU]),
        ),
        (
            BLOCKED_REACHED_NONE,
            perimeter({"ssn": 1}, ["pii"], "secret", "block", outcome="blocked", egress=[LOCAL]),
            perimeter({"ssn": 1}, ["pii"], "secret", "block", outcome="blocked"),
        ),
    ],
)
def test_each_check_fails_only_on_its_violation(
    make_row: MakeRow,
    tmp_path: Path,
    check: str,
    violating: dict[str, Any],
    harmless: dict[str, Any],
) -> None:
    base = clean_rows(make_row)
    passing = audit([*base, make_row(7, perimeter=harmless)])
    assert passing.passed
    failing = audit([*base, make_row(7, perimeter=violating)])
    verdicts = {c.name: (c.passed, c.violations, c.request_ids) for c in failing.checks}
    assert verdicts[check] == (False, 1, ("req-00007",))
    assert all(v == (True, 0, ()) for name, v in verdicts.items() if name != check)
    assert not failing.passed
    # the same through the command: exit 1, a FAIL line naming the request
    config = write_ledger(tmp_path, [*base, make_row(7, perimeter=violating)])
    result = run(config)
    assert result.exit_code == 1, result.output
    assert f"FAIL  {check}: 1 request (req-00007)" in result.stdout.splitlines()


def test_an_egress_not_marked_inside_counts_as_outside(make_row: MakeRow) -> None:
    unmarked = {"model": "mystery", "locality": "local", "jurisdiction": "on-prem"}
    row = make_row(0, perimeter=perimeter({"email": 1}, ["pii"], "secret", "local_only",
                                          egress=[unmarked]))  # fmt: skip
    result = audit([row])
    assert [c.passed for c in result.checks] == [False, False, True]
    assert result.egress[0].inside is False


def test_violations_list_at_most_twenty_ids(make_row: MakeRow) -> None:
    leak = perimeter({"email": 1}, ["pii"], "secret", "allow", egress=[CLOUD])
    result = audit([make_row(i, perimeter=leak) for i in range(MAX_IDS + 5)])
    secret = result.checks[0]
    assert (secret.passed, secret.violations) == (False, 25)
    assert secret.request_ids == tuple(f"req-{i:05d}" for i in range(20))


# --- the command --------------------------------------------------------------------------


def test_table_when_every_check_passes(make_row: MakeRow, tmp_path: Path) -> None:
    config = write_ledger(tmp_path, clean_rows(make_row))
    result = run(config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"perimeter audit of ledger {tmp_path / 'ledger.db'}: 7 requests, 5 with findings, "
        "1 without a perimeter record"
    )
    assert lines[2].split() == ["finding", "requests", "values"]
    assert lines[4].split() == ["email", "3", "4"]
    assert ["label", "requests"] in [line.split() for line in lines]
    assert ["secret", "3"] in [line.split() for line in lines]
    assert "where requests with findings went:" in lines
    outside = next(line for line in lines if line.startswith("cloud-big"))
    assert outside.split() == ["cloud-big", "remote", "us", "OUTSIDE", "1", "email", "1,",
                               "phone", "1", "pii", "1", "redact", "1"]  # fmt: skip
    assert lines[-3:] == [f"PASS  {name}" for name in CHECKS]


def test_table_lists_twenty_ids_and_the_rest_as_a_count(make_row: MakeRow, tmp_path: Path) -> None:
    blocked_but_sent = perimeter({"ssn": 1}, ["pii"], "secret", "block", egress=[LOCAL])
    config = write_ledger(tmp_path, [make_row(i, perimeter=blocked_but_sent) for i in range(23)])
    result = run(config)
    assert result.exit_code == 1
    ids = ", ".join(f"req-{i:05d}" for i in range(20))
    assert result.stdout.splitlines()[-1] == (
        f"FAIL  {BLOCKED_REACHED_NONE}: 23 requests ({ids} and 3 more)"
    )


def test_json_shape(make_row: MakeRow, tmp_path: Path) -> None:
    config = write_ledger(tmp_path, clean_rows(make_row))
    result = run(config, "--json")
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert list(data) == ["ledger", "since", "perimeter", "requests", "without_perimeter",
                          "with_findings", "findings", "categories", "labels", "policies",
                          "outcomes", "egress", "checks"]  # fmt: skip
    assert data["ledger"] == str(tmp_path / "ledger.db")
    assert data["since"] is None
    assert (data["requests"], data["with_findings"]) == (7, 5)
    assert data["findings"]["email"] == {"requests": 3, "values": 4}
    assert data["categories"] == {"financial": 1, "pii": 3, "secret": 2}
    assert data["labels"]["secret"] == 3
    assert data["policies"]["local_only"] == 2
    assert data["outcomes"]["sent"] == 4
    assert [e["model"] for e in data["egress"]] == ["cloud-big", "local-small", "cloud-eu"]
    assert set(data["egress"][0]) == {"model", "locality", "jurisdiction", "inside", "requests",
                                      "findings", "categories", "policies"}  # fmt: skip
    assert data["checks"] == [
        {"name": name, "passed": True, "violations": 0, "request_ids": []} for name in CHECKS
    ]


def test_json_still_exits_1_on_a_failed_check(make_row: MakeRow, tmp_path: Path) -> None:
    leak = perimeter({"email": 1}, ["pii"], "secret", "allow", egress=[CLOUD])
    config = write_ledger(tmp_path, [*clean_rows(make_row), make_row(9, perimeter=leak)])
    result = run(config, "--json")
    assert result.exit_code == 1
    checks = orjson.loads(result.stdout)["checks"]
    assert checks[0] == {"name": SECRET_STAYED, "passed": False, "violations": 1,
                         "request_ids": ["req-00009"]}  # fmt: skip


def test_since_filters_rows(make_row: MakeRow, tmp_path: Path) -> None:
    # the only violation is row 0 (12:00:00.123456Z); --since after it drops it
    leak = perimeter({"email": 1}, ["pii"], "secret", "allow", egress=[CLOUD])
    config = write_ledger(tmp_path, [make_row(0, perimeter=leak), *clean_rows(make_row)[1:]])
    assert run(config).exit_code == 1
    result = run(config, "--json", "--since", "2025-01-31T13:00:01+01:00")
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["since"] == "2025-01-31T12:00:01+00:00"
    assert (data["requests"], data["without_perimeter"]) == (6, 0)
    assert "secret" in data["labels"]
    table = run(config, "--since", "2025-01-31T12:00:01")
    assert table.stdout.splitlines()[0].endswith(
        "since 2025-01-31T12:00:01+00:00: 6 requests, 5 with findings, 0 without a perimeter record"
    )


def test_empty_ledger_passes(tmp_path: Path) -> None:
    config = write_ledger(tmp_path, [])
    result = run(config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": 0 requests, 0 with findings, 0 without a perimeter record")
    assert "finding: none" in lines
    assert "where requests with findings went: nowhere" in lines
    data = orjson.loads(run(config, "--json").stdout)
    assert (data["requests"], data["egress"], data["findings"]) == (0, [], {})


def test_missing_ledger_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "ledger.db"
    config = tmp_path / "freehold.yaml"
    config.write_text(f"ledger: 'sqlite:///{path}'\n", encoding="utf-8")
    for args in ([], ["--json"]):
        result = run(config, *args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == f"Error: no ledger at {path} yet: nothing to audit\n"
    assert not path.parent.exists()


def test_unreadable_ledger_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "freehold.yaml"
    config.write_text("ledger: 'postgresql://postgres:hunter2@127.0.0.1:1/test'\n")
    result = run(config)
    assert result.exit_code == 2
    assert "cannot read the ledger postgresql://postgres:***@127.0.0.1:1/test" in result.stderr
    assert "hunter2" not in result.output


def test_bad_since_is_a_usage_error(make_row: MakeRow, tmp_path: Path) -> None:
    result = run(write_ledger(tmp_path, []), "--since", "yesterday")
    assert result.exit_code == 2
    assert "not an ISO-8601 date or time" in result.output


def test_registered_and_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["audit", "--help"], terminal_width=100)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Exit 0 when every check passes, 1 when one fails" in text
    assert "local_only requests stayed inside" in text


# --- without a perimeter in the config --------------------------------------------------


def test_without_a_perimeter_no_check_reads_as_passed(tmp_path: Path, make_row: MakeRow) -> None:
    config = write_ledger(tmp_path, [make_row(i) for i in range(3)], perimeter="")
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


def test_without_a_perimeter_old_records_are_summarised_not_checked(
    tmp_path: Path, make_row: MakeRow
) -> None:
    """Rows recorded while a perimeter was on still show where they went; their checks
    are not run (the requests since are not scanned), so none is passed or failed."""
    leak = perimeter({"email": 1}, ["pii"], "secret", "allow", 0, egress=[CLOUD])
    config = write_ledger(tmp_path, [make_row(0), make_row(1, perimeter=leak)], perimeter="")
    result = run(config)
    assert result.exit_code == 2
    assert "OUTSIDE" in result.stdout
    assert "PASS" not in result.stdout and "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith(NOT_CONFIGURED)


def test_with_a_perimeter_the_checks_say_it_is_configured(
    tmp_path: Path, make_row: MakeRow
) -> None:
    config = write_ledger(tmp_path, [make_row(i) for i in range(3)])
    result = run(config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [f"PASS  {name}" for name in CHECKS]
    assert NOT_CONFIGURED not in result.stdout
    data = orjson.loads(run(config, "--json").stdout)
    assert data["perimeter"] == "configured"
    assert [c["passed"] for c in data["checks"]] == [True, True, True]
