"""``open_store(url)``: the ledger store a settings URL names.

Stores are imported only when chosen, through a name → import-string table, so SQLite
users never import psycopg. ``sqlite:///PATH`` is a file (relative to the working directory;
``sqlite:////abs/path`` is absolute, ``~`` is expanded), ``sqlite:///:memory:`` a private
in-memory database, ``postgresql://…`` (or ``postgres://…``) a libpq URL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from freehold.config.home import freehold_home
from freehold.config.schema import Settings
from freehold.core.importer import import_string
from freehold.ledger.base import LedgerStore
from freehold.ledger.journal import Journal
from freehold.ledger.writer import BatchedWriter

_SQLITE_PREFIX = "sqlite:///"

#: Store kind → (import string, extra that provides its dependency).
STORES: dict[str, tuple[str, str | None]] = {
    "sqlite": ("freehold.ledger.sqlite:SqliteStore", None),
    "postgresql": ("freehold.ledger.postgres:PostgresStore", "postgres"),
}


def store_kind(url: str) -> str:
    """``sqlite`` or ``postgresql``; ValueError for any other URL."""
    if url.startswith(_SQLITE_PREFIX) and len(url) > len(_SQLITE_PREFIX):
        return "sqlite"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    raise ValueError(
        f"unsupported ledger URL {describe(url)!r}: use sqlite:///PATH or postgresql://"
    )


def sqlite_target(url: str) -> str | Path:
    """The file (or ``:memory:``) of a ``sqlite:///`` URL."""
    target = url.removeprefix(_SQLITE_PREFIX)
    return target if target == ":memory:" else Path(target).expanduser()


def open_store(url: str, *, create: bool = True) -> LedgerStore:
    """The store for ``url``, connected but not migrated (call ``migrate()``).

    With ``create=False`` a missing SQLite file raises
    :class:`~freehold.ledger.base.LedgerNotFound` instead of being created (for readers).
    A missing optional driver raises :class:`~freehold.core.importer.MissingExtra`.
    """
    kind = store_kind(url)
    target, extra = STORES[kind]
    factory: Any = import_string(target, extra)
    args: dict[str, Any] = {"create": create} if kind == "sqlite" else {}
    store: LedgerStore = factory(sqlite_target(url) if kind == "sqlite" else url, **args)
    return store


def describe(url: str) -> str:
    """The URL fit to print: a SQLite path as is, any password replaced by ``***``."""
    if url.startswith(_SQLITE_PREFIX):
        return str(sqlite_target(url))
    parts = urlsplit(url)
    if parts.password is not None:
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{user}:***@{host}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        hidden = [(key, "***" if key == "password" else value) for key, value in query]
        parts = parts._replace(query=urlencode(hidden, safe="*"))
    return urlunsplit(parts)


def state_dir(settings: Settings) -> Path:
    """Where the ledger keeps its local files (spill file, journal): beside a SQLite ledger,
    else ``$FREEHOLD_HOME``."""
    if store_kind(settings.ledger) == "sqlite":
        target = sqlite_target(settings.ledger)
        if isinstance(target, Path):
            return target.parent
    return freehold_home()


def journal_dir(settings: Settings) -> Path | None:
    """The ledger's journal directory: ``freehold-journal-<ledger>`` in ``journal.dir``
    (default: :func:`state_dir`), where ``<ledger>`` is a digest of the ledger's location,
    so that a journal is only ever replayed into the ledger it was written for. None when the
    journal is off, or for an in-memory ledger (it would not outlive the process anyway)."""
    if not settings.journal.enabled or settings.ledger == "sqlite:///:memory:":
        return None
    if store_kind(settings.ledger) == "sqlite":
        target = sqlite_target(settings.ledger)
        identity = str(Path(target).resolve())
    else:
        identity = describe(settings.ledger)  # the password never enters the name
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    base = Path(settings.journal.dir).expanduser() if settings.journal.dir else state_dir(settings)
    return base / f"freehold-journal-{digest}"


def open_writer(settings: Settings, store: LedgerStore) -> BatchedWriter:
    """The batched writer the gateway records rows through (not yet started): with the
    journal on (``journal.enabled``), each row is journaled as it is recorded, and rows that
    dead processes left in the journal are replayed when the writer starts."""
    directory = journal_dir(settings)
    journal = None if directory is None else Journal(directory, fsync=settings.journal.fsync)
    return BatchedWriter(store, spill_dir=state_dir(settings), journal=journal)
