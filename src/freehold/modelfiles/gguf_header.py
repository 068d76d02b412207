"""A GGUF file's header, parsed in plain Python, reading no more than the header.

What ``freehold models`` needs is a few scalar metadata values and the tensor table (names,
shapes, types). The metadata also holds arrays (a vocabulary and its merges: hundreds of
thousands of strings in a current model); they are stepped over, never decoded, and no
tensor data is read. ``gguf.GGUFReader`` instead builds a numpy view of every array element:
1.7 s for SmolLM2-135M's 49,152-token vocabulary, several seconds for a 150k-token one, which
is why listing a few model files took 8–16 s. Format: GGUF versions 2 and 3, either byte
order (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAGIC = b"GGUF"
STRING, ARRAY = 8, 9
#: metadata value type → struct format of its scalar (``STRING`` and ``ARRAY`` apart)
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_CHUNK = 1 << 18
#: a name or metadata key longer than this is taken for a damaged file, not read
_MAX_KEY = 1 << 16


@dataclass(frozen=True, slots=True)
class Array:
    """A metadata array, stepped over: its element type and length only."""

    element_type: int
    length: int


Value = int | float | bool | str | Array


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type: int

    @property
    def elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    metadata: dict[str, Value]
    tensors: tuple[TensorInfo, ...]
    size: int
    """Bytes the header takes (everything this module reads)."""


class _Cursor:
    """Forward reads through one buffer; skipping past the buffer seeks."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file = file
        self._size = size
        self._buf = b""
        self._at = 0  # position in _buf
        self._base = 0  # file offset of _buf[0]
        self.order = "<"

    @property
    def offset(self) -> int:
        return self._base + self._at

    def remaining(self) -> int:
        return self._size - self.offset

    def _need(self, count: int) -> None:
        if self._at + count <= len(self._buf):
            return
        if count > self.remaining():
            raise ValueError(f"truncated GGUF header (offset {self.offset}, {count} bytes more)")
        if self._at > len(self._buf):  # skipped past the buffer
            self._file.seek(self.offset)
            self._base, self._buf, self._at = self.offset, b"", 0
        rest = self._buf[self._at :]
        self._base += self._at
        self._buf = rest + self._file.read(max(count - len(rest), _CHUNK))
        self._at = 0
        if len(self._buf) < count:
            raise ValueError(f"truncated GGUF header (offset {self.offset})")

    def peek(self, count: int) -> bytes:
        self._need(count)
        return self._buf[self._at : self._at + count]

    def unpack(self, fmt: str) -> tuple[int | float | bool, ...]:
        layout = struct.Struct(self.order + fmt)
        self._need(layout.size)
        values = layout.unpack_from(self._buf, self._at)
        self._at += layout.size
        return values

    def count(self, what: str, each: int, fmt: str = "Q") -> int:
        """An unsigned length, refused when ``each``-byte items of that many cannot fit."""
        (value,) = self.unpack(fmt)
        assert isinstance(value, int)
        if value * each > self.remaining():
            raise ValueError(
                f"truncated or damaged GGUF header: {what} of {value} at offset "
                f"{self.offset} overruns the file"
            )
        return value

    def skip(self, count: int) -> None:
        if count > self.remaining():
            raise ValueError(f"truncated GGUF header (offset {self.offset}, {count} bytes more)")
        self._at += count

    def string(self, limit: int | None = None) -> str:
        length = self.count("a string", 1)
        if limit is not None and length > limit:
            raise ValueError(f"a {length}-byte name at offset {self.offset}")
        self._need(length)
        data = self._buf[self._at : self._at + length]
        self._at += length
        return data.decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Step over ``count`` length-prefixed strings, the hot loop of a big vocabulary."""
        length = struct.Struct(self.order + "Q")
        for _ in range(count):
            if self._at + 8 > len(self._buf):
                self._need(8)
            (size,) = length.unpack_from(self._buf, self._at)
            self._at += 8
            self.skip(size)


def _scalar_or_string(cursor: _Cursor, kind: int) -> Value:
    if kind in _SCALARS:
        (value,) = cursor.unpack(_SCALARS[kind])
        return value
    if kind == STRING:
        return cursor.string()
    raise ValueError(f"unknown GGUF value type {kind} at offset {cursor.offset}")


def _skip_array(cursor: _Cursor, element: int) -> int:
    if element in _SCALARS:
        size = struct.calcsize("<" + _SCALARS[element])
        length = cursor.count("an array", size)
        cursor.skip(length * size)
    elif element == STRING:
        length = cursor.count("an array", 8)
        cursor.skip_strings(length)
    elif element == ARRAY:
        length = cursor.count("an array", 12)
        for _ in range(length):
            (inner,) = cursor.unpack("I")
            assert isinstance(inner, int)
            _skip_array(cursor, inner)
    else:
        raise ValueError(f"unknown GGUF array type {element} at offset {cursor.offset}")
    return length


def _metadata(cursor: _Cursor, count: int) -> Iterator[tuple[str, Value]]:
    for _ in range(count):
        key = cursor.string(_MAX_KEY)
        (kind,) = cursor.unpack("I")
        assert isinstance(kind, int)
        if kind == ARRAY:
            (element,) = cursor.unpack("I")
            assert isinstance(element, int)
            yield key, Array(element, _skip_array(cursor, element))
        else:
            yield key, _scalar_or_string(cursor, kind)


def _tensors(cursor: _Cursor, count: int) -> Iterator[TensorInfo]:
    for _ in range(count):
        name = cursor.string(_MAX_KEY)
        dims = cursor.count("a tensor's dimensions", 8, "I")
        shape = cursor.unpack("Q" * dims) if dims else ()
        kind, _offset = cursor.unpack("IQ")
        assert isinstance(kind, int)
        yield TensorInfo(name, tuple(int(d) for d in shape), kind)


def read_header(file: BinaryIO, size: int) -> Header:
    """Parse the header of the GGUF ``file`` (``size`` bytes long, read from its start).
    Raises ValueError for a file that is not a (complete) GGUF file of version 2 or 3."""
    cursor = _Cursor(file, size)
    if cursor.peek(4) != MAGIC:
        raise ValueError("not a GGUF file (no GGUF magic)")
    cursor.skip(4)
    (version,) = cursor.unpack("I")
    assert isinstance(version, int)
    if version & 0xFFFF == 0:  # written big-endian
        cursor.order = ">"
        version = int.from_bytes(version.to_bytes(4, "little"), "big")
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported (only 2 and 3)")
    tensor_count = cursor.count("a tensor table", 24)
    kv_count = cursor.count("a metadata table", 12)
    metadata = dict(_metadata(cursor, kv_count))
    tensors = tuple(_tensors(cursor, tensor_count))
    return Header(version, metadata, tensors, cursor.offset)
