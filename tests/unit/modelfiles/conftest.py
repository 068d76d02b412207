"""A small GGUF writer for the model-file tests (skips them when ``gguf`` is missing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MakeGGUF = Callable[..., Path]


def write_gguf(
    path: Path,
    *,
    file_type: int | None = 15,
    chat_template: str | None = "{{ messages }}",
    rows: int = 32,
    vocab: int = 0,
    big_endian: bool = False,
) -> Path:
    """A llama-architecture GGUF named ``tiny-test`` with three small tensors (a ``rows`` x 8
    float32 embedding, an 8 x 8 float16 matrix, an 8-wide norm) and ``general.file_type``
    (15 is Q4_K_M; the header says so whatever the tensors hold). ``vocab`` adds a tokenizer
    of that many tokens, with as many merges and token types, as a real model's header has."""
    gguf: Any = pytest.importorskip("gguf")
    np: Any = pytest.importorskip("numpy")
    endian = gguf.GGUFEndian.BIG if big_endian else gguf.GGUFEndian.LITTLE
    writer = gguf.GGUFWriter(path, "llama", endianess=endian)
    writer.add_name("tiny-test")
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.add_context_length(4096)
    writer.add_embedding_length(8)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if vocab:
        writer.add_tokenizer_model("gpt2")
        writer.add_token_list([f"token{i}" for i in range(vocab)])
        writer.add_token_types([1] * vocab)
        writer.add_token_merges([f"t{i} k{i}" for i in range(vocab)])
    writer.add_tensor("token_embd.weight", np.ones((rows, 8), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", np.ones((8, 8), dtype=np.float16))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path


@pytest.fixture
def make_gguf() -> MakeGGUF:
    return write_gguf
