"""Running the app under uvicorn as ``freehold serve`` does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


class DrainingServer(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM or SIGINT it drained on ends the process with
    exit code 0: uvicorn re-raises the signal after a graceful shutdown (exit 143), which a
    service manager would read as a failure of the drain."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()  # drained: nothing to re-raise
