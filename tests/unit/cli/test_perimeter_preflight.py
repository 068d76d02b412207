"""The perimeter's settings at start: extra credential rule files that do not load and a
spaCy pipeline that is not installed are start-up problems; the summary says which
detectors run and that names are not detected without the ``names`` family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from freehold.api.summary import startup_summary
from freehold.cli.preflight import perimeter_problems
from freehold.config import Settings, parse_settings

MODEL = {"name": "m", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}


def settings(perimeter: dict[str, Any] | None) -> Settings:
    data: dict[str, Any] = {"models": [MODEL]}
    if perimeter is not None:
        data["perimeter"] = perimeter
    return parse_settings(data, "c.yaml", {})


def test_a_rule_file_that_does_not_load_is_named_with_its_rule(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[[rules]]\nid = 'acme'\nregex = '''acme_[0-9]{8}'''\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]]\nid = 'broken'\nregex = '''(acme'''\n")
    found = perimeter_problems(settings({"secret_rules": [str(good), str(bad)]}))
    assert len(found) == 1
    key, reason = found[0]
    assert key == "perimeter.secret_rules[1]"
    assert str(bad) in reason and "'broken'" in reason


def test_a_names_pipeline_that_is_not_installed_is_a_problem(tmp_path: Path) -> None:
    import importlib.util

    config = settings({"detectors": ["pii", "names"], "names_model": "no_such_spacy_pipeline"})
    found = perimeter_problems(config)
    if importlib.util.find_spec("spacy") is None:
        assert found == []  # the missing extra is reported by extra_problems instead
    else:
        assert found == [
            (
                "perimeter.names_model",
                "the spaCy pipeline 'no_such_spacy_pipeline' is not installed: "
                "python -m spacy download no_such_spacy_pipeline",
            )
        ]
    path_config = settings({"detectors": ["names"], "names_model": str(tmp_path / "absent")})
    if importlib.util.find_spec("spacy") is not None:
        assert [k for k, _ in perimeter_problems(path_config)] == ["perimeter.names_model"]


def test_the_summary_says_what_the_perimeter_detects() -> None:
    line = next(x for x in startup_summary(settings({})) if "enforced:" in x)
    assert "data perimeter on (pii, phones, secrets, entropy; names and addresses not " in line
    named = settings({"detectors": ["pii", "names"]})
    line = next(x for x in startup_summary(named) if "enforced:" in x)
    assert "data perimeter on (pii, names)" in line
    line = next(x for x in startup_summary(settings(None)) if "enforced:" in x)
    assert "no data perimeter" in line
