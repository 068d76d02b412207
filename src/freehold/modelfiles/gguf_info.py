"""What a GGUF file is, read from its header: architecture, name, quantization, parameter
count, context length, chat template.

``gguf.GGUFReader`` memory-maps the file and only parses the header and tensor table, so
reading a multi-gigabyte model touches a few kilobytes. ``gguf`` is an optional dependency
(``pip install 'freehold[local]'``), imported only when a file is actually read.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.core.importer import MissingExtra

INSTALL_HINT = "pip install 'freehold[local]'"
_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[0-9A-Z]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE
)


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
    """Read a GGUF file's header. Raises :class:`MissingExtra` without ``gguf``,
    ``ValueError``/``OSError`` for a file that is not (a complete) GGUF."""
    gguf = _import_gguf()
    file = Path(path)
    size = file.stat().st_size
    reader = gguf.GGUFReader(file, "r")
    try:
        architecture = _string(reader, "general.architecture")
        context = _integer(reader, f"{architecture}.context_length") if architecture else None
        return GGUFInfo(
            path=file,
            size_bytes=size,
            architecture=architecture,
            name=_string(reader, "general.name"),
            quantization=_quantization(gguf, reader),
            parameters=sum(int(t.n_elements) for t in reader.tensors) or None,
            context_length=context,
            has_chat_template="tokenizer.chat_template" in reader.fields,
        )
    finally:
        del reader  # drop the memory map now rather than at the next collection


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
    except MissingExtra as exc:
        error = str(exc)
    except Exception as exc:  # a truncated or foreign file: list it, say why
        error = f"not a readable GGUF file: {exc}"
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return GGUFInfo(
        path=path, size_bytes=size, quantization=quantization_from_filename(path.name), error=error
    )


def _import_gguf() -> Any:
    try:
        return importlib.import_module("gguf")
    except ImportError:
        raise MissingExtra(
            f"reading GGUF metadata needs the optional dependency 'gguf': {INSTALL_HINT}"
        ) from None


def _quantization(gguf: Any, reader: Any) -> str | None:
    file_type = _integer(reader, "general.file_type")
    if file_type is not None:
        try:
            name = str(gguf.LlamaFileType(file_type).name)
        except ValueError:
            return f"file_type {file_type}"
        if name != "GUESSED":
            return name.removeprefix("MOSTLY_").removeprefix("ALL_")
    return _dominant_tensor_type(reader)


def _dominant_tensor_type(reader: Any) -> str | None:
    """Without ``general.file_type``: the type holding most of the weights."""
    counts: dict[str, int] = {}
    for tensor in reader.tensors:
        key = str(tensor.tensor_type.name)
        counts[key] = counts.get(key, 0) + int(tensor.n_elements)
    return max(counts, key=lambda k: counts[k]) if counts else None


_INTEGER_TYPES = frozenset(
    {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "UINT64", "INT64"}
)


def _string(reader: Any, key: str) -> str | None:
    field = reader.fields.get(key)
    if field is None or not field.types or field.types[0].name != "STRING":
        return None
    return bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")


def _integer(reader: Any, key: str) -> int | None:
    field = reader.fields.get(key)
    if field is None or not field.types or field.types[0].name not in _INTEGER_TYPES:
        return None
    return int(field.parts[field.data[0]][0])
