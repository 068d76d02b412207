"""False positives on a generated corpus of realistic prompts with no sensitive data.

The corpus (1,200 prompts, seeded) mixes what users paste into a gateway every day: code with
git SHAs, SHA-256 digests, UUIDs and hex colours; prices, dates, times, version numbers,
order and invoice numbers, tracking codes, maths, log lines, SQL, CSS, JSON configs, stack
traces, URLs and file paths. A prompt counts as a false positive if the default scanner
reports anything in it.

Bound: at most 1%. A perimeter that blocks or redacts requires that ordinary prompts pass
almost always — at 1% a team sending 100 prompts a day meets one spurious redaction a day,
which is the most a reviewer will tolerate before turning the perimeter off; every
checksum-validated detector's share (Luhn/mod-97/Verhoeff pass ~10%/1%/10% of random digit
runs of the right shape) stays well below that because candidates must first match format
rules. The measured rate is printed (``pytest -s``) and is 0% at the time of writing.
"""

from __future__ import annotations

import hashlib
import random
import uuid

from freehold.perimeter.scan import Scanner

N_PROMPTS = 1_200
MAX_FALSE_POSITIVE_RATE = 0.01

WORDS = [
    "report", "revenue", "customer", "churn", "quarterly", "growth", "summary", "model",
    "latency", "budget", "team", "review", "deploy", "service", "cache", "query", "index",
    "table", "column", "schema", "migration", "release", "feature", "bug", "test", "invoice",
    "order", "shipment", "delivery", "price", "discount", "total", "average", "median",
    "variance", "estimate",
]  # fmt: skip
LANGS = ["python", "javascript", "go", "rust", "sql", "css", "bash", "json", "yaml"]


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sha1(rng: random.Random) -> str:
    return hashlib.sha1(rng.randbytes(16)).hexdigest()


def _sha256(rng: random.Random) -> str:
    return hashlib.sha256(rng.randbytes(16)).hexdigest()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _colour(rng: random.Random) -> str:
    return "#" + "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(rng.choice([3, 6])))


def _version(rng: random.Random) -> str:
    parts = [str(rng.randint(0, 20)) for _ in range(rng.choice([2, 3, 3, 4]))]
    return rng.choice(["", "v"]) + ".".join(parts)


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm = rng.randint(0, 23), rng.randint(0, 59)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}/{m:02d}/{y}",
            f"{m}/{d}/{y}",
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:00Z",
        ]
    )


def _price(rng: random.Random) -> str:
    amount = rng.uniform(0.5, 2_000_000)
    return rng.choice([f"${amount:,.2f}", f"€{amount:.2f}", f"{amount:,.0f} USD", f"£{amount:.0f}"])


def _order(rng: random.Random) -> str:
    return rng.choice([
        f"#{rng.randint(10_000, 9_999_999)}",
        f"ORD-{rng.randint(2019, 2026)}-{rng.randint(0, 999_999):06d}",
        f"INV{rng.randint(100_000, 99_999_999)}",
        f"order {rng.randint(100_000_000, 999_999_999)}",
        f"PO-{rng.randint(1000, 9999)}-{rng.choice('ABCDEFGH')}{rng.randint(10, 99)}",
        f"1Z{rng.randint(100, 999)}AA{rng.randint(10**9, 10**10 - 1)}",
    ])  # fmt: skip


def _maths(rng: random.Random) -> str:
    a, b = rng.randint(2, 10_000), rng.randint(2, 10_000)
    return rng.choice([
        f"What is {a} * {b}? I got {a * b}.",
        f"Solve {a}x + {b} = {a * 3 + b} for x.",
        f"integrate x^{a % 7} from 0 to {b % 20}",
        "pi ≈ 3.14159265358979, e ≈ 2.718281828459045, sqrt(2) = 1.4142135623730951",
        f"The matrix [[{a}, {b}], [{b}, {a}]] has determinant {a * a - b * b}.",
        f"{a}/{b} = {a / b:.12f}",
    ])  # fmt: skip


def _code(rng: random.Random) -> str:
    lang = rng.choice(LANGS)
    word, n, port = rng.choice(WORDS), rng.randint(1, 10**6), rng.randint(1024, 65535)
    snippets = {
        "python": (
            f"def load_{word}(path: str) -> dict:\n    # commit {_sha1(rng)}\n"
            f"    cache_key = '{_sha256(rng)}'\n"
            f"    return {{'id': '{_uuid(rng)}', 'v': '{_version(rng)}'}}"
        ),
        "javascript": (
            f"const theme = {{ primary: '{_colour(rng)}', accent: '{_colour(rng)}' }};\n"
            f"fetch('/api/v1/orders/{n}').then(r => r.json());"
        ),
        "go": (
            f"func Handle{word.title()}(w http.ResponseWriter, r *http.Request) {{\n"
            f'\tid := uuid.MustParse("{_uuid(rng)}")\n'
            f'\tlog.Printf("took %dms", {n % 999})\n}}'
        ),
        "rust": (
            "use std::collections::HashMap;\n"
            f"fn main() {{ let x: u64 = {rng.randint(0, 2**40)}; "
            'println!("{}", x); std::process::exit(0); }'
        ),
        "sql": (
            f"SELECT order_id, SUM(amount) FROM orders WHERE created_at > '{_date(rng)}' "
            f"AND total > {n % 10_000} GROUP BY order_id LIMIT {n % 500};"
        ),
        "css": (
            f".btn-{word} {{ color: {_colour(rng)}; background: {_colour(rng)}; "
            f"margin: {n % 40}px {n % 17}px; }}"
        ),
        "bash": (
            f"git checkout {_sha1(rng)[: rng.choice([7, 12, 40])]} && pip install "
            f"numpy=={_version(rng).lstrip('v')} && docker run -p 8080:80 app:{_version(rng)}"
        ),
        "json": (
            f'{{"id": "{_uuid(rng)}", "created": "{_date(rng)}", '
            f'"amount": {rng.uniform(1, 9999):.2f}, "etag": "{_sha256(rng)[:32]}", '
            f'"count": {rng.randint(0, 10**9)}}}'
        ),
        "yaml": (
            f"image: registry.example.com/team/app:{_version(rng)}\n"
            f"replicas: {n % 9 + 1}\ndigest: sha256:{_sha256(rng)}\nport: {port}"
        ),
    }
    return f"Can you review this {lang} code?\n```{lang}\n{snippets[lang]}\n```"


def _log(rng: random.Random) -> str:
    return (
        f"{_date(rng)} INFO [worker-{rng.randint(1, 32)}] request {_uuid(rng)} completed in "
        f"{rng.uniform(0.1, 999):.1f}ms status={rng.choice([200, 201, 404, 500])} "
        f"bytes={rng.randint(0, 10**7)} trace={_sha1(rng)[:16]}"
    )


def _trace(rng: random.Random) -> str:
    return (
        'Traceback (most recent call last):\n  File "/srv/app/handlers/'
        f'{rng.choice(WORDS)}.py", line {rng.randint(1, 2000)}, in handle\n'
        f"KeyError: '{rng.choice(WORDS)}_{rng.randint(1, 99)}'"
    )


def _prose(rng: random.Random) -> str:
    return rng.choice([
        f"Summarise the {_words(rng, 6)} for Q{rng.randint(1, 4)} {rng.randint(2015, 2026)}; "
        f"revenue was {_price(rng)}, up {rng.uniform(0, 40):.1f}% since {_date(rng)}.",
        f"My order {_order(rng)} placed on {_date(rng)} for {_price(rng)} has not arrived. "
        f"Tracking says {rng.randint(1, 9)} days. What should I write to support?",
        f"Upgrade from {_version(rng)} to {_version(rng)} broke the {_words(rng, 3)}; "
        f"see https://docs.example.com/{rng.choice(WORDS)}/{rng.randint(1, 300)}"
        f"#section-{rng.randint(1, 9)}",
        f"Meeting at {rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])} in room "
        f"{rng.randint(100, 999)}, building {rng.choice('ABCDE')}, floor {rng.randint(1, 30)}.",
        f"Translate into French: the {_words(rng, 8)} costs {_price(rng)} per unit.",
        f"The server at localhost:{rng.randint(1024, 65535)} (127.0.0.1) returns HTTP 502.",
    ])  # fmt: skip


GENERATORS = [_code, _code, _code, _log, _trace, _prose, _prose, _prose, _maths]


def clean_corpus(seed: int = 20261123, n: int = N_PROMPTS) -> list[str]:
    """``n`` prompts of one to four pieces each, about 100–1,000 characters."""
    rng = random.Random(seed)
    return [
        "\n\n".join(rng.choice(GENERATORS)(rng) for _ in range(rng.randint(1, 4))) for _ in range(n)
    ]


def test_the_corpus_is_large_and_varied() -> None:
    corpus = clean_corpus()
    assert len(corpus) >= 1_000
    assert len(set(corpus)) >= 0.99 * len(corpus)  # a few one-piece prompts repeat


def test_false_positive_rate_on_clean_prompts_is_below_the_bound(scanner: Scanner) -> None:
    corpus = clean_corpus()
    flagged = [(prompt, scanner.scan(prompt)) for prompt in corpus]
    flagged = [(p, f) for p, f in flagged if f]
    rate = len(flagged) / len(corpus)
    kinds = sorted({finding.kind for _, found in flagged for finding in found})
    print(f"\nperimeter clean-corpus false-positive rate: {rate:.2%} "
          f"({len(flagged)}/{len(corpus)} prompts; kinds: {kinds or 'none'})")  # fmt: skip
    assert rate <= MAX_FALSE_POSITIVE_RATE, kinds
