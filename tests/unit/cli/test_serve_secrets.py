"""`freehold serve` masks every secret of its config in whatever its log handlers write."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from freehold.cli.serve import configured_secrets, mask_secrets_in_logs
from freehold.config.schema import Settings

UPSTREAM = "sk-live-7Qm2xZ9pR4vT8kL1nB6c"
MASTER = "master-Hq3Vn8Wc2Lp5Zr7T"
HEADER = "hdr-Kd93Jf7Qw2Xz5Rm1"


def settings() -> Settings:
    return Settings.model_validate(
        {
            "ledger": "postgresql://app:pg-pass-Ttq8Nw2Lz@127.0.0.1:5432/ledger",
            "auth": {"master_key": MASTER},
            "budgets": {"store": "redis://:redis-pass-Mm4Pq9Xv@127.0.0.1:6379/0"},
            "models": [
                {
                    "name": "m",
                    "backend": "openai",
                    "base_url": "http://127.0.0.1:1/v1",
                    "api_key": UPSTREAM,
                    "headers": {"api-key": HEADER, "x-trace": "not-a-secret"},
                }
            ],
        }
    )


def test_every_secret_of_the_config_is_found() -> None:
    found = configured_secrets(settings())
    assert set(found) == {UPSTREAM, HEADER, MASTER, "pg-pass-Ttq8Nw2Lz", "redis-pass-Mm4Pq9Xv"}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_log_lines_lose_every_piece_of_a_secret(captured: io.StringIO) -> None:
    mask_secrets_in_logs(settings())
    log = logging.getLogger("freehold.test")
    log.warning("upstream said: Incorrect API key %s", UPSTREAM[:12] + "****" + UPSTREAM[-4:])
    log.warning("master %s and %s", MASTER, "pg-pass-Ttq8Nw2Lz")
    try:
        raise ValueError(f"bad header {HEADER}")
    except ValueError:
        log.exception("failed")
    text = captured.getvalue()
    assert "upstream said: Incorrect API key ***" in text
    for secret in (UPSTREAM, MASTER, HEADER, "pg-pass-Ttq8Nw2Lz"):
        pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
        assert not any(piece in text for piece in pieces), secret
    assert "Traceback" in text  # the exception is logged, masked
