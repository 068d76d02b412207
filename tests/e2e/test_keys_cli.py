"""`freehold keys` and `freehold budget` as a user runs them (real processes), on a SQLite
budget store and on Redis."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from freehold.auth.enforcer import Enforcer
from freehold.auth.estimate import Estimate
from freehold.auth.factory import open_auth_store
from freehold.auth.keys import digest
from freehold.config import load_settings

MASTER = "master-key-for-tests-0123456789"
CONFIG = """
ledger: sqlite:///{ledger}
models:
  - name: cloud-big
    backend: openai
    base_url: http://127.0.0.1:9001/v1
    price: {{input_per_mtok: 2.5, output_per_mtok: 10.0}}
  - name: cloud-small
    backend: openai
    base_url: http://127.0.0.1:9001/v1
budgets:
  {store}tags: {{"team=search": {{budget_usd: 100, period: month}}}}
"""
NOTE = "keys are not enforced until auth.master_key is set"


def write_config(tmp_path: Path, store: str | None = None, master: bool = True) -> Path:
    path = tmp_path / "freehold.yaml"
    text = CONFIG.format(
        ledger=tmp_path / "ledger.db", store=f"store: '{store}'\n  " if store else ""
    )
    if master:
        text += f"auth: {{master_key: '{MASTER}'}}\n"
    path.write_text(text)
    return path


def freehold(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freehold", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FREEHOLD_HOME": str(config.parent / "home")},
    )


def ok_json(config: Path, *args: str) -> Any:
    result = freehold(config, *args, "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def refused(config: Path, *args: str) -> str:
    """The one-line error of a command that must exit 2."""
    result = freehold(config, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    return line


def store_files(tmp_path: Path) -> bytes:
    """Everything SQLite wrote for the budget store (the WAL included, if any is left)."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("budgets.db*")))


def test_round_trip_create_list_show_update_clear_revoke(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    created = ok_json(
        config, "keys", "create", "--name", "search-bot", "--budget-usd", "25.5",
        "--soft-budget-usd", "20", "--budget-tokens", "1000000", "--period", "day",
        "--rpm", "60", "--tpm", "50000", "--models", "cloud-big, cloud-small",
        "--tag", "team=search", "--tag", "project=bluebird",
    )  # fmt: skip
    secret = created.pop("key")
    key_id = created["id"]
    assert secret.startswith(f"fh-{key_id.removeprefix('key_')}.")
    public = {
        "id": key_id,
        "name": "search-bot",
        "created": created["created"],
        "revoked": None,
        "period": "day",
        "budget_usd": "25.500000000",
        "soft_budget_usd": "20.000000000",
        "budget_tokens": 1000000,
        "soft_budget_tokens": None,
        "rpm": 60,
        "tpm": 50000,
        "models": ["cloud-big", "cloud-small"],
        "tags": ["team=search", "project=bluebird"],
    }
    assert created == public

    listed = freehold(config, "keys", "list", "--json")
    assert json.loads(listed.stdout) == {"object": "list", "data": [public]}
    table = freehold(config, "keys", "list")
    assert table.returncode == 0
    header, _, row = table.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "PERIOD", "BUDGET", "RPM/TPM", "MODELS", "TAGS",
                              "REVOKED"]  # fmt: skip
    assert row.split()[:4] == [key_id, "search-bot", "day", "$25.50"]
    assert "60/50,000" in row and "cloud-big,cloud-small" in row and "team=search" in row

    shown = ok_json(config, "keys", "show", key_id)
    usage = shown.pop("usage")
    assert shown == public
    assert usage["kind"] == "key" and usage["name"] == key_id and usage["period"] == "day"
    assert (usage["spend_usd"], usage["remaining_usd"], usage["requests"]) == (
        "0.000000000",
        "25.500000000",
        0,
    )
    shown_text = freehold(config, "keys", "show", key_id)
    assert "remaining" in shown_text.stdout and "$25.50" in shown_text.stdout

    updated = ok_json(
        config, "keys", "update", key_id, "--name", "search", "--budget-usd", "30",
        "--models", "cloud-small", "--tag", "team=ads",
    )  # fmt: skip
    assert updated == {**public, "name": "search", "budget_usd": "30.000000000",
                       "models": ["cloud-small"], "tags": ["team=ads"]}  # fmt: skip

    cleared = ok_json(
        config, "keys", "update", key_id, "--clear", "budget_usd", "--clear", "rpm",
        "--clear", "models",
    )  # fmt: skip
    assert (cleared["budget_usd"], cleared["rpm"], cleared["models"]) == (None, None, [])
    assert (cleared["soft_budget_usd"], cleared["tpm"]) == ("20.000000000", 50000)

    revoked = ok_json(config, "keys", "revoke", key_id)
    assert revoked["revoked"] is not None
    assert ok_json(config, "keys", "show", key_id)["revoked"] == revoked["revoked"]
    assert "revoked at" in freehold(config, "keys", "revoke", key_id).stdout

    # The secret was printed once; the store holds its salted hash only.
    everything = "".join(
        freehold(config, *args).stdout
        for args in (["keys", "list"], ["keys", "list", "--json"], ["keys", "show", key_id],
                     ["keys", "show", key_id, "--json"], ["budget"], ["budget", "--json"])
    )  # fmt: skip
    assert key_id in everything and secret not in everything
    assert secret.encode() not in store_files(tmp_path)
    with sqlite3.connect(tmp_path / "budgets.db") as db:
        (body,) = db.execute("SELECT body FROM freehold_keys WHERE id = ?", (key_id,)).fetchone()
    stored = json.loads(body)
    assert stored["hash"] == digest(stored["salt"], secret)
    assert secret not in body


def test_create_shows_the_secret_once_with_a_warning(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = freehold(config, "keys", "create", "--name", "ci", "--budget-usd", "10")
    assert result.returncode == 0, result.stderr
    (secret_line,) = [line for line in result.stdout.splitlines() if line.startswith("key ")]
    secret = secret_line.split()[1]
    assert secret.startswith("fh-")
    assert "not shown again" in result.stdout
    assert NOTE not in result.stderr  # auth.master_key is set
    assert secret not in freehold(config, "keys", "list", "--json").stdout


def test_works_without_a_master_key_and_says_keys_are_not_enforced(tmp_path: Path) -> None:
    config = write_config(tmp_path, master=False)
    listed = freehold(config, "keys", "list")
    assert listed.returncode == 0
    assert NOTE in listed.stderr
    assert "No keys yet" in listed.stdout
    assert not (tmp_path / "budgets.db").exists()  # reading creates no store
    created = freehold(config, "keys", "create", "--name", "ci", "--json")
    assert created.returncode == 0 and NOTE in created.stderr
    assert json.loads(created.stdout)["name"] == "ci"
    assert (tmp_path / "budgets.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--name", "x", "--models", "cloud-big,gpt-9"],
         "Error: 'gpt-9' is not a configured model or route (known: cloud-big, cloud-small)"),
        (["keys", "create", "--name", "x", "--tag", "team"],
         "Error: 'team': a tag is NAME=VALUE, e.g. team=search"),
        (["keys", "create", "--name", "x", "--budget-usd=-5"],
         "Error: budget_usd must be a number of dollars ≥ 0"),
        (["keys", "create", "--name", "x", "--rpm=-1"],
         "Error: rpm must be a whole number ≥ 0"),
        (["keys", "create", "--name", " "], "Error: a key needs a name"),
        (["keys", "show", "key_000000000000"], "Error: No key 'key_000000000000'."),
        (["keys", "revoke", "key_000000000000"], "Error: No key 'key_000000000000'."),
        (["keys", "update", "key_000000000000", "--rpm", "5"],
         "Error: No key 'key_000000000000'."),
        (["keys", "update", "key_000000000000"],
         "Error: nothing to change: give a new value or --clear FIELD"),
        (["keys", "update", "key_000000000000", "--rpm", "5", "--clear", "rpm"],
         "Error: --clear rpm contradicts the new value given for it"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    config = write_config(tmp_path)
    assert refused(config, *args) == message
    # Nothing was created by a refused command.
    assert ok_json(config, "keys", "list")["data"] == []


def test_bad_input_on_an_existing_key(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    key_id = ok_json(config, "keys", "create", "--name", "x")["id"]
    assert refused(config, "keys", "update", key_id, "--tag", "a b") == (
        "Error: 'a b': a tag is NAME=VALUE, e.g. team=search"
    )
    assert refused(config, "keys", "update", key_id, "--soft-budget-usd=-0.01") == (
        "Error: soft_budget_usd must be a number of dollars ≥ 0"
    )
    assert refused(config, "keys", "update", key_id, "--models", "nope").startswith(
        "Error: 'nope' is not a configured model or route"
    )
    malformed = freehold(config, "keys", "update", key_id, "--budget-usd", "ten")
    assert malformed.returncode == 2 and "'ten' is not an amount in USD" in malformed.stderr
    assert ok_json(config, "keys", "show", key_id)["budget_usd"] is None  # unchanged


def spend(config: Path, key_id: str) -> None:
    """One settled request ($0.000045 for 6 tokens) and one still in flight (holding $0.01
    and 1,000 tokens), charged through the enforcer as the gateway charges them."""
    settings = load_settings(str(config))

    async def go() -> None:
        store = open_auth_store(settings.budget_store())
        await store.migrate()
        try:
            enforcer = Enforcer(store, settings.budgets)
            key = await store.key(key_id)
            assert key is not None
            done = await enforcer.admit(
                key, "req-1", "cloud-big", Estimate(2_000_000, 500, 100, 400)
            )
            await enforcer.settle(done, 45_000, 6)
            await enforcer.admit(key, "req-2", "cloud-big", Estimate(10_000_000, 1_000, 10, 990))
        finally:
            await store.aclose()

    asyncio.run(go())


def check_report(config: Path, key_id: str) -> None:
    report = ok_json(config, "budget")
    assert set(report) == {"now", "lines"}
    lines = {(line["kind"], line["name"]): line for line in report["lines"]}
    assert set(lines) == {("key", key_id), ("tag", "team=search")}
    key, tag = lines["key", key_id], lines["tag", "team=search"]
    assert {k: key[k] for k in ("label", "period", "spend_usd", "held_usd", "tokens",
            "requests", "cost_per_mtok_usd", "budget_usd", "remaining_usd", "budget_tokens",
            "remaining_tokens", "revoked")} == {
        "label": "bot",
        "period": "month",
        "spend_usd": "0.000045000",
        "held_usd": "0.010000000",
        "tokens": 6,
        "requests": 1,
        "cost_per_mtok_usd": 7.5,  # $0.000045 / 6 tokens * 1e6
        "budget_usd": "1.000000000",
        "remaining_usd": "0.989955000",  # 1 - 0.000045 spent - 0.01 held
        "budget_tokens": 10000,
        "remaining_tokens": 8994,  # 10,000 - 6 used - 1,000 held
        "revoked": False,
    }  # fmt: skip
    assert key["usd_per_day"] > 0
    assert (tag["spend_usd"], tag["held_usd"], tag["budget_usd"], tag["remaining_usd"]) == (
        "0.000045000",
        "0.010000000",
        "100.000000000",
        "99.989955000",
    )
    assert (tag["tokens"], tag["requests"], tag["cost_per_mtok_usd"]) == (6, 1, 7.5)
    shown = ok_json(config, "keys", "show", key_id)["usage"]
    assert shown == {**key, "usd_per_day": shown["usd_per_day"], "exhausts": shown["exhausts"]}

    table = freehold(config, "budget")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[2].split() == ["KIND", "NAME", "PERIOD", "SPEND", "TOKENS",
                                                    "REQUESTS", "$/MTOK", "BUDGET", "REMAINING",
                                                    "EXHAUSTS"]  # fmt: skip
    key_row = next(line for line in table.stdout.splitlines() if line.startswith("key "))
    assert key_row.split()[1:8] == [key_id, "(bot)", report["lines"][0]["period_label"],
                                    "$0.000045", "6", "1", "$7.50"]  # fmt: skip
    assert "$0.989955, 8,994 tokens" in key_row
    tag_row = next(line for line in table.stdout.splitlines() if line.startswith("tag "))
    assert "$100.00" in tag_row and "$99.989955" in tag_row


def test_budget_reports_spend_remaining_and_cost_per_mtok(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    key_id = ok_json(
        config, "keys", "create", "--name", "bot", "--budget-usd", "1",
        "--budget-tokens", "10000", "--tag", "team=search",
    )["id"]  # fmt: skip
    spend(config, key_id)
    check_report(config, key_id)


def test_the_same_cli_on_redis(tmp_path: Path, redis_url: str) -> None:
    import redis

    config = write_config(tmp_path, store=redis_url)
    created = ok_json(
        config, "keys", "create", "--name", "bot", "--budget-usd", "1",
        "--budget-tokens", "10000", "--tag", "team=search", "--rpm", "100",
    )  # fmt: skip
    key_id, secret = created["id"], created["key"]
    assert [k["id"] for k in ok_json(config, "keys", "list")["data"]] == [key_id]
    assert ok_json(config, "keys", "update", key_id, "--clear", "rpm")["rpm"] is None
    spend(config, key_id)
    check_report(config, key_id)
    assert ok_json(config, "keys", "revoke", key_id)["revoked"] is not None
    assert ok_json(config, "budget")["lines"][0]["revoked"] is True
    assert not (tmp_path / "budgets.db").exists()

    # Redis holds the salted hash, never the secret.
    prefix = redis_url.split("prefix=", 1)[1]
    client = redis.Redis.from_url(redis_url.split("?", 1)[0])
    try:
        names = list(client.scan_iter(match=prefix + "*"))
        assert names
        for name in names:
            kind = client.type(name)
            if kind == b"string":
                values: Any = client.get(name)
            elif kind == b"hash":
                values = client.hgetall(name)
            elif kind == b"set":
                values = client.smembers(name)
            else:
                assert kind == b"zset", kind
                values = client.zrange(name, 0, -1)
            assert secret.encode() not in repr(values).encode()
    finally:
        client.close()


def test_a_store_that_cannot_be_reached_is_a_message(tmp_path: Path) -> None:
    config = write_config(tmp_path, store="redis://:hunter2-password@127.0.0.1:1/0")
    result = freehold(config, "keys", "list")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert "Error: the budget store redis://:***@127.0.0.1:1/0 failed" in result.stderr


def test_an_in_memory_store_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "memory.yaml"
    config.write_text("ledger: 'sqlite:///:memory:'\n")
    assert refused(config, "keys", "list").startswith("Error: the budget store is in memory")
