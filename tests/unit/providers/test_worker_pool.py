"""The worker pool with a fake engine: FIFO order, a bounded queue, cancellation, failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from freehold.core.errors import ServiceUnavailable
from freehold.providers.worker_pool import Job, WorkerPool


class Engine:
    def __init__(self) -> None:
        self.served: list[str] = []


def pool(workers: int = 1, max_queue: int = 4, factory=Engine) -> WorkerPool[Engine]:  # type: ignore[no-untyped-def]
    p: WorkerPool[Engine] = WorkerPool("m", factory, workers=workers, max_queue=max_queue)
    p.start()
    return p


async def collect(job: Job[Engine]) -> list[object]:
    return [item async for item in job.results()]


def test_jobs_run_in_fifo_order_and_emit_results() -> None:
    p = pool()
    gate = threading.Event()

    def work(name: str):  # type: ignore[no-untyped-def]
        def run(engine: Engine, job: Job[Engine]) -> None:
            gate.wait(5)
            engine.served.append(name)
            job.emit(name)

        return run

    async def main() -> list[list[object]]:
        jobs = [p.submit(work(f"j{i}")) for i in range(4)]
        gate.set()
        return [await collect(job) for job in jobs]

    try:
        assert asyncio.run(main()) == [["j0"], ["j1"], ["j2"], ["j3"]]
    finally:
        p.close()


def test_a_full_queue_is_refused_with_retry_after() -> None:
    p = pool(workers=1, max_queue=2)
    release = threading.Event()
    started = threading.Event()

    def block(engine: Engine, job: Job[Engine]) -> None:
        started.set()
        release.wait(5)

    async def main() -> None:
        first = p.submit(block)
        await asyncio.to_thread(started.wait, 5)
        waiting = [p.submit(block), p.submit(block)]
        with pytest.raises(ServiceUnavailable) as caught:
            p.submit(block)
        assert caught.value.status == 503
        assert caught.value.headers == {"Retry-After": "1"}
        assert "busy" in caught.value.message
        release.set()
        for job in (first, *waiting):
            await collect(job)

    try:
        asyncio.run(main())
    finally:
        p.close()


def test_leaving_early_cancels_the_work_and_frees_the_worker() -> None:
    p = pool()
    stopped = threading.Event()

    def endless(engine: Engine, job: Job[Engine]) -> None:
        for i in range(10_000):
            if job.cancelled.is_set():
                stopped.set()
                return
            job.emit(i)
            time.sleep(0.001)

    async def main() -> list[object]:
        job = p.submit(endless)
        results = job.results()
        seen = [await anext(results) for _ in range(3)]
        await results.aclose()  # type: ignore[attr-defined]
        assert await asyncio.to_thread(stopped.wait, 5)
        quick = p.submit(lambda engine, job: job.emit("next"))
        return seen + await collect(quick)

    try:
        assert asyncio.run(main()) == [0, 1, 2, "next"]
    finally:
        p.close()


def test_a_job_cancelled_while_waiting_never_runs() -> None:
    p = pool()
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        first = p.submit(lambda engine, job: release.wait(5))
        second = p.submit(lambda engine, job: ran.append("second"))
        second.cancelled.set()
        release.set()
        await collect(first)
        await collect(second)

    try:
        asyncio.run(main())
    finally:
        p.close()
    assert ran == []


def test_failures_reach_the_caller() -> None:
    p = pool()

    def fail(engine: Engine, job: Job[Engine]) -> None:
        raise ValueError("boom")

    async def main() -> None:
        with pytest.raises(ValueError, match="boom"):
            await collect(p.submit(fail))

    try:
        asyncio.run(main())
    finally:
        p.close()


def test_a_model_that_fails_to_load_answers_every_request_clearly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Engine:
        raise OSError("no such file: /models/x.gguf")

    p = pool(factory=broken)

    async def main() -> list[ServiceUnavailable]:
        refusals = []
        for _ in range(2):
            with pytest.raises(ServiceUnavailable) as caught:
                await collect(p.submit(lambda engine, job: job.emit(1)))
            refusals.append(caught.value)
        return refusals

    try:
        refusals = asyncio.run(main())
    finally:
        p.close()
    assert isinstance(p.load_error, OSError)
    for refusal in refusals:
        assert (refusal.status, refusal.code) == (503, "model_unavailable")
        assert "'m' could not be loaded" in refusal.message
        assert "/models" not in refusal.message  # no server path to the client
    [logged] = [r for r in caplog.records if r.name == "freehold.workers"]
    assert "no such file: /models/x.gguf" in logged.getMessage()
