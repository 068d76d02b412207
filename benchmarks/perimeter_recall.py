"""Perimeter recall and false positives: what the default detectors catch of the recall corpus,
per kind, and how often each detector fires on real prompts that carry nothing sensitive.

    python benchmarks/perimeter_recall.py [--per-kind 100] [--seed 11] [--bench DIR] [--examples N]

(a) Recall. Every request of :func:`freehold.testing.recall_corpus.recall_cases` (one value
each: PII, credentials and custom terms, in many written variants and in prose, code, JSON,
tool calls and results, system prompts, multi-part content, or alone after the assistant's
question) goes through the walker the gateway uses
(:func:`freehold.perimeter.scan.scan_request`) with the default detectors and the corpus's
custom terms. *detected*: the request has a finding, which is what ``block`` needs;
*redacted*: after :func:`~freehold.perimeter.redact.redact_request` no part of the value
is left in the body, which is what ``redact`` needs. The same stream with every value
removed (its carriers) must scan clean, else a detection proves nothing: printed too.

(b) False positives. Every prompt of ``../shared/bench/routing/*.jsonl`` next to the
repository (MMLU, GSM8K and date questions written by people) is scanned by the default
``Scanner(ScanOptions())``; per finding kind, the share of prompts it fires on. A finding
that covers a digit in a GSM8K or date prompt would change the answer once redacted.

``--examples N`` prints up to N misses per kind (the value's shape: ``9`` a digit, ``a``/``A``
a letter) and N prompt snippets per firing kind.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from freehold.perimeter.redact import redact_request
from freehold.perimeter.scan import Scanner, ScanOptions, scan_request
from freehold.testing.bench_prompts import DEFAULT_DIR, bench_dir, read_prompts
from freehold.testing.recall_corpus import SPECS, body_text, exposed, recall_cases
from freehold.testing.sensitive_corpus import CUSTOM_TERMS, Case

ANSWER_TASKS = ("gsm8k", "date")


_PREFIX = re.compile(r"^(?:[a-z]{2,8}\d{0,2}[_-]){1,3}")


def shape(value: str, kind: str, limit: int = 48) -> str:
    """The value with digits as ``9`` and letters as ``a``/``A``: its form, not its secret
    (a credential's issuer prefix, ``sk_live_`` or ``hf_``, is kept)."""
    prefix = _PREFIX.match(value) if SPECS[kind].category == "secret" else None
    head = prefix.group() if prefix else ""
    rest = value[len(head) :]
    masked = head + re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", rest)))
    masked = masked.replace("\n", "⏎")
    return masked if len(masked) <= limit else masked[:limit] + f"…({len(value)} chars)"


def recall(scanner: Scanner, cases: list[Case]) -> dict[str, dict[str, list[Case]]]:
    """kind → {"all", "undetected", "unredacted"} → cases."""
    table: dict[str, dict[str, list[Case]]] = defaultdict(lambda: defaultdict(list))
    for case in cases:
        body = case.body("bench")
        located = scan_request(scanner, body)
        redacted = body_text(redact_request(body, located)[0]) if located else body_text(body)
        for kind, value in zip(case.kinds, case.values, strict=True):
            table[kind]["all"].append(case)
            if not located:
                table[kind]["undetected"].append(case)
            if exposed(redacted, value):
                table[kind]["unredacted"].append(case)
    return table


def print_recall(
    table: dict[str, dict[str, list[Case]]], carriers: list[str], examples: int
) -> None:
    total = sum(len(row["all"]) for row in table.values())
    print(f"(a) recall on the recall corpus: {total:,} values, {len(table)} kinds")
    print(f"{'kind':<26} {'values':>6} {'detected':>9} {'redacted':>9} {'recall':>8}")
    print("-" * 62)
    for kind, row in table.items():
        n, missed = len(row["all"]), len(row["unredacted"])
        detected = n - len(row["undetected"])
        print(f"{kind:<26} {n:>6} {detected:>9} {n - missed:>9} {(n - missed) / n:>8.1%}")
    missed = sum(len(row["unredacted"]) for row in table.values())
    print("-" * 62)
    print(f"{'all':<26} {total:>6} {'':>9} {total - missed:>9} {(total - missed) / total:>8.1%}")
    print(f"carrier requests (values removed) with a finding: {len(carriers)}")
    if examples:
        for line in carriers[:examples]:
            print(f"  {line}")
        print("\nmisses (kind/variant/place: the value's shape):")
        for row in table.values():
            for case in row["unredacted"][:examples]:
                print(f"  {case.name}: {shape(case.values[0], case.kinds[0])}")


def false_positives(
    scanner: Scanner, prompts: list[tuple[str, str]]
) -> tuple[Counter[str], dict[str, list[str]], int]:
    """Prompts each kind fires on, snippets around its findings, and findings that cover a
    digit of a GSM8K or date prompt."""
    fired: Counter[str] = Counter()
    snippets: dict[str, list[str]] = defaultdict(list)
    answer_changing = 0
    for task, prompt in prompts:
        findings = scanner.scan(prompt)
        for kind in {f.kind for f in findings}:
            fired[kind] += 1
        for f in findings:
            around = prompt[max(0, f.start - 30) : f.start] + "[" + f.value + "]"
            snippets[f.kind].append((around + prompt[f.end : f.end + 30]).replace("\n", " "))
            if task.split("/")[0] in ANSWER_TASKS and any(ch.isdigit() for ch in f.value):
                answer_changing += 1
    return fired, snippets, answer_changing


def print_false_positives(prompts: list[tuple[str, str]], scanner: Scanner, examples: int) -> None:
    tasks = Counter(task.split("/")[0] for task, _ in prompts)
    fired, snippets, answer_changing = false_positives(scanner, prompts)
    split = ", ".join(f"{name} {count:,}" for name, count in sorted(tasks.items()))
    print(f"\n(b) false positives on {len(prompts):,} real prompts ({split})")
    print(f"{'kind':<26} {'prompts':>8} {'rate':>8}")
    print("-" * 44)
    for kind, count in fired.most_common():
        print(f"{kind:<26} {count:>8} {count / len(prompts):>8.2%}")
    flagged = sum(1 for _, prompt in prompts if scanner.scan(prompt))
    print("-" * 44)
    print(f"{'any kind':<26} {flagged:>8} {flagged / len(prompts):>8.2%}")
    print(f"findings covering a number in GSM8K/date prompts: {answer_changing}")
    if examples:
        print("\nprompt snippets that fire ([finding]):")
        for kind, texts in snippets.items():
            for text in texts[:examples]:
                print(f"  {kind}: …{text}…")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=100, help="recall values per kind")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bench", type=Path, default=DEFAULT_DIR, help="routing bench folder")
    parser.add_argument("--examples", type=int, default=0, metavar="N", help="misses, snippets")
    args = parser.parse_args()
    started = time.perf_counter()
    scanner = Scanner(ScanOptions(custom_terms=CUSTOM_TERMS))
    cases = recall_cases(args.per_kind, args.seed)
    carriers = [
        f"{case.name}: {sorted({f.finding.kind for f in found})}"
        for case in recall_cases(args.per_kind, args.seed, blank=True)
        if (found := scan_request(scanner, case.body("bench")))
    ]
    print_recall(recall(scanner, cases), carriers, args.examples)
    directory = bench_dir(args.bench)
    if directory is None:
        print(f"\n(b) skipped: no *.jsonl under {args.bench}", file=sys.stderr)
    else:
        print_false_positives(read_prompts(directory), Scanner(ScanOptions()), args.examples)
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
