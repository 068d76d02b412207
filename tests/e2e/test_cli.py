"""The `freehold` command as a user runs it (a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from .conftest import Gateway

MODEL = """
  - name: cloud-big
    backend: openai
    base_url: http://127.0.0.1:9001/v1
    api_key: env:UPSTREAM_KEY
    upstream_model: gpt-4o
    jurisdiction: us
    price: {input_per_mtok: 2.5, output_per_mtok: 10.0}
"""


def freehold(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freehold", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_check_config_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(f"ledger: sqlite:///{tmp_path}/l.db\nmodels:{MODEL}")
    result = freehold("check-config", str(path), env={"UPSTREAM_KEY": "sk-x"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: ok (1 model(s), ledger sqlite)"


def test_check_config_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "server: {port: 99999}\nmodels:\n  - name: a\n    backend: grpc\n"
        "    base_url: ftp://x\n    timeout_s: -1\n"
    )
    result = freehold("check-config", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:server.port: Input should be less than or equal to 65535",
        f"{path}:models[0].backend: Input should be 'openai', 'anthropic' or 'llamacpp'",
        f"{path}:models[0].base_url: String should match pattern '^https?://[^\\s]+$'",
        f"{path}:models[0].timeout_s: Input should be greater than 0",
    ]


def test_every_command_refuses_a_bad_config_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models: [{name: a}]\n")
    for command in (["models"], ["ledger"], ["serve"]):
        result = freehold(*command, "--config", str(path))
        assert result.returncode == 2, command
        assert f"{path}:models[0].backend: required key is missing" in result.stderr


def test_models_json_and_table(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"models:{MODEL}")
    env = {"UPSTREAM_KEY": "sk-x", "FREEHOLD_HOME": str(tmp_path / "home")}
    result = freehold("models", "--config", str(path), "--json", env=env)
    assert json.loads(result.stdout) == {
        "models": [
            {
                "name": "cloud-big",
                "backend": "openai",
                "upstream_model": "gpt-4o",
                "base_url": "http://127.0.0.1:9001/v1",
                "locality": "remote",
                "jurisdiction": "us",
                "input_per_mtok": "2.500000000",
                "output_per_mtok": "10.000000000",
            }
        ],
        "local_files": [],
    }
    table = freehold("models", "--config", str(path), env=env).stdout
    assert table.splitlines()[0].split() == [
        "NAME",
        "BACKEND",
        "UPSTREAM",
        "LOCALITY",
        "JURISDICTION",
        "IN",
        "$/MTOK",
        "OUT",
        "$/MTOK",
    ]
    assert "cloud-big" in table and "sk-x" not in table


def test_config_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"models:{MODEL}")
    result = freehold("models", "--json", env={"FREEHOLD_CONFIG": str(path), "UPSTREAM_KEY": "k"})
    assert [m["name"] for m in json.loads(result.stdout)["models"]] == ["cloud-big"]


def test_ledger_summary_and_export_after_traffic(gateway: Gateway) -> None:
    chat = gateway.url + "/v1/chat/completions"
    for words in ("a", "a b", "a b c"):
        httpx.post(
            chat, json={"model": "cloud-big", "messages": [{"role": "user", "content": words}]}
        )
    httpx.post(
        chat,
        json={"model": "cloud-big", "messages": [{"role": "user", "content": "x [[status:500]]"}]},
    )
    gateway.stop()
    env = {"UPSTREAM_KEY": "k"}
    summary = json.loads(
        freehold("ledger", "--config", str(gateway.config), "--json", env=env).stdout
    )
    assert (summary["requests"], summary["errors"]) == (4, 1)
    # prompts 1+2+3 words; replies "You said: …" 3+4+5 words
    assert (summary["prompt_tokens"], summary["completion_tokens"]) == (6, 12)
    assert summary["spend_usd"] == "0.000135000"  # 6×2.5 + 12×10 per M
    model = summary["models"]["cloud-big"]
    assert (model["requests"], model["errors"]) == (4, 1)

    lines = freehold(
        "ledger", "export", "--config", str(gateway.config), "--format", "jsonl", env=env
    ).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["status"] for r in rows] == [200, 200, 200, 502]
    assert list(rows[0]) == [
        "id",
        "ts",
        "key_id",
        "requested_model",
        "served_model",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "latency_ms",
        "ttft_ms",
        "status",
        "error_type",
        "route",
        "usage_estimated",
        "stream",
        "cost_basis",
        "validation",
        "verdicts",
        "attempts",
        "decision",
        "attempt_log",
        "perimeter",
    ]
    assert [r["cost_usd"] for r in rows] == [
        "0.000032500",
        "0.000045000",
        "0.000057500",
        "0.000000000",
    ]
    table = freehold("ledger", "--config", str(gateway.config), env=env).stdout
    assert "cloud-big" in table


def test_serve_refuses_an_unreachable_ledger_clearly(tmp_path: Path) -> None:
    path = tmp_path / "pg.yaml"
    path.write_text("ledger: postgresql://postgres:hunter2@127.0.0.1:1/x\n")
    result = freehold("serve", "--config", str(path))
    assert result.returncode == 1
    assert "cannot open the ledger postgresql://postgres:***@127.0.0.1:1/x" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_json_and_config_option(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models: [{name: a, backend: openai}]\n")
    result = freehold("check-config", "--config", str(path), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "path": str(path),
        "valid": False,
        "problems": [{"key": "models[0].base_url", "reason": "required key is missing"}],
    }
    # no file named: $FREEHOLD_CONFIG, as every command reads it
    from_env = freehold("check-config", "--json", env={"FREEHOLD_CONFIG": str(path)})
    assert from_env.returncode == 2
    assert json.loads(from_env.stdout)["path"] == str(path)


def test_check_config_builds_validator_specs(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(
        "models:\n  - name: a\n    backend: openai\n    base_url: http://127.0.0.1:9/v1\n"
        "    validators:\n      - {type: json}\n      - {type: regex, pattern: '('}\n"
    )
    result = freehold("check-config", str(path))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{path}:models[0].validators[1].pattern: ")
    serve = freehold("serve", "--config", str(path))
    assert serve.returncode == 1
    assert "models[0].validators[1].pattern" in serve.stderr


def test_route_router_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    path.write_text(
        "models:\n  - {name: a, backend: openai, base_url: 'http://127.0.0.1:9/v1'}\n"
        "  - {name: b, backend: openai, base_url: 'http://127.0.0.1:9/v1'}\n"
        "routes:\n"
        f"  - {{name: p1, policy: predictive, candidates: [a, b], router: {tmp_path}/none.json}}\n"
        f"  - {{name: p2, policy: predictive, candidates: [a, b], router: {tmp_path}/bad.json}}\n"
    )
    result = freehold("check-config", str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:routes[0].router: ")
    assert "No such file" in lines[0]
    assert lines[1] == f"{path}:routes[1].router: not a freehold router file"


def test_check_config_without_a_file_checks_the_zero_config_defaults(tmp_path: Path) -> None:
    """What `freehold serve` with no config would run: the GGUFs in $FREEHOLD_HOME/models,
    the models of the API keys in the environment, the ledger in $FREEHOLD_HOME."""
    home = tmp_path / "home"
    env = {
        "FREEHOLD_HOME": str(home),
        "FREEHOLD_CONFIG": "",
        "OPENAI_API_KEY": "",
        "ANTHROPIC_API_KEY": "sk-ant-zero-config-0123456789",
    }
    result = freehold("check-config", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("zero-config defaults: ok (")
    assert lines[0].endswith(f" model(s), ledger {home / 'ledger.db'})")
    assert lines[1:] and all(
        line.split()[1:] == ["anthropic", "https://api.anthropic.com"] for line in lines[1:]
    )
    assert "sk-ant" not in result.stdout + result.stderr
    data = json.loads(freehold("check-config", "--json", env=env).stdout)
    assert data["path"] is None and data["valid"] is True
    assert (data["source"], data["ledger"]) == ("zero-config defaults", str(home / "ledger.db"))
    assert len(data["models"]) == len(lines) - 1
    # a problem in the defaults is reported as theirs, exit 2
    bad = freehold("check-config", env={**env, "ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": "sk-x",
                                          "FREEHOLD_OPENAI_MODELS": "good,two words"})  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "zero-config defaults:models[1].name: String should match pattern '^[^\\s]+$'"
    ]
