"""The ledger journal's cost on the request path: ``BatchedWriter.record()`` per row with the
journal off, on, and on with ``fsync``, measured side by side (interleaved rounds) in one run.

    python benchmarks/ledger_journal.py [--rows 5000] [--rounds 5] [--fsync-rows 500]
        [--dir DIR]

Each mode records into its own writer over a real SQLite ledger (its writer thread running,
as in the server), with rows shaped like the gateway's (an attempt log, a perimeter audit).
Prints p50/p99/mean of one ``record()`` call in microseconds, and what the journal adds to
the p50 over the journal-off writer. ``--dir`` puts the ledgers and journals on the disk to
measure (default: a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from freehold.core.stats import percentile
from freehold.ledger import BatchedWriter, LedgerRow
from freehold.ledger.journal import Journal, encode
from freehold.ledger.sqlite import SqliteStore

MODES = ("off", "on", "on+fsync")


def gateway_row(i: int) -> LedgerRow:
    """A row as the gateway records a plain 200 answer."""
    return LedgerRow(
        id=f"req_{i:024x}",
        ts=datetime.now(UTC),
        key_id="key_3f9a0c1b2d4e",
        requested_model="cloud-big",
        served_model="cloud-big",
        prompt_tokens=412,
        completion_tokens=96,
        cost_usd=Decimal("0.001990000"),
        latency_ms=812.431,
        ttft_ms=812.431,
        status=200,
        error_type=None,
        route="",
        usage_estimated=False,
        stream=False,
        attempt_log=(
            {
                "model": "cloud-big",
                "prompt_tokens": 412,
                "completion_tokens": 96,
                "cost_usd": "0.001990000",
                "calls": 1,
                "validation": "",
            },
        ),
        perimeter={"findings": {}, "label": "public", "policy": None, "egress": "remote/us"},
    )


def pct(values: list[float], p: int) -> float:
    return percentile(values, p) or 0.0


def make_writer(mode: str, root: Path) -> tuple[BatchedWriter, SqliteStore]:
    store = SqliteStore(root / f"ledger-{mode}.db")
    store.migrate()
    journal = None
    if mode != "off":
        journal = Journal(root / f"journal-{mode}", fsync=mode == "on+fsync")
    writer = BatchedWriter(store, journal=journal)
    writer.start()
    return writer, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per mode per round")
    parser.add_argument("--fsync-rows", type=int, default=500, help="rows per round with fsync")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        writers = {mode: make_writer(mode, root) for mode in MODES}
        samples: dict[str, list[float]] = {mode: [] for mode in MODES}
        serial = 0
        for _ in range(args.rounds):
            for mode in MODES:
                writer = writers[mode][0]
                count = args.fsync_rows if mode == "on+fsync" else args.rows
                rows = [gateway_row(serial + i) for i in range(count)]
                serial += count
                timings = samples[mode]
                for row in rows:
                    start = time.perf_counter_ns()
                    writer.record(row)
                    timings.append((time.perf_counter_ns() - start) / 1000)
                writer.flush(timeout=60)
        for writer, store in writers.values():
            writer.close()
            store.close()

    line = len(encode(gateway_row(0)) or b"")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {sys.platform}; "
        f"{args.rounds} interleaved rounds; journal line {line} bytes; "
        f"disk: {args.dir or tempfile.gettempdir()}\n"
    )
    header = (
        f"{'journal':<10}{'rows':>8}{'p50 µs':>10}{'p99 µs':>10}{'mean µs':>10}{'added p50':>11}"
    )
    print(header)
    print("-" * len(header))
    base = pct(samples["off"], 50)
    for mode in MODES:
        values = samples[mode]
        p50 = pct(values, 50)
        print(
            f"{mode:<10}{len(values):>8}{p50:>10.2f}{pct(values, 99):>10.2f}"
            f"{statistics.fmean(values):>10.2f}{p50 - base:>11.2f}"
        )


if __name__ == "__main__":
    main()
