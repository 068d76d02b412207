"""The credential rule set: gitleaks' rules vendored verbatim and compiled for Python,
freehold's own rules, operators' extra rule files, and the refresh from a release."""

from __future__ import annotations

import hashlib
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from freehold.perimeter.go_regex import python_pattern, repeats_a_group
from freehold.perimeter.rule_refresh import main as refresh_main
from freehold.perimeter.rule_refresh import refresh
from freehold.perimeter.rule_set import (
    RuleFileError,
    bundled_rules,
    kind_of,
    load_rule_file,
    load_rules,
    parse_rules,
)
from freehold.perimeter.scan import Scanner, ScanOptions
from freehold.perimeter.secrets import SecretDetector
from freehold.testing.file_server import FileServer

RULES = resources.files("freehold.perimeter") / "rules"


def found(detector: SecretDetector, text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in detector.find(text)]


# ---- the vendored copy ------------------------------------------------------------------


def test_the_vendored_gitleaks_rules_are_the_release_named_in_source_toml() -> None:
    source = tomllib.loads((RULES / "SOURCE.toml").read_text())
    text = (RULES / "gitleaks.toml").read_text()
    assert hashlib.sha256(text.encode()).hexdigest() == source["sha256"], "edited by hand?"
    assert source["license"] == "MIT"
    assert "MIT License" in (RULES / "LICENSE-gitleaks").read_text()
    assert len(parse_rules(text, "gitleaks.toml").rules) == source["rules"]


def test_every_bundled_rule_compiles_and_only_file_path_rules_are_skipped() -> None:
    rules = bundled_rules()
    raw = tomllib.loads((RULES / "gitleaks.toml").read_text())["rules"]
    assert len(raw) >= 200
    gitleaks_loaded = [r for r in rules.rules if r.origin == "gitleaks.toml"]
    assert len(gitleaks_loaded) + len(rules.skipped) == len(raw)
    assert set(rules.skipped.values()) == {"applies to files by path, not to prompts"}
    assert {r["id"] for r in raw if "path" in r} == set(rules.skipped)
    assert len({r.id for r in rules.rules}) == len(rules.rules)


def test_the_major_hubs_registries_and_clouds_have_rules() -> None:
    ids = {rule.id for rule in bundled_rules().rules}
    wanted = {
        "huggingface-access-token", "npm-access-token", "pypi-upload-token", "dockerhub-pat",
        "github-pat", "gitlab-pat", "aws-access-token", "aws-secret-access-key", "gcp-api-key",
        "azure-ad-client-secret", "openai-api-key", "anthropic-api-key", "slack-webhook-url",
        "microsoft-teams-webhook", "discord-webhook-url", "stripe-access-token",
        "url-password", "password-assignment", "password-setting", "generic-api-key",
    }  # fmt: skip
    assert wanted <= ids, wanted - ids


# ---- Go (RE2) to Python ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("go", "python"),
    [
        (r"\b(p8e-(?i)[a-z0-9]{4})x", r"(?=[p])\b(p8e-(?i:[a-z0-9]{4}))x"),  # scoped flags
        (r"ab(?i)cd", r"ab(?i:cd)"),  # ... or to the end
        (r"(?i)abc", r"(?i)abc"),  # leading flags stay global
        (r"a\z", r"a\Z"),
        (r"\b(pat[[:alnum:]]{14})", r"(?=[p])\b(pat[a-zA-Z0-9]{14})"),
        (r"\b(hvs\.x|s\.y)", r"(?=[hs])\b(hvs\.x|s\.y)"),  # the first letters of a group
        (r"(?-i:[Aa]pi|API)", r"(?-i:[Aa]pi|API)"),
        (r"[\w.-]{0,50}?(?:adafruit)x", r"(?:adafruit)x"),  # lazy prefix dropped
        (r"x(?:[\x60'" '"' r"\s;]|\\[nr]|$)", r"x(?:[\x60'" '"' r"\s;.,:!?)\]}>|&\\]|$)"),
        (r"(?i)(?:key|(?-i:[Aa]pi|API))=", r"(?i)(?=[AKak])(?:key|(?-i:[Aa]pi|API))="),
    ],
)
def test_go_patterns_are_rewritten_for_python(go: str, python: str) -> None:
    assert python_pattern(go) == python
    re.compile(python_pattern(go))


@pytest.mark.parametrize(
    ("pattern", "repeats"),
    [("a(b)c", False), ("a(b){3}", True), ("a(?:b)+", False), ("[(]+(x)", False),
     (r"\(x\)+", False), ("(?P<v>x)*", True)],
)  # fmt: skip
def test_a_repeated_capturing_group_is_recognised(pattern: str, repeats: bool) -> None:
    assert repeats_a_group(pattern) is repeats


def test_a_scoped_flag_keeps_gitleaks_meaning() -> None:
    pattern = re.compile(python_pattern(r"\b(LTAI(?i)[a-z0-9]{4})\b"))
    assert pattern.search("LTAIaBcD")
    assert not pattern.search("ltaiabcd")  # the prefix stays case-sensitive


# ---- rule semantics ---------------------------------------------------------------------


def rules(text: str) -> SecretDetector:
    return SecretDetector(parse_rules(text, "test.toml"))


def test_keywords_gate_a_rule() -> None:
    detector = rules("[[rules]]\nid = 'x'\nregex = '''tok_[0-9]{6}'''\nkeywords = ['tok_']\n")
    assert found(detector, "a TOK_123456 b") == []  # the regex is case-sensitive
    assert found(detector, "a tok_123456 b") == [("x", "tok_123456")]
    gated = rules("[[rules]]\nid = 'x'\nregex = '''[0-9]{6}'''\nkeywords = ['code']\n")
    assert found(gated, "123456") == []
    assert found(gated, "CODE 123456") == [("x", "123456")]


def test_the_secret_group_entropy_and_stopwords() -> None:
    detector = rules(
        "[[rules]]\nid = 'x'\nregex = '''k=([a-z0-9]{8})'''\nentropy = 2.5\n"
        "[[rules.allowlists]]\nstopwords = ['dead']\n"
    )
    assert found(detector, "k=a1b2c3d4") == [("x", "a1b2c3d4")]
    assert found(detector, "k=aaaaaaaa") == []  # entropy 0
    assert found(detector, "k=deadb33f") == []  # stopword


def test_allowlist_targets_and_conditions() -> None:
    detector = rules(
        "[[rules]]\nid = 'x'\nregex = '''k=([a-z0-9]{8})'''\n"
        "[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''^#''']\n"
        "[[rules.allowlists]]\ncondition = 'AND'\nregexes = ['''^a''']\nstopwords = ['zz']\n"
    )
    assert found(detector, "# k=a1b2c3d4") == []  # a comment line
    assert found(detector, "k=a1b2c3d4") == [("x", "a1b2c3d4")]  # AND: no stopword
    assert found(detector, "k=a1b2zz99") == []  # AND: both


def test_global_allowlists_for_all_rules_or_targeted_ones() -> None:
    text = (
        "[[allowlists]]\nregexes = ['''^0+$''']\n"
        "[[allowlists]]\ntargetRules = ['y']\nregexes = ['''^1''']\n"
        "[[rules]]\nid = 'x'\nregex = '''x=([0-9]{6})'''\n"
        "[[rules]]\nid = 'y'\nregex = '''y=([0-9]{6})'''\n"
    )
    detector = rules(text)
    assert found(detector, "x=000000 y=000000") == []
    assert found(detector, "x=123456 y=123456") == [("x", "123456")]


def test_a_repeated_group_is_structure_and_the_whole_match_is_reported() -> None:
    detector = rules("[[rules]]\nid = 'x'\nregex = '''https://h/([a-f]{2}-){2}[0-9]{8}'''\n")
    assert found(detector, "see https://h/ab-cd-12345678 now") == [
        ("x", "https://h/ab-cd-12345678")
    ]


def test_kinds() -> None:
    assert kind_of("huggingface-access-token") == "huggingface_access_token"
    assert kind_of("github-fine-grained-pat") == "github_token"  # freehold's earlier kind
    assert kind_of("openai-style-key") == "openai_key"
    assert kind_of("password-setting") == "password"


# ---- extra files and errors ---------------------------------------------------------------


def test_an_extra_rule_file_adds_rules_and_replaces_same_ids(tmp_path: Path) -> None:
    extra = tmp_path / "ours.toml"
    extra.write_text(
        "[[rules]]\nid = 'acme-token'\nregex = '''\\bacme_[a-z0-9]{16}\\b'''\n"
        "keywords = ['acme_']\n"
        "[[rules]]\nid = 'npm-access-token'\nregex = '''\\bnpm_NEVER\\b'''\n"
    )
    merged = load_rules([extra])
    detector = SecretDetector(merged)
    assert found(detector, "ACME=acme_0123456789abcdef") == [
        ("acme_token", "acme_0123456789abcdef")
    ]
    assert found(detector, "npm_" + "a1" * 18) == []  # replaced by the extra file
    assert merged.origins[-1] == str(extra)
    scanner = Scanner(ScanOptions(families=frozenset({"secrets"}), secret_rule_files=(str(extra),)))
    assert [f.kind for f in scanner.scan("token acme_0123456789abcdef")] == ["acme_token"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules = [", "not TOML"),
        ("[[rules]]\nregex = 'x'\n", "a rule without an id"),
        ("[[rules]]\nid = 'bad'\nregex = '''(unclosed'''\n", "rule 'bad': the regex does not"),
        ("[[rules]]\nid = 'x'\nregex = 'x'\n[[rules.allowlists]]\nregexTarget = 'file'\n"
         "regexes = ['a']\n", "regexTarget must be"),
        ("rules = 3\n", "must be an array of tables"),
    ],
)  # fmt: skip
def test_bad_rule_files_say_which_file_and_rule(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_missing_rule_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="cannot read the rule file"):
        load_rules([tmp_path / "absent.toml"])


# ---- refreshing from a release ------------------------------------------------------------


def release(rules: int) -> dict[str, bytes]:
    body = "".join(
        f"[[rules]]\nid = 'r{n}'\nregex = '''\\btk{n}_[a-z0-9]{{20}}\\b'''\nkeywords = ['tk{n}_']\n"
        for n in range(rules)
    )
    return {
        "v9.0.0/config/gitleaks.toml": body.encode(),
        "v9.0.0/LICENSE": b"MIT License\n\nCopyright (c) 2019 Zachary Rice\n",
    }


def test_refresh_downloads_checks_and_records_a_release(tmp_path: Path) -> None:
    with FileServer(release(120)) as server:
        base = server.url("{tag}/{path}")
        done = refresh("v9.0.0", base_url=base, dest=tmp_path)
    assert done.rules == 120
    written = (tmp_path / "gitleaks.toml").read_text()
    source = tomllib.loads((tmp_path / "SOURCE.toml").read_text())
    assert source["release"] == "v9.0.0" and source["rules"] == 120
    assert source["sha256"] == hashlib.sha256(written.encode()).hexdigest()
    assert (tmp_path / "LICENSE-gitleaks").read_text().startswith("MIT License")


def test_refresh_refuses_a_download_that_is_not_a_rule_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gitleaks.toml").write_text("kept")
    with FileServer(release(3)) as server:
        code = refresh_main(
            ["--tag", "v9.0.0", "--base-url", server.url("{tag}/{path}"), "--dest", str(tmp_path)]
        )
    assert code == 1
    assert "only 3 rules" in capsys.readouterr().err
    assert (tmp_path / "gitleaks.toml").read_text() == "kept"
