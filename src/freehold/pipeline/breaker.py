"""A circuit breaker for one deployment: after ``failures`` consecutive failures it opens and
the deployment gets no traffic; after ``cooldown_s`` one probe is let through, whose outcome
closes the breaker or opens it for another cooldown. Per process. Example::

    breaker = Breaker(BreakerSettings(failures=2, cooldown_s=30))
    breaker.failure(); breaker.failure()
    breaker.available()   # False for the next 30 s
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from freehold.config.schema import BreakerSettings

State = Literal["closed", "open", "half_open"]


class Breaker:
    """The breaker of one deployment (always closed when ``settings`` is None)."""

    def __init__(
        self, settings: BreakerSettings | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        if self._state == "open" and self.retry_in() == 0:
            return "half_open"
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when it would now)."""
        if self._state != "open" or self.settings is None:
            return 0.0
        return max(0.0, self._opened_at + self.settings.cooldown_s - self._clock())

    def available(self) -> bool:
        """Whether a call may go to the deployment now."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probing)

    def begin(self) -> None:
        """A call starts (after :meth:`available`): past the cooldown, it is the probe."""
        if self.state == "half_open":
            self._state, self._probing = "half_open", True

    def success(self) -> None:
        self._state, self._failures, self._probing = "closed", 0, False

    def failure(self) -> None:
        if self.settings is None:
            return
        self._failures += 1
        if self._state == "half_open" or self._failures >= self.settings.failures:
            self._state, self._opened_at, self._probing = "open", self._clock(), False
