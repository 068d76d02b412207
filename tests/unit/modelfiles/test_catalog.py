"""The shipped catalogue of short names: complete, well-formed, and strictly validated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from freehold.modelfiles.catalog import (
    CatalogError,
    UnknownModel,
    default_models_dir,
    load_catalog,
    lookup,
    parse_catalog,
)

CATALOG = load_catalog()


def test_the_popular_small_models_are_there() -> None:
    assert set(CATALOG) >= {
        "qwen2.5-0.5b",
        "qwen2.5-1.5b",
        "qwen2.5-3b",
        "llama3.2-1b",
        "llama3.2-3b",
        "phi3.5-mini",
    }


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_entry_is_complete_and_verifiable(name: str) -> None:
    entry = CATALOG[name]
    assert entry.name == name
    assert entry.url.startswith("https://")
    assert entry.url.split("?")[0].endswith("/" + entry.filename)
    assert entry.sha256 is not None and re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    assert entry.size_bytes > 100_000_000
    assert entry.quantization == "Q4_K_M"
    assert entry.source.startswith("https://") and entry.filename in entry.source
    assert entry.params and entry.license


def test_hashes_and_urls_are_not_repeated() -> None:
    assert len({e.sha256 for e in CATALOG.values()}) == len(CATALOG)
    assert len({e.url for e in CATALOG.values()}) == len(CATALOG)


def test_lookup_is_case_insensitive_and_lists_known_names() -> None:
    assert lookup("Qwen2.5-0.5B") is CATALOG["qwen2.5-0.5b"]
    with pytest.raises(UnknownModel) as caught:
        lookup("gpt-5")
    assert caught.value.known == sorted(CATALOG)
    assert "qwen2.5-0.5b" in str(caught.value) and "gpt-5" in str(caught.value)


def entry(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "url": "https://example.com/m.gguf",
        "filename": "m.gguf",
        "size_bytes": 10,
        "sha256": "a" * 64,
        "quantization": "Q4_K_M",
        "params": "1B",
        "license": "mit",
        "source": "https://example.com/m",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not ...}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"url": "http://example.com/m.gguf"}, "url: Value error, must be an https:// URL"),
        ({"sha256": "abc"}, "sha256: Value error, must be 64 lower-case hex"),
        ({"size_bytes": 0}, "size_bytes: Input should be greater than 0"),
        ({"filename": "../m.gguf"}, "filename: Value error, must be a plain *.gguf"),
        ({"source": ...}, "source: Field required"),
        ({"extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_malformed_entries_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(problem)):
        parse_catalog({"m": entry(**changes)})


def test_an_unknown_hash_may_be_null() -> None:
    assert parse_catalog({"m": entry(sha256=None)})["m"].sha256 is None


def test_the_catalogue_must_be_a_mapping() -> None:
    with pytest.raises(CatalogError):
        parse_catalog(["m"])
    with pytest.raises(CatalogError):
        parse_catalog({"m": "https://example.com/m.gguf"})


def test_models_live_under_freehold_home(tmp_path: Path) -> None:
    assert default_models_dir({"FREEHOLD_HOME": str(tmp_path)}) == tmp_path / "models"
