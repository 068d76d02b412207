"""What a GGUF file is, read from its header: architecture, name, quantization, parameter
count, context length, chat template.

The header is parsed by ``gguf_header`` in plain Python: no optional dependency, no tensor
data read, the vocabulary stepped over rather than decoded, so listing a directory of
multi-gigabyte models reads their headers only (a few megabytes at most).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.modelfiles.gguf_header import Header, read_header

_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[0-9A-Z]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE
)

#: ggml's tensor types (``enum ggml_type`` in ggml.h) by number
TENSOR_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0", 42: "Q2_0",
}  # fmt: skip

#: llama.cpp's whole-file types (``general.file_type``, ``enum llama_ftype`` in llama.h)
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}  # fmt: skip
FILE_TYPE_GUESSED = 1024


@dataclass(frozen=True)
class GGUFInfo:
    """A GGUF file and what its header says. ``error`` is set when the header could not be
    read (then the other fields are what the file name and size alone tell)."""

    path: Path
    size_bytes: int
    architecture: str | None = None
    name: str | None = None
    quantization: str | None = None
    parameters: int | None = None
    context_length: int | None = None
    has_chat_template: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "file": self.path.name,
            "size_bytes": self.size_bytes,
            "architecture": self.architecture,
            "name": self.name,
            "quantization": self.quantization,
            "parameters": self.parameters,
            "context_length": self.context_length,
            "has_chat_template": self.has_chat_template,
            "error": self.error,
        }


def read_info(path: str | os.PathLike[str]) -> GGUFInfo:
    """Read a GGUF file's header. Raises ``ValueError``/``OSError`` for a file that is not
    (a complete) GGUF."""
    file = Path(path)
    with file.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        header = read_header(handle, size)
    architecture = _string(header, "general.architecture")
    context = _integer(header, f"{architecture}.context_length") if architecture else None
    return GGUFInfo(
        path=file,
        size_bytes=size,
        architecture=architecture,
        name=_string(header, "general.name"),
        quantization=_quantization(header),
        parameters=sum(t.elements for t in header.tensors) or None,
        context_length=context,
        has_chat_template="tokenizer.chat_template" in header.metadata,
    )


def scan(models_dir: str | os.PathLike[str]) -> list[GGUFInfo]:
    """Every ``*.gguf`` directly in ``models_dir`` (``.part`` downloads are not), sorted by
    name. A file whose header cannot be read is still listed, with ``error`` set."""
    directory = Path(models_dir)
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())
    return [_info_or_error(p) for p in files]


def quantization_from_filename(name: str) -> str | None:
    """The quantization a file name advertises (``…-Q4_K_M.gguf`` → ``Q4_K_M``), if any."""
    matches = _QUANT_IN_NAME.findall(Path(name).stem)
    return matches[-1].upper() if matches else None


def _info_or_error(path: Path) -> GGUFInfo:
    try:
        return read_info(path)
    except Exception as exc:  # a truncated or foreign file: list it, say why
        error = f"not a readable GGUF file: {exc}"
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return GGUFInfo(
        path=path, size_bytes=size, quantization=quantization_from_filename(path.name), error=error
    )


def _quantization(header: Header) -> str | None:
    file_type = _integer(header, "general.file_type")
    if file_type is not None and file_type != FILE_TYPE_GUESSED:
        return FILE_TYPES.get(file_type, f"file_type {file_type}")
    return _dominant_tensor_type(header)


def _dominant_tensor_type(header: Header) -> str | None:
    """Without ``general.file_type``: the type holding most of the weights."""
    counts: dict[str, int] = {}
    for tensor in header.tensors:
        key = TENSOR_TYPES.get(tensor.type, f"type {tensor.type}")
        counts[key] = counts.get(key, 0) + tensor.elements
    return max(counts, key=lambda k: counts[k]) if counts else None


def _string(header: Header, key: str) -> str | None:
    value = header.metadata.get(key)
    return value if isinstance(value, str) else None


def _integer(header: Header, key: str) -> int | None:
    value = header.metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
