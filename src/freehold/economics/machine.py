"""``this-machine``: the hardware entry probed at run time (only when it is asked for).

* memory: ``MemTotal`` from ``/proc/meminfo`` (kB × 1024 bytes ÷ 1e9 = GB); without it
  (not Linux) ``os.sysconf`` pages × page size
* bandwidth: measured by copying a 256 MB numpy array a few times, best of 5: bytes moved
  = 2 × size (one read, one write) ÷ seconds. Without numpy the figure is an estimate of
  20 GB/s (dual-channel DDR4), and its source says so.
* peak FLOP/s: an estimate, CPU count × 2.5e9 Hz × 16 FLOP/cycle (AVX2 FMA, FP32).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from freehold.economics.catalog import Entry, Figure

COPY_BYTES = 256_000_000
ESTIMATED_BANDWIDTH_GB_S = 20.0
HZ, FLOP_PER_CYCLE = 2.5e9, 16


def memory_gb(meminfo: Path = Path("/proc/meminfo")) -> Figure:
    """Total memory in GB, from /proc/meminfo or sysconf."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                kb = float(line.split()[1])
                return Figure(kb * 1024 / 1e9, "GB", f"measured: MemTotal in {meminfo}")
    except OSError:
        pass
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return Figure(total / 1e9, "GB", "measured: sysconf physical pages × page size")


def measure_bandwidth_gb_s(size: int = COPY_BYTES, repeats: int = 5) -> Figure:
    """Memory bandwidth from a numpy copy (2 × size bytes moved), else a marked estimate."""
    try:
        np = importlib.import_module("numpy")
    except ImportError:
        return Figure(
            ESTIMATED_BANDWIDTH_GB_S,
            "GB/s",
            "estimate (numpy not installed, no copy benchmark): dual-channel DDR4",
        )
    src = np.ones(size, dtype=np.uint8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    rate = 2 * size / best / 1e9
    return Figure(rate, "GB/s", f"measured: numpy copy of {size / 1e6:.0f} MB, best of {repeats}")


def peak_flops() -> Figure:
    cpus = os.cpu_count() or 1
    tflops = cpus * HZ * FLOP_PER_CYCLE / 1e12
    return Figure(
        tflops, "TFLOP/s", f"estimate: {cpus} CPUs × 2.5 GHz × 16 FP32 FLOP/cycle (AVX2 FMA)"
    )


def probe(
    entry: Entry,
    bandwidth: Callable[[], Figure] = measure_bandwidth_gb_s,
    memory: Callable[[], Figure] = memory_gb,
) -> Entry:
    """``entry`` with memory, bandwidth and peak FLOP/s measured or estimated here."""
    figures = dict(entry.figures)
    figures.update(memory_gb=memory(), bandwidth_gb_s=bandwidth(), peak_tflops=peak_flops())
    return replace(entry, figures=figures, probe=False)
