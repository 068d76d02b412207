"""Blocking work off the event loop: a fixed pool of worker threads, each owning one engine
(e.g. a loaded model), fed from one fair FIFO queue.

``submit`` refuses (503 with ``Retry-After``) when every worker is busy and ``max_queue``
jobs already wait. A model that could not be loaded answers 503 ``model_unavailable``; the
reason, which may name server paths, is logged once rather than sent. A job's results travel
back to the loop as they are produced; when the consumer stops listening (a client went
away) the job's ``cancelled`` event is set, so the work can stop early and the worker is
freed. A job cancelled while still waiting is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from freehold.core.errors import ServiceUnavailable

log = logging.getLogger("freehold.workers")

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class _End:
    error: BaseException | None


class Job(Generic[E]):
    """One unit of work: ``work(engine, job)`` runs in a worker thread and calls ``emit``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, work: Callable[[E, Job[E]], None]) -> None:
        self.work = work
        self.cancelled = threading.Event()
        self._loop = loop
        # Items cross threads in batches: the worker appends, and wakes the loop only when
        # no wake-up is pending yet, so a fast producer costs one wake-up per batch.
        self._lock = threading.Lock()
        self._pending: deque[object] = deque()
        self._wake_pending = False
        self._ready = asyncio.Event()

    # -- worker side ----------------------------------------------------------------------
    def emit(self, item: object) -> None:
        self._send(item)

    def finish(self, error: BaseException | None = None) -> None:
        self._send(_End(error))

    def _send(self, item: object) -> None:
        with self._lock:
            self._pending.append(item)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:  # the loop has closed: nobody is listening any more
            self.cancelled.set()

    # -- loop side ------------------------------------------------------------------------
    def _take(self) -> list[object]:
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._wake_pending = False
        self._ready.clear()
        return items

    async def results(self) -> AsyncIterator[object]:
        """Everything the work emits, in order; re-raises its failure. Leaving early cancels."""
        try:
            while True:
                await self._ready.wait()
                for item in self._take():
                    if isinstance(item, _End):
                        if item.error is not None:
                            raise item.error
                        return
                    yield item
        finally:
            self.cancelled.set()


class WorkerPool(Generic[E]):
    def __init__(
        self,
        name: str,
        factory: Callable[[], E],
        *,
        workers: int,
        max_queue: int,
        retry_after_s: int = 1,
    ) -> None:
        self.name = name
        self._factory = factory
        self._workers = workers
        self._max_queue = max_queue
        self._retry_after = retry_after_s
        self._jobs: queue.SimpleQueue[Job[E] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._waiting = 0
        self._threads: list[threading.Thread] = []
        self.load_error: BaseException | None = None

    def start(self) -> None:
        for index in range(self._workers):
            thread = threading.Thread(
                target=self._run, name=f"freehold-{self.name}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, work: Callable[[E, Job[E]], None]) -> Job[E]:
        """Queue ``work``; raises ServiceUnavailable when the queue is full."""
        job: Job[E] = Job(asyncio.get_running_loop(), work)
        with self._lock:
            if self._waiting - self._idle >= self._max_queue:
                raise ServiceUnavailable(
                    f"Local model {self.name!r} is busy ({self._workers} worker(s) generating, "
                    f"{self._waiting} request(s) waiting); retry shortly.",
                    headers={"Retry-After": str(self._retry_after)},
                )
            self._waiting += 1
        self._jobs.put(job)
        return job

    @property
    def waiting(self) -> int:
        with self._lock:
            return self._waiting

    def close(self, timeout_s: float = 10.0) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._threads.clear()

    # -- worker threads -------------------------------------------------------------------
    def _load(self) -> E | None:
        try:
            return self._factory()
        except Exception as exc:  # reported to every request, never crashes the server
            self.load_error = exc
            log.error("local model %r could not be loaded: %s", self.name, exc)
            return None

    def _run(self) -> None:
        engine = self._load()
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
                if job is not None:
                    self._waiting -= 1
            if job is None:
                return
            self._serve(engine, job)

    def _serve(self, engine: E | None, job: Job[E]) -> None:
        if job.cancelled.is_set():
            job.finish()
            return
        if engine is None:  # 503, naming no file: the reason is in the log, once
            job.finish(
                ServiceUnavailable(
                    f"Local model {self.name!r} could not be loaded; the gateway's log says why.",
                    code="model_unavailable",
                )
            )
            return
        try:
            job.work(engine, job)
        except BaseException as exc:  # delivered to the request that caused it
            job.finish(exc)
        else:
            job.finish()
