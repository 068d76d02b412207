"""Reading what a GGUF file is from its header, on small files written here."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

from freehold.core.importer import MissingExtra
from freehold.modelfiles.gguf_info import quantization_from_filename, read_info, scan

from .conftest import MakeGGUF


def test_read_info(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    path = make_gguf(tmp_path / "tiny.gguf")
    info = read_info(path)
    assert info.path == path
    assert info.size_bytes == path.stat().st_size
    assert (info.architecture, info.name) == ("llama", "tiny-test")
    assert info.quantization == "Q4_K_M"
    assert info.parameters == 32 * 8 + 8 * 8 + 8
    assert info.context_length == 4096
    assert info.has_chat_template is True
    assert info.error is None


@pytest.mark.parametrize(("file_type", "name"), [(0, "F32"), (1, "F16"), (7, "Q8_0")])
def test_file_types_are_named(
    tmp_path: Path, make_gguf: MakeGGUF, file_type: int, name: str
) -> None:
    assert read_info(make_gguf(tmp_path / "m.gguf", file_type=file_type)).quantization == name


def test_without_file_type_the_dominant_tensor_type_is_reported(
    tmp_path: Path, make_gguf: MakeGGUF
) -> None:
    info = read_info(make_gguf(tmp_path / "m.gguf", file_type=None, chat_template=None))
    assert info.quantization == "F32"
    assert info.has_chat_template is False


def test_tensor_data_is_not_loaded(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    path = make_gguf(tmp_path / "big.gguf", rows=1 << 19)  # a 16 MiB tensor
    assert path.stat().st_size > 16_000_000
    tracemalloc.start()
    try:
        info = read_info(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.parameters == (1 << 19) * 8 + 8 * 8 + 8
    assert peak < 2_000_000


def test_scan_lists_gguf_files_only_and_explains_bad_ones(
    tmp_path: Path, make_gguf: MakeGGUF
) -> None:
    make_gguf(tmp_path / "b-good.gguf")
    (tmp_path / "a-broken-Q5_K_M.gguf").write_bytes(b"GGUF not really")
    (tmp_path / "c.gguf.part").write_bytes(b"partial")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dir.gguf").mkdir()
    found = scan(tmp_path)
    assert [f.path.name for f in found] == ["a-broken-Q5_K_M.gguf", "b-good.gguf"]
    broken, good = found
    assert broken.error and "not a readable GGUF file" in broken.error
    assert broken.quantization == "Q5_K_M" and broken.size_bytes == 15
    assert good.error is None and good.quantization == "Q4_K_M"
    assert good.as_dict()["file"] == "b-good.gguf"


def test_scan_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path / "nope") == []


def test_without_gguf_installed_the_error_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gguf", None)
    path = tmp_path / "m-Q4_K_M.gguf"
    path.write_bytes(b"GGUF")
    with pytest.raises(MissingExtra, match=r"pip install 'freehold\[local\]'"):
        read_info(path)
    [info] = scan(tmp_path)
    assert info.quantization == "Q4_K_M" and info.error and "freehold[local]" in info.error


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "Q4_K_M"),
        ("Llama-3.2-1B-Instruct-Q8_0.gguf", "Q8_0"),
        ("model-IQ4_XS.gguf", "IQ4_XS"),
        ("Phi-3.5-mini-instruct-f16.gguf", "F16"),
        ("qwen2.5-1.5b-instruct.gguf", None),
    ],
)
def test_quantization_from_filename(name: str, quant: str | None) -> None:
    assert quantization_from_filename(name) == quant
