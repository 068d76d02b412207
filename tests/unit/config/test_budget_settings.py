"""The ``auth`` and ``budgets`` config sections."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from freehold.config.schema import Settings


def settings(**data: object) -> Settings:
    return Settings.model_validate(data, context={"env": {"MK": "m" * 20}})


def test_the_master_key_reads_the_environment() -> None:
    loaded = settings(auth={"master_key": "env:MK"})
    assert loaded.auth.master_key is not None
    assert loaded.auth.master_key.get_secret_value() == "m" * 20
    assert "m" * 20 not in repr(loaded)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"auth": {"master_key": "short"}}, "at least 16"),
        ({"auth": {"master_key": "env:NOPE"}}, "NOPE is not set"),
        ({"auth": {"master_key": "env:MK"}, "server": {"api_keys": ["a"]}}, "cannot be combined"),
        ({"budgets": {"store": "memcached://x"}}, "sqlite:///PATH or redis://"),
        ({"budgets": {"tags": {"team": {"budget_usd": 1}}}}, "NAME=VALUE"),
        ({"budgets": {"tags": {"team=a": {"period": "week"}}}}, "period"),
    ],
)
def test_bad_sections_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**data)


def test_the_sqlite_store_sits_beside_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "data" / "ledger.db"
    beside = settings(ledger=f"sqlite:///{ledger}")
    assert beside.budget_store() == f"sqlite:///{tmp_path / 'data' / 'budgets.db'}"
    assert settings(ledger="sqlite:///:memory:").budget_store() == "sqlite:///:memory:"
    redis = settings(budgets={"store": "redis://127.0.0.1:6379/0"})
    assert redis.budget_store() == "redis://127.0.0.1:6379/0"


def test_a_postgres_ledger_keeps_the_store_in_freehold_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FREEHOLD_HOME", str(tmp_path))
    pg = settings(ledger="postgresql://u@127.0.0.1:5432/db")
    assert pg.budget_store() == f"sqlite:///{tmp_path / 'budgets.db'}"
