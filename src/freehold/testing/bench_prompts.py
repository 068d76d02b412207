"""The prompts of the routing benchmark's development splits, as real clean text.

``../shared/bench/routing/*.jsonl`` next to the repository holds 9,000+ questions written by
people (MMLU, GSM8K, BIG-Bench date understanding) full of numbers, dates and names and
free of personal data and credentials: what a perimeter must let through untouched. The
data is not part of the project; :func:`bench_dir` says whether it is there.

Example::

    directory = bench_dir()
    prompts = read_prompts(directory) if directory else []
    prompts[0]  # ('date', 'Yesterday was April 30, 2021. What is the date today in MM/DD/YYYY?')
"""

from __future__ import annotations

import json
from pathlib import Path

#: Where the splits live: ``shared/bench/routing`` beside the repository root.
DEFAULT_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "bench" / "routing"


def bench_dir(directory: Path = DEFAULT_DIR) -> Path | None:
    """``directory`` if it holds benchmark files (``*.jsonl``), else ``None``."""
    return directory if directory.is_dir() and any(directory.glob("*.jsonl")) else None


def read_prompts(directory: Path = DEFAULT_DIR) -> list[tuple[str, str]]:
    """``(task, prompt)`` of every record of every ``*.jsonl`` file in ``directory``, files
    in name order; ``task`` is the record's (``gsm8k``, ``date``, ``mmlu/anatomy``, …)."""
    prompts = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    prompts.append((str(record.get("task", path.stem)), str(record["prompt"])))
    return prompts
