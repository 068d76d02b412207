"""How well the ``number`` and ``arithmetic`` validators judge a cheap model's GSM8K answers.

    python benchmarks/validators_gsm8k.py [--data PATH] [--json] [--examples N] [--repeat R]

Reads the routing benchmark's GSM8K development split (default
``../shared/bench/routing/gsm8k-dev.jsonl`` next to the repository; the data is not copied
into the project) and, for Mixtral-8x7B-Instruct's recorded responses:

- ``number`` with ``equals`` = the reference answer, against the recorded score: an upper
  bound on what a final-answer check can do (it reads the reference, which a router may not);
- ``arithmetic`` (no reference): how many wrong answers it flags (recall), how many right
  answers it flags (false alarms), its precision;
- the time each validator takes per record (p50 / p99, µs, best of ``--repeat`` runs).

``--examples N`` prints N flagged steps of wrong answers and every flagged right answer.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.core.types import Verdict
from freehold.validate.arithmetic import ArithmeticValidator
from freehold.validate.base import Answer
from freehold.validate.number_check import NumberValidator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "routing" / "gsm8k-dev.jsonl"
CHEAP = "mixtral-8x7b-instruct-v0.1"


@dataclass
class Record:
    id: str
    reference: str
    response: str
    right: bool


def load(path: Path) -> list[Record]:
    if not path.is_file():
        sys.exit(
            f"error: no data at {path}\n"
            "This benchmark reads the routing benchmark's GSM8K split, which is not part of the"
            " project; pass its path with --data."
        )
    records = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            outcome = row.get("outcomes", {}).get(CHEAP, {})
            if "response" in outcome and "reference" in row:
                right = float(outcome["score"]) >= 1.0
                records.append(Record(row["id"], row["reference"], outcome["response"], right))
    if not records:
        sys.exit(f"error: {path} holds no {CHEAP} responses with a reference")
    return records


def timed(check: Callable[[Answer], Verdict], answer: Answer, repeat: int) -> tuple[Verdict, int]:
    elapsed = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        verdict = check(answer)
        elapsed.append(time.perf_counter_ns() - start)
    return verdict, min(elapsed)


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1000


def measure(records: list[Record], repeat: int) -> dict[str, Any]:
    arithmetic = ArithmeticValidator.from_spec({"type": "arithmetic"})
    counts: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    times: dict[str, list[int]] = {"number": [], "arithmetic": []}
    flagged: list[tuple[Record, Verdict]] = []
    for record in records:
        answer = Answer(text=record.response)
        number = NumberValidator.from_spec({"type": "number", "equals": record.reference})
        verdict, elapsed = timed(number.check, answer, repeat)
        times["number"].append(elapsed)
        sources[verdict.details.get("source", "none")] += 1
        counts[f"number_{'right' if record.right else 'wrong'}_{verdict.passed}"] += 1
        verdict, elapsed = timed(arithmetic.check, answer, repeat)
        times["arithmetic"].append(elapsed)
        label = "right" if record.right else "wrong"
        counts[f"arith_{label}_{'flagged' if not verdict.passed else 'passed'}"] += 1
        counts["steps"] += verdict.details["steps_checked"]
        counts["with_steps"] += verdict.details["steps_checked"] > 0
        if not verdict.passed:
            flagged.append((record, verdict))
    return figures(records, counts, sources, times) | {"_flagged": flagged}


def figures(
    records: list[Record],
    counts: Counter[str],
    sources: Counter[str],
    times: dict[str, list[int]],
) -> dict[str, Any]:
    right = sum(record.right for record in records)
    wrong = len(records) - right
    flagged_wrong, flagged_right = counts["arith_wrong_flagged"], counts["arith_right_flagged"]
    flagged = flagged_wrong + flagged_right
    agree = counts["number_right_True"] + counts["number_wrong_False"]
    return {
        "data": {"records": len(records), "right": right, "wrong": wrong, "model": CHEAP},
        "number": {
            "agreement": agree / len(records),
            "right_confirmed": counts["number_right_True"],
            "right_missed": counts["number_right_False"],
            "wrong_marked_right": counts["number_wrong_True"],
            "wrong_caught": counts["number_wrong_False"],
            "sources": dict(sources.most_common()),
        },
        "arithmetic": {
            "wrong_flagged": flagged_wrong,
            "recall": flagged_wrong / wrong if wrong else 0.0,
            "right_flagged": flagged_right,
            "false_alarm_rate": flagged_right / right if right else 0.0,
            "precision": flagged_wrong / flagged if flagged else 0.0,
            "records_with_steps": counts["with_steps"],
            "steps_checked": counts["steps"],
        },
        "time_us": {
            name: {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99)}
            for name, values in times.items()
        },
    }


def table(result: dict[str, Any]) -> str:
    data, number, arith = result["data"], result["number"], result["arithmetic"]
    lines = [
        f"python {platform.python_version()}, {data['records']} GSM8K dev records, {data['model']}:"
        f" {data['right']} right, {data['wrong']} wrong (recorded score)",
        "",
        "validator    measure                                          value",
        "-" * 70,
        f"number       agreement with the recorded score (reads ref.)   {number['agreement']:.3f}",
        f"number       right answers it confirms                        "
        f"{number['right_confirmed']}/{data['right']}",
        f"number       wrong answers it marks right                     "
        f"{number['wrong_marked_right']}/{data['wrong']}",
        f"arithmetic   wrong answers flagged (recall)                   "
        f"{arith['wrong_flagged']}/{data['wrong']} = {arith['recall']:.3f}",
        f"arithmetic   right answers flagged (false alarms)             "
        f"{arith['right_flagged']}/{data['right']} = {arith['false_alarm_rate']:.3f}",
        f"arithmetic   precision of a flag                              {arith['precision']:.3f}",
        f"arithmetic   records with a checked step / steps checked      "
        f"{arith['records_with_steps']} / {arith['steps_checked']}",
    ]
    for name, timing in result["time_us"].items():
        lines.append(
            f"{name:<12} time per record, p50 / p99 (µs)                  "
            f"{timing['p50']:.0f} / {timing['p99']:.0f}"
        )
    sources = ", ".join(f"{source} {count}" for source, count in number["sources"].items())
    lines += ["", f"number: final answer found by: {sources}"]
    return "\n".join(lines)


def examples(flagged: list[tuple[Record, Verdict]], count: int) -> str:
    lines = ["", "flagged wrong answers (first steps):"]
    wrong = [(r, v) for r, v in flagged if not r.right][:count]
    right = [(r, v) for r, v in flagged if r.right]
    for title, group in (("", wrong), ("flagged right answers (false alarms):", right)):
        if title:
            lines += ["", title]
        for record, verdict in group:
            for step in verdict.details["wrong"][:2]:
                lines.append(
                    f"  {record.id}: {step['expression']} = {step['stated']}"
                    f"  (computed {step['computed']})"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GSM8K dev JSONL")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--examples", type=int, default=0, metavar="N", help="flagged steps")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per record")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    result = measure(load(args.data), args.repeat)
    flagged = result.pop("_flagged")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    if args.examples:
        print(examples(flagged, args.examples))


if __name__ == "__main__":
    main()
