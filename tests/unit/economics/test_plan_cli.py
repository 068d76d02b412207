"""``freehold plan``: JSON keys, the table, one-line errors (exit 2), the plot."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from freehold.cli.main import cli
from freehold.cli.plan import parse_amount

BASE = [
    "plan",
    "--model",
    "llama-3.1-70b",
    "--quant",
    "fp16",
    "--hardware",
    "a100-80gb",
    "--count",
    "2",
    "--tokens-per-month",
    "10000000",
    "--api-price-per-mtok",
    "0.40",
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="freehold")
    return result.exit_code, result.stdout, result.stderr


def test_json_has_the_promised_keys() -> None:
    code, out, _ = invoke(*BASE, "--json")
    assert code == 0
    data = orjson.loads(out)
    for section, key in [
        ("memory", "weights_gb"),
        ("memory", "kv_cache_gb"),
        ("memory", "total_gb"),
        ("throughput", "decode_tokens_per_s"),
        ("cost", "self_host_per_mtok"),
        ("cost", "api_per_mtok"),
        ("cost", "breakeven_tokens_per_month"),
        ("energy", "wh_per_mtok"),
    ]:
        assert key in data[section]
    assert isinstance(data["fits"], bool)
    assert isinstance(data["assumptions"], list) and data["assumptions"]
    assert data["memory"]["weights_gb"] == pytest.approx(141.2)
    assert data["cost"]["api_per_mtok"] == 0.4


def test_table_for_people() -> None:
    code, out, _ = invoke(
        *BASE[:-2], "--api-input-price-per-mtok", "0.3", "--api-output-price-per-mtok", "0.8"
    )
    assert code == 0
    assert out.startswith("plan: Llama 3.1 70B at 16 bits/weight on 2 × NVIDIA A100 80GB SXM")
    for word in ("weights", "KV cache", "breakeven", "Wh/Mtok", "API price decline", "assumption"):
        assert word in out


def test_raw_numbers_with_suffixes() -> None:
    code, out, _ = invoke("plan", "--params", "70B", "--bits", "16", "--hardware", "h200", "--json")
    assert code == 0
    assert orjson.loads(out)["memory"]["weights_gb"] == 140.0
    assert parse_amount("10M") == 1e7
    assert parse_amount("7e9") == 7e9


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--model", "nope", "--hardware", "h200"],
        ["plan", "--model", "llama-3.1-8b"],
        ["plan", "--params", "lots", "--hardware", "h200"],
        ["plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--count", "0"],
        ["plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--no-such-option"],
        ["plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--pue", "0.5"],
        ["plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--plot", "x.svg"],
        ["plan", "--model", "llama-3.1-8b", "--hardware", "h200", "--catalog", "/nonexistent.yaml"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str]) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("Error: ")


def test_list_ids() -> None:
    code, out, _ = invoke("plan", "--list")
    assert code == 0
    assert "this-machine" in out and "q4_k_m" in out


def test_user_catalog_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "models:\n  tiny:\n    name: Tiny\n    source: https://example.com/tiny\n"
        "    params: {value: 1e+9, unit: parameters}\n"
        "    layers: {value: 2, unit: layers}\n"
        "    kv_heads: {value: 1, unit: heads}\n"
        "    head_dim: {value: 64, unit: values/head}\n"
    )
    code, out, _ = invoke(
        "plan", "--catalog", str(path), "--model", "tiny", "--hardware", "rtx-4090", "--json"
    )
    assert code == 0
    assert orjson.loads(out)["memory"]["weights_gb"] == 2.0


def test_plot_png_and_html(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png, html = tmp_path / "plan.png", tmp_path / "plan.html"
    assert invoke(*BASE, "--plot", str(png))[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert invoke(*BASE, "--json", "--plot", str(html))[0] == 0
    assert "<svg" in html.read_text()
