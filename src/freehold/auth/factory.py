"""``open_auth_store(url)``: the budget store a URL names, its driver imported only when chosen."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from freehold.auth.base import AuthStore
from freehold.core.importer import import_string

_SQLITE = "sqlite:///"
DEFAULT_PREFIX = "freehold:"


def open_auth_store(url: str) -> AuthStore:
    """``sqlite:///PATH`` (or ``sqlite:///:memory:``) or ``redis://HOST:PORT/DB[?prefix=P]``;
    call ``migrate()`` before use."""
    if url.startswith(_SQLITE):
        target = url.removeprefix(_SQLITE)
        sqlite_store: Any = import_string("freehold.auth.sqlite_store:SqliteAuthStore", None)
        path = target if target == ":memory:" else Path(target).expanduser()
        store: AuthStore = sqlite_store(path)
        return store
    if url.startswith(("redis://", "rediss://")):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        prefix = query.pop("prefix", DEFAULT_PREFIX)
        plain = urlunsplit(parts._replace(query=urlencode(query)))
        redis_store: Any = import_string("freehold.auth.redis_store:RedisAuthStore", None)
        store = redis_store(plain, prefix=prefix)
        return store
    raise ValueError(f"unsupported budget store {url!r}: use sqlite:///PATH or redis://HOST")
