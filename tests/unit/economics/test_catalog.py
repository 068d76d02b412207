"""The built-in catalogues: lower-case ids, a unit and a source for every figure."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from freehold.economics import machine
from freehold.economics.catalog import (
    Catalog,
    CatalogError,
    Entry,
    Figure,
    builtin_catalog,
    load_user_catalog,
)

URL_OR_ASSUMPTION = re.compile(r"^(https://\S+|assumption \(as of \d{4}-\d{2}(-\d{2})?\): .+)$")


def test_required_entries_are_there() -> None:
    catalog = builtin_catalog()
    for hw in (
        "a100-40gb",
        "a100-80gb",
        "h100-sxm-80gb",
        "h100-pcie-80gb",
        "h200",
        "l40s",
        "rtx-4090",
        "apple-m2-ultra-192gb",
        "cpu-2s-epyc-9654",
        "this-machine",
    ):
        assert hw in catalog.hardware
    for model in (
        "llama-3.1-8b",
        "llama-3.1-70b",
        "llama-3.1-405b",
        "mistral-7b",
        "mixtral-8x7b",
        "qwen2.5-7b",
        "qwen2.5-72b",
        "deepseek-v3",
        "gpt-oss-20b",
        "gpt-oss-120b",
    ):
        assert model in catalog.models
    for quant in ("fp16", "fp8", "q8_0", "q4_k_m"):
        assert quant in catalog.quant
    assert catalog.quant["q4_k_m"].get("bits_per_weight").value == 4.84
    assert catalog.quant["q8_0"].get("bits_per_weight").value == 8.5


@pytest.mark.parametrize("kind", ["models", "hardware", "quant"])
def test_every_figure_has_a_unit_and_a_source(kind: str) -> None:
    entries: dict[str, Entry] = getattr(builtin_catalog(), kind)
    for ident, entry in entries.items():
        assert ident == ident.lower() == entry.id
        assert entry.figures
        for name, fig in entry.figures.items():
            assert fig.unit, f"{ident}.{name} has no unit"
            assert URL_OR_ASSUMPTION.match(fig.source), f"{ident}.{name}: {fig.source}"


def test_prices_are_sourced_or_dated_assumptions() -> None:
    raw = yaml.safe_load(
        resources.files("freehold.economics").joinpath("hardware.yaml").read_text()
    )
    for ident, body in raw.items():
        for key in ("purchase_usd", "rental_usd_per_hour", "watts"):
            if key in body:
                fig = body[key]
                assert (
                    "source" in fig
                    or ("assumption" in fig and "as_of" in fig)
                    or ("source" in body and key == "watts")
                ), f"{ident}.{key}"


def test_mixture_of_experts_have_active_params() -> None:
    catalog = builtin_catalog()
    for ident in ("mixtral-8x7b", "deepseek-v3", "gpt-oss-20b", "gpt-oss-120b"):
        entry = catalog.models[ident]
        assert entry.get("active_params").value < entry.get("params").value
    assert catalog.models["llama-3.1-70b"].figure("active_params") is None


def test_user_catalog_merges_over_builtin(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "hardware:\n"
        "  a100-80gb:\n"
        "    name: our A100s\n"
        "    memory_gb: {value: 80, unit: GB}\n"
        "    bandwidth_gb_s: {value: 2000, unit: GB/s}\n"
        "    peak_tflops: {value: 300, unit: TFLOP/s}\n"
        "    watts: {value: 400, unit: W}\n"
        "    purchase_usd: {value: 9000, unit: USD, assumption: our invoice, as_of: 2025-05}\n"
    )
    merged = builtin_catalog().merged(load_user_catalog(path))
    entry = merged.lookup("hardware", "A100-80GB")
    assert entry.name == "our A100s"
    assert entry.get("bandwidth_gb_s").source == f"user catalogue {path}"
    assert entry.get("purchase_usd").source == "assumption (as of 2025-05): our invoice"
    assert "h200" in merged.hardware


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quant:\n  Big: {bits_per_weight: {value: 3, unit: bits}}\n", "lower case"),
        ("quant:\n  q3: {bits_per_weight: {value: 3}}\n", "needs a unit"),
        ("quant:\n  q3: {bits_per_weight: {value: 3, unit: b, assumption: x}}\n", "as_of"),
        ("quant:\n  q3: {name: Q3}\n", "missing bits_per_weight"),
        ("widgets: {}\n", "top-level"),
    ],
)
def test_bad_user_catalog(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_user_catalog(path)


def test_unknown_name_lists_the_known() -> None:
    with pytest.raises(CatalogError, match=r"unknown model 'nope' \(known: .*llama-3.1-8b"):
        Catalog().merged(builtin_catalog()).lookup("models", "nope")


def test_this_machine_is_probed(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree: 1 kB\n")
    assert machine.memory_gb(meminfo) == Figure(16.384, "GB", f"measured: MemTotal in {meminfo}")
    entry = builtin_catalog().hardware["this-machine"]
    assert entry.probe
    probed = machine.probe(
        entry,
        bandwidth=lambda: Figure(25.0, "GB/s", "measured: test"),
        memory=lambda: Figure(16.0, "GB", "measured: test"),
    )
    assert not probed.probe
    assert probed.get("bandwidth_gb_s").value == 25.0
    assert probed.get("peak_tflops").source.startswith("estimate:")


def test_bandwidth_benchmark_measures_something() -> None:
    fig = machine.measure_bandwidth_gb_s(size=4_000_000, repeats=2)
    assert fig.value > 0 and fig.unit == "GB/s"
    assert fig.source.startswith(("measured:", "estimate"))
