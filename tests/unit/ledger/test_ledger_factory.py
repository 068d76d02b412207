"""open_store(): the store a URL names, imported lazily; describe() hides passwords."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from freehold.config.schema import Settings
from freehold.ledger import LedgerNotFound, describe, open_store
from freehold.ledger.factory import journal_dir, open_writer, sqlite_target, store_kind
from freehold.ledger.migrations import latest_version
from freehold.ledger.sqlite import SqliteStore


def test_sqlite_urls(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x' / 'ledger.db'}")
    try:
        assert isinstance(store, SqliteStore)
        assert store.migrate() == latest_version("sqlite")
    finally:
        store.close()
    assert (tmp_path / "x" / "ledger.db").is_file()
    memory = open_store("sqlite:///:memory:")
    try:
        assert memory.migrate() == latest_version("sqlite")
        assert memory.rows() == []
    finally:
        memory.close()


def test_sqlite_paths() -> None:
    assert sqlite_target("sqlite:///:memory:") == ":memory:"
    assert sqlite_target("sqlite:///rel/ledger.db") == Path("rel/ledger.db")
    assert sqlite_target("sqlite:////abs/ledger.db") == Path("/abs/ledger.db")
    assert sqlite_target("sqlite:///~/l.db") == Path.home() / "l.db"


def test_create_false_does_not_create(tmp_path: Path) -> None:
    with pytest.raises(LedgerNotFound):
        open_store(f"sqlite:///{tmp_path / 'missing.db'}", create=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://rel.db", "sqlite:///", "ledger.db"])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported ledger URL"):
        store_kind(url)


def test_scheme_kinds() -> None:
    assert store_kind("postgres://h/db") == store_kind("postgresql://h/db") == "postgresql"
    assert store_kind("sqlite:///:memory:") == "sqlite"


def test_describe_hides_passwords() -> None:
    assert describe("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert describe("postgres://h/db?password=secret&sslmode=require") == (
        "postgres://h/db?password=***&sslmode=require"
    )
    assert describe("postgresql://u@h/db?options=-c%20x") == "postgresql://u@h/db?options=-c%20x"
    assert describe("sqlite:////var/lib/ledger.db") == "/var/lib/ledger.db"


def test_importing_the_package_loads_no_store_or_driver() -> None:
    script = textwrap.dedent(
        """
        import sys
        import freehold.ledger
        import freehold.cli.ledger
        loaded = [m for m in ("psycopg", "freehold.ledger.sqlite", "freehold.ledger.postgres")
                  if m in sys.modules]
        print(loaded)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def _settings(ledger: str, **journal: object) -> Settings:
    return Settings.model_validate({"ledger": ledger, "journal": journal})


def test_the_journal_lives_beside_a_sqlite_ledger_one_directory_per_ledger(
    tmp_path: Path,
) -> None:
    one = journal_dir(_settings(f"sqlite:///{tmp_path / 'a.db'}"))
    other = journal_dir(_settings(f"sqlite:///{tmp_path / 'b.db'}"))
    assert one is not None and other is not None
    assert one.parent == other.parent == tmp_path
    assert one.name.startswith("freehold-journal-") and one != other
    chosen = journal_dir(_settings(f"sqlite:///{tmp_path / 'a.db'}", dir=str(tmp_path / "j")))
    assert chosen == tmp_path / "j" / one.name


def test_a_postgres_journal_goes_to_freehold_home_and_never_names_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FREEHOLD_HOME", str(tmp_path))
    with_password = journal_dir(_settings("postgresql://u:hunter2secret@h:5432/db"))
    assert with_password is not None and with_password.parent == tmp_path
    assert "hunter2" not in str(with_password)
    # the same ledger whatever the password: the same journal
    assert with_password == journal_dir(_settings("postgresql://u:other-password@h:5432/db"))
    assert with_password != journal_dir(_settings("postgresql://u@h:5432/another"))


def test_no_journal_when_off_or_in_memory(tmp_path: Path) -> None:
    assert journal_dir(_settings(f"sqlite:///{tmp_path / 'a.db'}", enabled=False)) is None
    assert journal_dir(_settings("sqlite:///:memory:")) is None


def test_open_writer_journals_rows_into_its_directory(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'ledger.db'}", fsync=True)
    store = open_store(settings.ledger)
    try:
        store.migrate()
        writer = open_writer(settings, store)
        assert writer.journal is not None
        assert writer.journal.directory == journal_dir(settings)
        writer.start()
        assert writer.close() is True
        off = open_writer(_settings(settings.ledger, enabled=False), store)
        assert off.journal is None
        off.close()
    finally:
        store.close()
