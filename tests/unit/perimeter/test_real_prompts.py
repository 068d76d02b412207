"""False positives on real clean text: the 9,000+ prompts of the routing benchmark
(``../shared/bench/routing/*.jsonl``: MMLU, GSM8K and date questions written by people, with
numbers, dates and names, and no personal data or credentials).

Bounds, with the default ``Scanner(ScanOptions())``:

- each detector (finding kind) fires on at most 0.5% of the prompts: at that rate a team
  sending 200 ordinary prompts a day meets one spurious redaction or refusal a day from it;
- no finding covers a number (or a month's name) in a GSM8K prompt or in a date prompt:
  redacting it would change the question, and so the answer.

``-s`` prints the rate per kind.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from freehold.perimeter.scan import Scanner
from freehold.testing.bench_prompts import DEFAULT_DIR, bench_dir, read_prompts

MAX_RATE = 0.005
ANSWER_TASKS = ("gsm8k", "date")
MONTH = re.compile(r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")

_DIR = bench_dir()
pytestmark = pytest.mark.skipif(
    _DIR is None, reason=f"the routing benchmark's prompts are not at {DEFAULT_DIR}"
)


@pytest.fixture(scope="module")
def prompts() -> list[tuple[str, str]]:
    assert _DIR is not None
    return read_prompts(_DIR)


def test_the_prompts_are_the_benchmark(prompts: list[tuple[str, str]]) -> None:
    tasks = Counter(task.split("/")[0] for task, _ in prompts)
    assert len(prompts) >= 9000
    assert tasks["gsm8k"] >= 600 and tasks["date"] >= 150 and tasks["mmlu"] >= 8000


def test_each_detector_fires_on_at_most_half_a_percent(
    scanner: Scanner, prompts: list[tuple[str, str]]
) -> None:
    fired: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for _, prompt in prompts:
        findings = scanner.scan(prompt)
        for finding in findings:
            if finding.kind not in examples:
                start, end = max(0, finding.start - 25), finding.end + 25
                examples[finding.kind] = " ".join(prompt[start:end].split())
        fired.update({f.kind for f in findings})
    print(f"\nfalse positives on {len(prompts):,} real prompts, per kind:")
    for kind, count in fired.most_common():
        print(f"  {kind:<28} {count:>5}  {count / len(prompts):.2%}  e.g. …{examples[kind]}…")
    if not fired:
        print("  none")
    over = {k: f"{n / len(prompts):.2%}" for k, n in fired.items() if n > MAX_RATE * len(prompts)}
    assert over == {}, f"over {MAX_RATE:.1%}: {over}; e.g. {[examples[k] for k in over]}"


def test_no_finding_covers_a_number_of_a_maths_or_date_question(
    scanner: Scanner, prompts: list[tuple[str, str]]
) -> None:
    changed = [
        f"{task}: {finding.kind} …{prompt[max(0, finding.start - 25) : finding.end + 25]}…"
        for task, prompt in prompts
        if task.split("/")[0] in ANSWER_TASKS
        for finding in scanner.scan(prompt)
        if any(ch.isdigit() for ch in finding.value) or MONTH.search(finding.value)
    ]
    assert changed == [], f"{len(changed)} findings would change an answer: {changed[:10]}"
