"""``freehold pull`` and ``freehold models`` through click, against a local file server."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from freehold.cli.main import cli
from freehold.modelfiles.catalog import CatalogEntry, load_catalog
from freehold.testing.file_server import FileServer

from .conftest import MakeGGUF

DATA = random.Random(11).randbytes(150_000)
DIGEST = hashlib.sha256(DATA).hexdigest()
NAME = "tiny-Q4_K_M.gguf"


def run(home: Path, *args: str) -> Result:
    env = {"FREEHOLD_HOME": str(home), "FREEHOLD_CONFIG": None}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_pull_by_url_into_the_models_directory(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, cut_after=70_000) as server:
        result = run(tmp_path, "pull", server.url(NAME), "--sha256", DIGEST, "--json")
    assert result.exit_code == 0, result.output
    path = tmp_path / "models" / NAME
    assert json.loads(result.stdout) == {
        "path": str(path),
        "size_bytes": len(DATA),
        "sha256": DIGEST,
        "verified": True,
    }
    assert path.read_bytes() == DATA
    assert [r.range for r in server.requests] == [None, "bytes=70000-"]


def test_pull_without_a_hash_reports_it_unverified(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}) as server:
        result = run(tmp_path, "pull", server.url(NAME), "--to", str(tmp_path / "elsewhere"))
    assert result.exit_code == 0, result.output
    assert f"saved: {tmp_path / 'elsewhere' / NAME}" in result.stdout
    assert f"sha256 {DIGEST} (unverified" in result.stdout
    with FileServer({NAME: DATA}) as server:
        again = run(tmp_path, "pull", server.url(NAME), "--to", str(tmp_path / "elsewhere"))
    assert "already present" in again.stdout and server.requests == []


def test_hash_mismatch_exits_1_with_one_line_and_no_file(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}) as server:
        result = run(tmp_path, "pull", server.url(NAME), "--sha256", "f" * 64)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: SHA-256 mismatch") and DIGEST in line
    assert "Traceback" not in result.output
    assert list((tmp_path / "models").iterdir()) == []


def test_http_404_exits_1(tmp_path: Path) -> None:
    with FileServer({}) as server:
        result = run(tmp_path, "pull", server.url(NAME))
    assert result.exit_code == 1
    assert "error: HTTP 404" in result.stderr


def test_unknown_name_exits_2_and_lists_the_known_ones(tmp_path: Path) -> None:
    result = run(tmp_path, "pull", "no-such-model")
    assert result.exit_code == 2
    assert "unknown model 'no-such-model'" in result.stderr
    for name in load_catalog():
        assert name in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["file:///etc/passwd"],
        ["qwen2.5-0.5b", "--sha256", "nothex"],
        ["qwen2.5-0.5b", "--sha256", "0" * 64],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, "pull", *args)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "models").exists()


def test_pull_by_short_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pull_module = importlib.import_module("freehold.cli.pull")
    with FileServer({"remote-name.gguf": DATA}) as server:
        entry = CatalogEntry.model_construct(
            name="tiny",
            url=server.url("remote-name.gguf"),
            filename="tiny-local.gguf",
            size_bytes=len(DATA),
            sha256=DIGEST,
            quantization="Q4_K_M",
            params="1M",
            license="mit",
            source="https://example.com/tiny",
        )
        monkeypatch.setattr(pull_module, "lookup", lambda name: entry)
        result = run(tmp_path, "pull", "tiny", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] is True
    assert (tmp_path / "models" / "tiny-local.gguf").read_bytes() == DATA


def test_models_lists_local_files(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    make_gguf(models_dir / "tiny.gguf")
    (models_dir / "half.gguf.part").write_bytes(b"partial")
    result = run(tmp_path, "models", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data["models"], list)
    [local] = data["local_files"]
    assert local["file"] == "tiny.gguf" and local["quantization"] == "Q4_K_M"
    assert local["size_bytes"] == (models_dir / "tiny.gguf").stat().st_size
    table = run(tmp_path, "models").stdout
    assert f"Local model files ({models_dir}):" in table
    row = next(line for line in table.splitlines() if line.startswith("tiny.gguf"))
    assert row.split()[:5] == ["tiny.gguf", *row.split()[1:3], "Q4_K_M", "llama"]
    assert "half.gguf.part" not in table


#: runs `freehold models --json`, then says which heavy libraries it imported
LIST_AND_REPORT_IMPORTS = """
import json, sys
sys.argv = ["freehold", "models", "--json"]
from freehold.cli.main import main
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = ("gguf", "numpy", "llama_cpp")
sys.stderr.write(json.dumps([name for name in heavy if name in sys.modules]))
"""


def test_listing_models_reads_headers_without_heavy_libraries(
    tmp_path: Path, make_gguf: MakeGGUF
) -> None:
    """`freehold models` took 8-16 s: ``gguf.GGUFReader`` decoded every vocabulary entry of
    every file. The header reader needs neither gguf nor numpy, nor llama.cpp."""
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    make_gguf(models_dir / "Big-Vocab-Q4_K_M.gguf", vocab=50_000)
    (models_dir / "broken.gguf").write_bytes(b"GGUF")
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"FREEHOLD_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
        },
        "FREEHOLD_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", LIST_AND_REPORT_IMPORTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stderr.splitlines()[-1]) == []
    listing = json.loads(done.stdout)
    assert [m["name"] for m in listing["models"]] == ["Big-Vocab-Q4_K_M", "broken"]
    big, broken = listing["local_files"]
    assert (big["quantization"], big["context_length"], big["error"]) == ("Q4_K_M", 4096, None)
    assert "not a readable GGUF file" in broken["error"]


def test_models_without_local_files_says_how_to_pull(tmp_path: Path) -> None:
    result = run(tmp_path, "models")
    assert result.exit_code == 0, result.output
    assert "freehold pull NAME" in result.stdout
    assert json.loads(run(tmp_path, "models", "--json").stdout)["local_files"] == []


def test_list_shows_the_catalogue() -> None:
    from click.testing import CliRunner

    from freehold.cli.main import cli
    from freehold.modelfiles import load_catalog

    result = CliRunner().invoke(cli, ["pull", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["NAME", "SIZE", "QUANT"]
    assert {line.split()[0] for line in lines[2:]} == set(load_catalog())
    listed = CliRunner().invoke(cli, ["pull", "--list", "--json"])
    assert [m["name"] for m in __import__("json").loads(listed.output)["models"]] == list(
        load_catalog()
    )
    assert CliRunner().invoke(cli, ["pull"]).exit_code == 2
