"""``freehold serve`` as a separate process, for end-to-end tests and benchmarks."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO


def start_serve(
    port: int,
    *,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    output: int | IO[bytes] | None = subprocess.DEVNULL,
    log_level: str = "info",
) -> subprocess.Popen[bytes]:
    """Start ``freehold serve`` on 127.0.0.1:``port`` (with ``config``, else the defaults)."""
    command = [
        sys.executable,
        "-m",
        "freehold",
        "serve",
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.Popen(
        command, stdout=output, stderr=subprocess.STDOUT, env=None if env is None else dict(env)
    )


def wait_until_up(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 60.0
) -> None:
    """Poll ``url/health`` until it answers; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"freehold serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"freehold serve did not come up at {url}") from None
            time.sleep(0.05)
