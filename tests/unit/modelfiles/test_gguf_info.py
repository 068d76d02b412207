"""Reading what a GGUF file is from its header, on small files written here."""

from __future__ import annotations

import io
import sys
import tracemalloc
from pathlib import Path
from typing import BinaryIO

import pytest

from freehold.modelfiles.gguf_header import Array, read_header
from freehold.modelfiles.gguf_info import (
    FILE_TYPES,
    TENSOR_TYPES,
    quantization_from_filename,
    read_info,
    scan,
)

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


def test_reading_needs_no_optional_library(
    tmp_path: Path, make_gguf: MakeGGUF, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_gguf(tmp_path / "m.gguf")
    for name in ("gguf", "numpy"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    assert read_info(path).quantization == "Q4_K_M"


def test_a_big_vocabulary_is_stepped_over_not_decoded(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    """The cause of a slow `freehold models`: 150k-token vocabularies decoded element by
    element. Reading one must stay small in memory and read the header only."""
    path = make_gguf(tmp_path / "big-vocab.gguf", vocab=200_000, rows=1 << 17)
    tracemalloc.start()
    try:
        info = read_info(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.name, info.quantization, info.context_length) == ("tiny-test", "Q4_K_M", 4096)
    assert peak < 2_000_000  # gguf.GGUFReader peaked at 640 MB here
    with path.open("rb") as file:
        counting = CountingReader(file)
        header = read_header(counting, path.stat().st_size)  # type: ignore[arg-type]
    tokens = header.metadata["tokenizer.ggml.tokens"]
    assert tokens == Array(element_type=8, length=200_000)
    assert header.size < path.stat().st_size - (1 << 17) * 8 * 4  # the tensor data is after it
    assert counting.read_bytes <= header.size + (1 << 18)  # the header, plus one read ahead


class CountingReader:
    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)


def test_a_big_endian_file_reads_the_same(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    little = read_info(make_gguf(tmp_path / "le.gguf", vocab=10))
    big = read_info(make_gguf(tmp_path / "be.gguf", vocab=10, big_endian=True))
    assert big.error is None
    assert (big.architecture, big.quantization, big.parameters, big.context_length) == (
        little.architecture,
        little.quantization,
        little.parameters,
        little.context_length,
    )


def test_every_truncation_is_a_clear_error(tmp_path: Path, make_gguf: MakeGGUF) -> None:
    whole = make_gguf(tmp_path / "m.gguf", vocab=5).read_bytes()
    header_size = read_header(io.BytesIO(whole), len(whole)).size
    cut = tmp_path / "cut.gguf"
    for size in range(header_size):
        cut.write_bytes(whole[:size])
        with pytest.raises(ValueError, match="GGUF"):
            read_info(cut)


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (4, 1, "GGUF version 1 is not supported"),
        (8, 1 << 60, "a tensor table of .* overruns the file"),
        (16, 1 << 60, "a metadata table of .* overruns the file"),
    ],
)
def test_damaged_counts_are_refused_before_anything_is_read(
    tmp_path: Path, make_gguf: MakeGGUF, offset: int, value: int, message: str
) -> None:
    data = bytearray(make_gguf(tmp_path / "m.gguf").read_bytes())
    width = 4 if offset == 4 else 8
    data[offset : offset + width] = value.to_bytes(width, "little")
    with pytest.raises(ValueError, match=message):
        read_header(io.BytesIO(bytes(data)), len(data))


def test_type_names_match_the_gguf_library() -> None:
    gguf = pytest.importorskip("gguf")
    for tensor_type in gguf.GGMLQuantizationType:
        assert TENSOR_TYPES[tensor_type.value] == tensor_type.name
    for file_type in gguf.LlamaFileType:
        if file_type.name != "GUESSED":
            name = file_type.name.removeprefix("MOSTLY_").removeprefix("ALL_")
            assert FILE_TYPES[file_type.value] == name


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
