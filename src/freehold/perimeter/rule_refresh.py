"""Refresh the vendored gitleaks rules from a gitleaks release: how the bundled credential
rules are kept current.

    python -m freehold.perimeter.rule_refresh --tag v8.30.1

downloads ``config/gitleaks.toml`` and ``LICENSE`` of that release, checks that every rule
loads and compiles under freehold's translation (:mod:`freehold.perimeter.rule_set`), and
only then replaces ``rules/gitleaks.toml``, ``rules/LICENSE-gitleaks`` and
``rules/SOURCE.toml`` (release, URLs, SHA-256, rule count). A maintainer runs it, runs the
perimeter tests (the corpus tests measure recall and false positives) and commits the
three files. ``tests/unit/perimeter/test_rule_set.py`` fails if the vendored file is edited
by hand (its digest must match ``SOURCE.toml``).

Operators who want a newer release before freehold ships it list the file in
``perimeter.secret_rules`` instead; it replaces the bundled rules with the same ids.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from freehold.perimeter.rule_set import RuleFileError, parse_rules

RELEASE_URL = "https://raw.githubusercontent.com/gitleaks/gitleaks/{tag}/{path}"
RULES_DIR = Path(__file__).parent / "rules"
#: Fewer rules than this means the download is not gitleaks' default configuration.
MIN_RULES = 100


@dataclass(frozen=True)
class Refreshed:
    tag: str
    rules: int
    skipped: int
    sha256: str


def _download(url: str, timeout_s: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        data: bytes = response.read()
    return data.decode("utf-8")


def source_record(tag: str, config_url: str, license_url: str, text: str, rules: int) -> str:
    """The text of ``SOURCE.toml``."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return (
        "# Where rules/gitleaks.toml comes from; written by freehold.perimeter.rule_refresh.\n"
        f'release = "{tag}"\n'
        f'config_url = "{config_url}"\n'
        f'license_url = "{license_url}"\n'
        'license = "MIT"\n'
        f'sha256 = "{digest}"\n'
        f"rules = {rules}\n"
    )


def refresh(
    tag: str, *, base_url: str = RELEASE_URL, dest: Path = RULES_DIR, timeout_s: float = 30
) -> Refreshed:
    """Download, check and write the rules of release ``tag`` into ``dest``."""
    config_url = base_url.format(tag=tag, path="config/gitleaks.toml")
    license_url = base_url.format(tag=tag, path="LICENSE")
    text = _download(config_url, timeout_s)
    licence = _download(license_url, timeout_s)
    rule_set = parse_rules(text, config_url)  # raises RuleFileError on any bad rule
    if len(rule_set.rules) < MIN_RULES:
        raise RuleFileError(
            f"{config_url}: only {len(rule_set.rules)} rules; not gitleaks' default config"
        )
    if "MIT License" not in licence:
        raise RuleFileError(f"{license_url}: not the MIT licence the rules are vendored under")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "gitleaks.toml").write_text(text, encoding="utf-8")
    (dest / "LICENSE-gitleaks").write_text(licence, encoding="utf-8")
    record = source_record(tag, config_url, license_url, text, len(rule_set.rules))
    (dest / "SOURCE.toml").write_text(record, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Refreshed(tag, len(rule_set.rules), len(rule_set.skipped), digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", required=True, help="gitleaks release tag, e.g. v8.30.1")
    parser.add_argument("--base-url", default=RELEASE_URL, help="URL with {tag} and {path}")
    parser.add_argument("--dest", type=Path, default=RULES_DIR, help="the rules folder")
    args = parser.parse_args(argv)
    try:
        done = refresh(args.tag, base_url=args.base_url, dest=args.dest)
    except (OSError, RuleFileError, UnicodeDecodeError) as exc:
        print(f"rule refresh failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"gitleaks {done.tag}: {done.rules} rules loaded ({done.skipped} file-path rules "
        f"skipped), sha256 {done.sha256}; now run the perimeter tests and commit"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
