"""The tiny GGUF model the tests generate: what it holds, and that llama.cpp runs it for real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

gguf = pytest.importorskip("gguf", reason="gguf is not installed (it comes with the llama extra)")

from freehold.testing.tiny_gguf import (  # noqa: E402
    CHATML_TEMPLATE,
    build_vocab,
    main,
    word_list,
    write_tiny_llama,
)

NEEDS_LLAMA = "llama-cpp-python is not installed (it comes with the optional llama extra)"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hello world"},
]
RENDERED = (
    "<|im_start|>system\nBe brief.<|im_end|>\n"
    "<|im_start|>user\nhello world<|im_end|>\n"
    "<|im_start|>assistant\n"
)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny.gguf")


def load(path: Path, **kwargs: Any) -> Any:
    llama_cpp = pytest.importorskip("llama_cpp", reason=NEEDS_LLAMA)
    return llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=2, verbose=False, **kwargs)


@pytest.fixture(scope="module")
def llm(model_path: Path) -> Iterator[Any]:
    model = load(model_path)
    yield model
    model.close()


def fields(path: Path) -> dict[str, Any]:
    reader = gguf.GGUFReader(path)
    return {name: field.contents() for name, field in reader.fields.items()}


def tensor_shapes(path: Path) -> dict[str, tuple[list[int], str]]:
    reader = gguf.GGUFReader(path)
    return {t.name: ([int(n) for n in t.shape], t.tensor_type.name) for t in reader.tensors}


# --- the file -------------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = write_tiny_llama(tmp_path / "a.gguf", seed=7).read_bytes()
    again = write_tiny_llama(tmp_path / "b.gguf", seed=7).read_bytes()
    other = write_tiny_llama(tmp_path / "c.gguf", seed=8).read_bytes()
    assert first == again
    assert first != other
    assert len(first) == len(other)


def test_the_default_file_is_small(model_path: Path) -> None:
    assert model_path.stat().st_size < 5_000_000


def test_the_metadata_reads_back(model_path: Path) -> None:
    meta = fields(model_path)
    vocab = build_vocab()
    expected = {
        "general.architecture": "llama",
        "general.name": "tiny-llama",
        "general.file_type": 0,
        "llama.context_length": 2048,
        "llama.embedding_length": 64,
        "llama.block_count": 2,
        "llama.feed_forward_length": 128,
        "llama.attention.head_count": 4,
        "llama.attention.head_count_kv": 4,
        "llama.rope.dimension_count": 16,
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.unknown_token_id": 0,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.padding_token_id": 0,
        "tokenizer.ggml.add_bos_token": True,
        "tokenizer.chat_template": CHATML_TEMPLATE,
    }
    assert {key: meta[key] for key in expected} == expected
    assert meta["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-5)
    assert meta["tokenizer.ggml.tokens"] == vocab.tokens
    assert meta["tokenizer.ggml.token_type"] == vocab.types
    scores = meta["tokenizer.ggml.scores"]
    assert len(scores) == len(vocab.tokens)
    normal = scores[len(vocab.tokens) - vocab.types.count(gguf.TokenType.NORMAL) :]
    assert normal == sorted(normal, reverse=True)
    assert len(set(normal)) == len(normal)


def test_the_vocabulary_has_the_special_byte_and_word_pieces() -> None:
    vocab = build_vocab()
    kinds = dict(zip(vocab.tokens, vocab.types, strict=True))
    assert vocab.tokens[:5] == ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    assert kinds["<unk>"] == gguf.TokenType.UNKNOWN
    assert {kinds[t] for t in vocab.tokens[1:5]} == {gguf.TokenType.CONTROL}
    assert vocab.tokens[5:261] == [f"<0x{b:02X}>" for b in range(256)]
    assert {kinds[t] for t in vocab.tokens[5:261]} == {gguf.TokenType.BYTE}
    assert len(set(vocab.tokens)) == len(vocab.tokens)
    for piece in ["▁", "a", "~", "{", "}", '"', "▁Q", "▁hello", "hello", "▁hel", "▁world"]:
        assert kinds[piece] == gguf.TokenType.NORMAL, piece
    assert len(word_list()) >= 300


def test_the_vocabulary_size_can_be_chosen(tmp_path: Path) -> None:
    small = build_vocab(vocab_words=10)
    assert "▁the" in small.tokens
    assert "▁hello" not in small.tokens
    big = build_vocab(vocab_size=32_000)
    assert len(big.tokens) == 32_000
    assert len(set(big.tokens)) == 32_000
    assert big.tokens[: len(build_vocab().tokens)] == build_vocab().tokens
    with pytest.raises(ValueError, match="vocab_size"):
        build_vocab(vocab_size=100)


def test_the_tensors_have_llama_names_and_shapes(tmp_path: Path) -> None:
    path = write_tiny_llama(tmp_path / "gqa.gguf", n_layer=3, n_head=4, n_head_kv=2, n_ff=96)
    n_vocab = len(build_vocab().tokens)
    expected = {
        "token_embd.weight": ([64, n_vocab], "F32"),
        "output_norm.weight": ([64], "F32"),
        "output.weight": ([64, n_vocab], "F32"),
    }
    for i in range(3):
        expected |= {
            f"blk.{i}.attn_norm.weight": ([64], "F32"),
            f"blk.{i}.attn_q.weight": ([64, 64], "F32"),
            f"blk.{i}.attn_k.weight": ([64, 32], "F32"),
            f"blk.{i}.attn_v.weight": ([64, 32], "F32"),
            f"blk.{i}.attn_output.weight": ([64, 64], "F32"),
            f"blk.{i}.ffn_norm.weight": ([64], "F32"),
            f"blk.{i}.ffn_gate.weight": ([64, 96], "F32"),
            f"blk.{i}.ffn_up.weight": ([64, 96], "F32"),
            f"blk.{i}.ffn_down.weight": ([96, 64], "F32"),
        }
    assert tensor_shapes(path) == expected
    meta = fields(path)
    assert meta["llama.attention.head_count_kv"] == 2
    assert meta["llama.block_count"] == 3


def test_f16_keeps_the_norms_in_f32(tmp_path: Path) -> None:
    path = write_tiny_llama(tmp_path / "f16.gguf", file_type="F16")
    shapes = tensor_shapes(path)
    assert shapes["blk.0.attn_q.weight"][1] == "F16"
    assert shapes["token_embd.weight"][1] == "F16"
    assert shapes["blk.0.attn_norm.weight"][1] == "F32"
    assert shapes["output_norm.weight"][1] == "F32"
    assert fields(path)["general.file_type"] == 1


def test_the_weights_are_small_and_the_norms_are_one(model_path: Path) -> None:
    reader = gguf.GGUFReader(model_path)
    tensors = {t.name: t.data for t in reader.tensors}
    assert (tensors["output_norm.weight"] == 1).all()
    assert (tensors["blk.1.ffn_norm.weight"] == 1).all()
    assert 0.015 < float(tensors["blk.0.attn_q.weight"].std()) < 0.025


def test_bad_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_head"):
        write_tiny_llama(tmp_path / "x.gguf", n_embd=64, n_head=5)
    with pytest.raises(ValueError, match="n_head_kv"):
        write_tiny_llama(tmp_path / "x.gguf", n_head=4, n_head_kv=3)


def test_the_command_line_writes_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.gguf"
    code = main([str(out), "--vocab-words", "20", "--seed", "3", "--no-chat-template"])
    assert code == 0
    assert "wrote" in capsys.readouterr().err
    meta = fields(out)
    assert "tokenizer.chat_template" not in meta
    assert meta["tokenizer.ggml.tokens"] == build_vocab(vocab_words=20).tokens
    same = write_tiny_llama(tmp_path / "api.gguf", seed=3, chat_template=None, vocab_words=20)
    assert out.read_bytes() == same.read_bytes()


# --- llama.cpp runs it ----------------------------------------------------------------------


def token_id(piece: str) -> int:
    return build_vocab().tokens.index(piece)


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def test_llama_cpp_loads_it_with_its_metadata(llm: Any) -> None:
    assert llm.n_vocab() == len(build_vocab().tokens)
    assert llm.n_embd() == 64
    assert llm.metadata["general.architecture"] == "llama"
    assert llm.metadata["tokenizer.chat_template"] == CHATML_TEMPLATE
    assert llm.token_bos() == 1
    assert llm.token_eos() == 2


def test_ascii_text_tokenizes_into_word_pieces_and_back(llm: Any) -> None:
    tokens = llm.tokenize(b"hello world")
    assert tokens == [llm.token_bos(), token_id("▁hello"), token_id("▁world")]
    assert llm.detokenize(tokens) == b"hello world"


def test_other_text_round_trips_through_byte_fallback(llm: Any) -> None:
    text = "héllo — 日本".encode()
    tokens = llm.tokenize(text)
    assert llm.detokenize(tokens) == text
    assert llm.detokenize(llm.tokenize(text, add_bos=False)) == b" " + text  # the ▁ it was given
    bytes_used = [t for t in tokens if token_id("<0x00>") <= t <= token_id("<0xFF>")]
    assert bytes_used[:2] == [token_id("<0xC3>"), token_id("<0xA9>")]  # é
    assert len(bytes_used) == 2 + 3 + 3 + 3  # é, —, 日, 本


def test_the_chat_template_comes_from_the_metadata(llm: Any) -> None:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    rendered = env.from_string(CHATML_TEMPLATE).render(
        messages=MESSAGES, add_generation_prompt=True
    )
    assert rendered == RENDERED
    prompt = llm.tokenize(rendered.encode(), add_bos=False, special=True)
    assert prompt.count(token_id("<|im_start|>")) == 3
    assert prompt.count(token_id("<|im_end|>")) == 2
    assert len(llm.tokenize(rendered.encode(), add_bos=False, special=False)) > len(prompt)

    result = llm.create_chat_completion(messages=MESSAGES, max_tokens=8, seed=1, temperature=0)
    assert result["usage"]["prompt_tokens"] == len(prompt)
    assert 1 <= result["usage"]["completion_tokens"] <= 8 + 3  # + an unfinished UTF-8 char
    message = result["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert isinstance(message["content"], str)


def test_the_same_seed_generates_the_same_text(llm: Any) -> None:
    def sample(seed: int) -> str:
        result = llm.create_completion(
            "The quick brown fox", max_tokens=16, seed=seed, temperature=0.8
        )
        return str(result["choices"][0]["text"])

    texts = [sample(seed) for seed in range(5)]
    assert [sample(seed) for seed in range(5)] == texts
    assert len(set(texts)) > 1


def test_generation_can_stop_on_its_own(tmp_path: Path, llm: Any) -> None:
    def reasons(model: Any) -> set[str]:
        return {
            model.create_completion("hello", max_tokens=64, seed=seed, temperature=0.8)["choices"][
                0
            ]["finish_reason"]
            for seed in range(10)
        }

    assert "stop" in reasons(llm)
    never = load(write_tiny_llama(tmp_path / "never.gguf", stop_bias=-100.0))
    try:
        assert reasons(never) == {"length"}
    finally:
        never.close()


def test_streaming_yields_the_same_text_in_chunks(llm: Any) -> None:
    whole = llm.create_chat_completion(messages=MESSAGES, max_tokens=24, seed=2, temperature=0)
    chunks = list(
        llm.create_chat_completion(
            messages=MESSAGES, max_tokens=24, seed=2, temperature=0, stream=True
        )
    )
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
    assert deltas[0] == {"role": "assistant"}
    pieces = [delta["content"] for delta in deltas if delta.get("content")]
    assert len(pieces) >= 2
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]


@pytest.mark.parametrize(("seed", "temperature"), [(0, 0.0), (1, 0.8), (2, 0.8), (3, 0.8)])
def test_json_mode_writes_a_json_object(llm: Any, seed: int, temperature: float) -> None:
    def reply(**extra: Any) -> Any:
        return llm.create_chat_completion(
            messages=[{"role": "user", "content": "Describe a dog as JSON."}],
            max_tokens=200,
            seed=seed,
            temperature=temperature,
            **extra,
        )["choices"][0]

    constrained = reply(response_format={"type": "json_object"})
    assert constrained["finish_reason"] == "stop", constrained
    assert is_json_object(constrained["message"]["content"]), constrained
    assert not is_json_object(reply()["message"]["content"])


@pytest.mark.parametrize(
    "options", [{"n_head_kv": 2}, {"file_type": "F16"}, {"n_layer": 1, "n_embd": 32, "n_ff": 64}]
)
def test_other_shapes_load_and_generate(tmp_path: Path, options: dict[str, Any]) -> None:
    model = load(write_tiny_llama(tmp_path / "other.gguf", **options))
    try:
        result = model.create_completion("hello world", max_tokens=8, seed=0, temperature=0)
        assert result["usage"]["prompt_tokens"] == 3
        assert result["usage"]["completion_tokens"] >= 1
        assert model.detokenize(model.tokenize(b"hello world")) == b"hello world"
    finally:
        model.close()
