"""Perimeter detector latency: how long the default scanner takes on one 1 KB prompt.

    python benchmarks/perimeter_detectors.py [--iterations 2000] [--terms 100000]

Builds the default :class:`~freehold.perimeter.scan.Scanner` (PII, phones, secrets, entropy)
and one with ``--terms`` custom terms as well, then times ``scan`` one call at a time on
1 KB prompts: clean text (prose and code with hashes, UUIDs, prices, versions), text with
findings (an e-mail, a card, a phone, an IBAN, a token, an IP) and, with the terms loaded,
both again. Prints p50/p99 in milliseconds per prompt, the build time of the terms, and
the time of one scan of each of a few 100 KB adversarial texts.
Needs ``freehold[perimeter]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time

from freehold.perimeter.scan import Scanner, ScanOptions

CLEAN = (
    "Please review the quarterly report and summarise the main risks for the board, then "
    "translate the summary into French. Revenue was $1,234,567.89, up 12.5% since 2024-03-31; "
    "order ORD-2025-004211 shipped on 03/04/2025. Upgrade from v3.11.4 to 3.12.1 broke the "
    "cache. ```python\ndef load(path: str) -> dict:\n"
    "    # commit 3f786850e387550fdab836ed7e6dc881de23001b\n"
    "    cache_key = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n"
    "    return {'id': '123e4567-e89b-12d3-a456-426614174000', 'colour': '#ff00aa'}\n```\n"
    "What is 4079 * 2113? The matrix [[3, 4], [4, 3]] has determinant -7. Meeting at 10:30 in "
    "room 204, building B. The server at localhost:8080 (127.0.0.1) returns HTTP 502; see "
    "https://docs.example.com/guide/42#section-3 for the runbook and the retry budget. "
)
FINDINGS = (
    "Hi, I'm Ana (ana.silva@example.org, +44 20 7946 0958). Please refund card "
    "4111 1111 1111 1111 to IBAN DE89 3704 0044 0532 0130 00. The deploy token is "
    "ghp_Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6 and the API host is 192.168.10.4. "
)


#: Texts that make careless patterns backtrack or findings pile up.
ADVERSARIAL = {
    "`api_key = ` × 10,000": "api_key = " * 10_000,
    "`password: ` × 10,000": "password: " * 10_000,
    "`key=<160 hex> ` × 600": ("key=" + "0123456789abcdef" * 10 + " ") * 600,
    "`-----BEGIN PRIVATE KEY-----` × 3,000": "-----BEGIN PRIVATE KEY-----" * 3_000,
    "a private key header and 100,000 base64 chars": "-----BEGIN RSA PRIVATE KEY-----\n"
    + "A" * 100_000,
    "`x://a:` × 20,000": "x://a:" * 20_000,
    "`token ` and 100,000 alphanumerics": "token " + "a1" * 50_000,
}


def one_kb(seed_text: str) -> str:
    text = seed_text
    while len(text) < 1024:
        text += CLEAN
    return text[:1024]


def make_terms(n: int, rng: random.Random) -> dict[str, str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sha", "dor", "lin"]
    terms: dict[str, str] = {}
    while len(terms) < n:
        words = [
            "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(1, 3))
        ]
        terms[" ".join(w.title() for w in words) + rng.choice(["", " Ltd", " GmbH", ""])] = (
            rng.choice(["customer", "codename"])
        )
    return terms


def timings(scanner: Scanner, texts: list[str], iterations: int) -> tuple[float, float]:
    samples = []
    for i in range(iterations):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        scanner.scan(text)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--terms", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(1)

    default = Scanner(ScanOptions())
    terms = make_terms(args.terms, rng)
    started = time.perf_counter()
    with_terms = Scanner(ScanOptions(custom_terms=terms))
    build_s = time.perf_counter() - started
    some_term = next(iter(terms))

    def variants(seed: str) -> list[str]:
        noise = ["".join(rng.choice(string.ascii_lowercase) for _ in range(6)) for _ in range(20)]
        return [one_kb(f"{w} {seed}") for w in noise]

    clean = variants("")
    found = variants(FINDINGS)
    term_text = variants(f"Ask {some_term} about it. " + FINDINGS)
    assert not default.scan(clean[0]), "the clean prompt should be clean"
    assert default.scan(found[0])
    assert with_terms.scan(term_text[0])

    rows = [
        ("default detectors", "clean 1 KB", default, clean),
        ("default detectors", "1 KB with findings", default, found),
        (f"+ {args.terms:,} terms", "clean 1 KB", with_terms, clean),
        (f"+ {args.terms:,} terms", "1 KB with findings + term", with_terms, term_text),
    ]
    for _, _, scanner, texts in rows:  # warm up
        timings(scanner, texts, 50)
    print(f"{'scanner':<22} {'prompt':<28} {'p50 ms':>8} {'p99 ms':>8}")
    for name, prompt, scanner, texts in rows:
        p50, p99 = timings(scanner, texts, args.iterations)
        print(f"{name:<22} {prompt:<28} {p50:>8.3f} {p99:>8.3f}")
    print(f"\nbuild time for {args.terms:,} custom terms: {build_s:.2f} s")
    print("\nadversarial 100 KB texts (one call each, default detectors; no regex backtracks):")
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        default.scan(text)
        print(f"  {name:<44} {(time.perf_counter() - started) * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
