"""``freehold bench route`` and ``freehold router train`` on a generated record file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from freehold.cli.main import cli
from freehold.routing.learners import load

WEAK, STRONG = "mixtral-8x7b-instruct-v0.1", "gpt-4-1106-preview"
KEYS = {
    "file",
    "policy",
    "apgr",
    "cpt50",
    "cpt80",
    "cost_at_95",
    "weak",
    "strong",
    "oracle_share",
}


def make_records(path: Path, n: int = 60, tasks: int = 3, seed: int = 0) -> Path:
    """Records where long prompts defeat the weak model more often."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        hard = rng.random() < 0.5
        words = rng.randint(30, 60) if hard else rng.randint(3, 10)
        prompt = " ".join(
            rng.choice(["sum", "apples", "theorem", "why", "7", "cost"]) for _ in range(words)
        )
        weak_ok = rng.random() < (0.3 if hard else 0.9)
        row = {
            "id": f"r{i}",
            "task": f"task{i % tasks}",
            "prompt": prompt,
            "reference": "7",
            "outcomes": {
                WEAK: {
                    "score": float(weak_ok),
                    "response": f"3 + 4 = 7\n#### {7 if weak_ok else 8}",
                },
                STRONG: {"score": float(rng.random() < 0.9)},
            },
        }
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def test_json_output_has_exactly_the_specified_keys(tmp_path: Path) -> None:
    records = make_records(tmp_path / "dev.jsonl")
    policies = ["predictive", "cascade", "random", "oracle"]
    args = ["bench", "route", "--train", str(records), "--json"]
    result = CliRunner().invoke(cli, args + [a for p in policies for a in ("--policy", p)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["results"]
    assert [row["policy"] for row in data["results"]] == policies
    for row in data["results"]:
        assert set(row) == KEYS
        assert row["file"] == "dev.jsonl"
    random_row = data["results"][2]
    assert random_row["apgr"] == pytest.approx(0.5)
    assert random_row["cpt50"] == pytest.approx(0.5)
    assert data["results"][3]["apgr"] > random_row["apgr"]
    assert "264 completion tokens" in result.stderr


def test_train_and_test_files_give_one_row_per_file_and_policy(tmp_path: Path) -> None:
    train = make_records(tmp_path / "train.jsonl", seed=1)
    test_a = make_records(tmp_path / "a.jsonl", seed=2)
    test_b = make_records(tmp_path / "b.jsonl", seed=3)
    code, out = run(
        [
            *("bench", "route", "--policy", "predictive", "--policy", "random"),
            *("--train", str(train), "--test", str(test_a), "--test", str(test_b), "--json"),
        ]
    )
    assert code == 0, out
    rows = json.loads(out[out.index("{") :])["results"]
    assert [(r["file"], r["policy"]) for r in rows] == [
        ("a.jsonl", "predictive"),
        ("a.jsonl", "random"),
        ("b.jsonl", "predictive"),
        ("b.jsonl", "random"),
    ]


def test_table_output_names_the_cost_assumption(tmp_path: Path) -> None:
    records = make_records(tmp_path / "dev.jsonl")
    code, out = run(["bench", "route", "--policy", "cascade", "--train", str(records)])
    assert code == 0, out
    assert "cost assumption" in out and "APGR" in out and "cascade" in out


def test_learned_policies_need_training_data(tmp_path: Path) -> None:
    records = make_records(tmp_path / "dev.jsonl")
    code, out = run(["bench", "route", "--policy", "predictive", "--test", str(records)])
    assert code == 2 and "need --train" in out
    code, out = run(["bench", "route", "--policy", "oracle", "--test", str(records)])
    assert code == 0, out


def test_unknown_models_need_names(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    row = {
        "id": "a",
        "task": "t",
        "prompt": "p",
        "outcomes": {"a": {"score": 1}, "b": {"score": 0}},
    }
    path.write_text(json.dumps(row) + "\n")
    code, out = run(["bench", "route", "--policy", "random", "--train", str(path)])
    assert code == 1 and "--weak/--strong" in out


def test_router_train_writes_a_loadable_artefact(tmp_path: Path) -> None:
    records = make_records(tmp_path / "dev.jsonl")
    out_path = tmp_path / "cascade.json"
    code, out = run(
        [
            *("router", "train", "--policy", "cascade", "--records", str(records)),
            *("--out", str(out_path), "--json"),
        ]
    )
    assert code == 0, out
    summary = json.loads(out)
    router = load(out_path)
    assert router.policy == "cascade" and router.trained_on == 60
    assert summary["fingerprint"] == router.fingerprint
    assert router.extra == {"weak": WEAK, "strong": STRONG}


def test_plot_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    real = importlib.import_module

    def no_matplotlib(name: str, package: str | None = None) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    records = make_records(tmp_path / "dev.jsonl")
    plot = tmp_path / "p.png"
    code, out = run(
        ["bench", "route", "--policy", "random", "--train", str(records), "--plot", str(plot)]
    )
    assert code == 1 and "pip install matplotlib" in out
    assert "APGR" in out  # the results were printed first
