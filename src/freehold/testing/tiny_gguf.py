"""A tiny llama model in GGUF, generated on the spot, so tests can run the real llama.cpp paths.

``write_tiny_llama(path)`` writes a real ``llama``-architecture model (2 layers, 64 wide by
default) with random weights drawn from numpy with a fixed seed, and a SentencePiece-style
vocabulary built here in code: the control tokens ``<unk>``, ``<s>``, ``</s>``,
``<|im_start|>`` and ``<|im_end|>``, the 256 byte-fallback tokens ``<0x00>`` to ``<0xFF>``, then
``▁``, the printable ASCII characters, ``▁`` plus each letter and a few hundred common English
words (with every prefix, so the tokenizer's merges can reach them) with and without ``▁``.
Any UTF-8 text tokenizes: what the pieces miss, byte fallback covers. A ChatML template is stored
in ``tokenizer.chat_template``.

The weights are random, so the model writes random tokens; but every token also carries one
constant channel, through which the output layer leans (by about ``stop_bias`` logits) towards
``</s>`` and ``<|im_end|>`` and (by about ``close_bias``) towards ``"``, ``}`` and ``]``. Greedy
and sampled generation therefore stop on their own now and then, and a JSON grammar closes what
it opens, rather than running to ``max_tokens`` every time.

The same arguments give the same bytes. Run it: ``python -m freehold.testing.tiny_gguf OUT.gguf``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import string
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gguf
import numpy as np
import numpy.typing as npt

FileType = Literal["F32", "F16"]
Tensor = npt.NDArray[Any]

SPACE = "\u2581"  # SentencePiece's "▁", which stands for a space at the start of a piece
UNK, BOS, EOS, IM_START, IM_END = "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (UNK, BOS, EOS, IM_START, IM_END)
CLOSING_PIECES = ('"', "}", "]")
STOP_BIAS = 1.5  # default lean towards the end tokens, in logits
CLOSE_BIAS = 3.0  # default lean towards the closing pieces, in logits

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

WORDS = """
the be to of and a in that have it for not on with he as you do at this but his by from they we
say her she or an will my one all would there their what so up out if about who get which go me
when make can like time no just him know take people into year your good some could them see
other than then now look only come its over think also back after use two how our work first
well way even new want because any these give day most us is are was were been has had did said
made went got came thing man woman child world life hand part place case week company system
program question government number night point home water room mother area money story fact
month lot right study book eye job word business issue side kind head house service friend
father power hour game line end member law car city community name president team minute idea
kid body information school face others level office door health person art war history party
result change morning reason research girl guy moment air teacher force education hello yes
please thank thanks sorry help answer ask tell call try need feel become leave put mean keep let
begin seem show hear play run move live believe hold bring happen write provide sit stand lose
pay meet include continue set learn lead understand watch follow stop create speak read allow
add spend grow open walk win offer remember love consider appear buy wait serve die send expect
build stay fall cut reach kill remain suggest raise pass sell require report decide pull great
old big high different small large next early young important few public bad same able last
long little own sure free true false null best better real full special easy clear recent
certain personal simple low late hard major whole happy black white red blue green very often
never always here where why again still however today together already really almost enough
both each every many much more less such while before during under around through between
without again against among model token test data value key list text input output request
response message content role user assistant system json error true number string object
array example quick brown fox jumps lazy dog
"""


@dataclass(frozen=True)
class Vocab:
    """A SentencePiece-style vocabulary: pieces, their scores and their ``gguf.TokenType``."""

    tokens: list[str]
    scores: list[float]
    types: list[int]

    def id_of(self, piece: str) -> int:
        return self.tokens.index(piece)


@dataclass(frozen=True)
class Shape:
    """The sizes of the model."""

    n_vocab: int
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def word_list(limit: int | None = None) -> list[str]:
    """The built-in English words, without repeats, the first ``limit`` of them if given."""
    words = list(dict.fromkeys(WORDS.split()))
    return words if limit is None else words[:limit]


def _word_pieces(words: Iterable[str]) -> Iterator[str]:
    """Every prefix (two characters or more) of each word, with and without the leading ``▁``.

    The llama tokenizer only joins two adjacent pieces when their concatenation is in the
    vocabulary, so a word is reachable as one token only if its prefixes are too.
    """
    for word in words:
        for end in range(2, len(word) + 1):
            yield SPACE + word[:end]
            yield word[:end]


def _filler_pieces() -> Iterator[str]:
    """Lowercase letter strings in length-then-alphabetical order, with and without ``▁``.

    Each one's prefixes come before it, so they are all reachable too.
    """
    for length in itertools.count(2):
        for letters in itertools.product(string.ascii_lowercase, repeat=length):
            piece = "".join(letters)
            yield SPACE + piece
            yield piece


def _normal_pieces(words: Sequence[str], size: int | None) -> list[str]:
    printable = [chr(code) for code in range(0x21, 0x7F)]
    singles = [SPACE + letter for letter in string.ascii_letters]
    pieces = dict.fromkeys([SPACE, *printable, *singles, *_word_pieces(words)])
    if size is not None:
        fillers = _filler_pieces()
        while len(pieces) < size:
            pieces.setdefault(next(fillers))
    return list(pieces)


def build_vocab(*, vocab_words: int | None = None, vocab_size: int | None = None) -> Vocab:
    """The vocabulary: control tokens, byte tokens, then normal pieces by decreasing score.

    ``vocab_words`` keeps only the first that many built-in words; ``vocab_size`` pads the
    vocabulary with letter strings up to that many tokens in all.
    """
    fixed = len(SPECIAL_TOKENS) + 256
    if vocab_size is not None and vocab_size < fixed + 1:
        raise ValueError(f"vocab_size must be at least {fixed + 1}")
    normal_target = None if vocab_size is None else vocab_size - fixed
    normal = _normal_pieces(word_list(vocab_words), normal_target)
    if normal_target is not None:
        normal = normal[:normal_target]
    special_types = [gguf.TokenType.UNKNOWN] + [gguf.TokenType.CONTROL] * 4
    tokens = [*SPECIAL_TOKENS, *(f"<0x{byte:02X}>" for byte in range(256)), *normal]
    types = [*special_types, *[gguf.TokenType.BYTE] * 256, *[gguf.TokenType.NORMAL] * len(normal)]
    scores = [0.0] * fixed + [-float(rank) for rank in range(len(normal))]
    return Vocab(tokens=tokens, scores=scores, types=[int(kind) for kind in types])


def _normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> Tensor:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)


def _embeddings(rng: np.random.Generator, shape: Shape, std: float) -> Tensor:
    """Random embeddings whose channel 0 holds the same value in every token: a bias channel.

    The value is as large as the other channels together, so after the final RMS norm channel 0
    is about ``sqrt(n_embd / 2)`` whatever the token.
    """
    weights = _normal(rng, (shape.n_vocab, shape.n_embd), std)
    weights[:, 0] = std * math.sqrt(shape.n_embd - 1)
    return weights


def _output(rng: np.random.Generator, shape: Shape, biases: dict[int, float]) -> Tensor:
    """The output projection: random logits of about unit spread, plus per-token biases read
    from channel 0 (see ``_embeddings``)."""
    std = math.sqrt(2.0 / shape.n_embd)
    weights = _normal(rng, (shape.n_vocab, shape.n_embd), std)
    weights[:, 0] = 0.0
    for token, bias in biases.items():
        weights[token, 0] = bias * std
    return weights


def _reads(rng: np.random.Generator, rows: int, cols: int, std: float) -> Tensor:
    """A layer's input projection that ignores the bias channel (column 0)."""
    weights = _normal(rng, (rows, cols), std)
    weights[:, 0] = 0.0
    return weights


def _writes(rng: np.random.Generator, rows: int, cols: int, std: float) -> Tensor:
    """A layer's output projection that leaves the bias channel (row 0) alone."""
    weights = _normal(rng, (rows, cols), std)
    weights[0, :] = 0.0
    return weights


def _block(
    rng: np.random.Generator, shape: Shape, index: int, std: float
) -> Iterator[tuple[str, Tensor]]:
    """One transformer block's tensors, shaped as numpy sees them (GGUF lists them reversed).

    The block neither reads nor writes channel 0, so the bias channel reaches the output layer
    unchanged, and leaks no constant of its own into the other channels.
    """
    n_embd, n_ff = shape.n_embd, shape.n_ff
    n_embd_kv = shape.n_head_kv * shape.head_dim
    prefix = f"blk.{index}"
    yield f"{prefix}.attn_norm.weight", np.ones(n_embd, dtype=np.float32)
    yield f"{prefix}.attn_q.weight", _reads(rng, n_embd, n_embd, std)
    yield f"{prefix}.attn_k.weight", _reads(rng, n_embd_kv, n_embd, std)
    yield f"{prefix}.attn_v.weight", _reads(rng, n_embd_kv, n_embd, std)
    yield f"{prefix}.attn_output.weight", _writes(rng, n_embd, n_embd, std)
    yield f"{prefix}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32)
    yield f"{prefix}.ffn_gate.weight", _reads(rng, n_ff, n_embd, std)
    yield f"{prefix}.ffn_up.weight", _reads(rng, n_ff, n_embd, std)
    yield f"{prefix}.ffn_down.weight", _writes(rng, n_embd, n_ff, std)


def make_tensors(
    shape: Shape, *, seed: int, biases: dict[int, float], std: float = 0.02
) -> Iterator[tuple[str, Tensor]]:
    """All the model's tensors, in file order, as float32."""
    rng = np.random.default_rng(seed)
    yield "token_embd.weight", _embeddings(rng, shape, std)
    for index in range(shape.n_layer):
        yield from _block(rng, shape, index, std)
    yield "output_norm.weight", np.ones(shape.n_embd, dtype=np.float32)
    yield "output.weight", _output(rng, shape, biases)


def _check_sizes(n_embd: int, n_head: int, n_head_kv: int) -> None:
    if n_head <= 0 or n_embd % n_head:
        raise ValueError(f"n_embd ({n_embd}) must be a positive multiple of n_head ({n_head})")
    if n_head_kv <= 0 or n_head % n_head_kv:
        raise ValueError(f"n_head ({n_head}) must be a multiple of n_head_kv ({n_head_kv})")
    if n_embd < 2:
        raise ValueError("n_embd must be at least 2 (channel 0 is the bias channel)")
    if (n_embd // n_head) % 2:
        raise ValueError("the head size (n_embd / n_head) must be even for rotary embeddings")


def _add_architecture(writer: gguf.GGUFWriter, shape: Shape, context_length: int) -> None:
    writer.add_context_length(context_length)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(shape.n_vocab)


def _add_tokenizer(writer: gguf.GGUFWriter, vocab: Vocab, chat_template: str | None) -> None:
    writer.add_tokenizer_model("llama")
    writer.add_token_list(vocab.tokens)
    writer.add_token_scores(vocab.scores)
    writer.add_token_types(vocab.types)
    writer.add_unk_token_id(vocab.id_of(UNK))
    writer.add_bos_token_id(vocab.id_of(BOS))
    writer.add_eos_token_id(vocab.id_of(EOS))
    writer.add_eot_token_id(vocab.id_of(IM_END))
    writer.add_pad_token_id(vocab.id_of(UNK))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)


def _biases(vocab: Vocab, stop_bias: float, close_bias: float) -> dict[int, float]:
    biases = {vocab.id_of(EOS): stop_bias, vocab.id_of(IM_END): stop_bias}
    biases.update({vocab.id_of(piece): close_bias for piece in CLOSING_PIECES})
    return biases


def write_tiny_llama(
    path: Path,
    *,
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 4,
    n_head_kv: int = 4,
    n_ff: int = 128,
    context_length: int = 2048,
    seed: int = 0,
    chat_template: str | None = CHATML_TEMPLATE,
    file_type: FileType = "F32",
    name: str = "tiny-llama",
    vocab_words: int | None = None,
    vocab_size: int | None = None,
    stop_bias: float = STOP_BIAS,
    close_bias: float = CLOSE_BIAS,
) -> Path:
    """Write a tiny llama GGUF with random weights to ``path`` and return ``path``.

    ``n_head_kv`` below ``n_head`` gives grouped-query attention. ``file_type="F16"`` stores
    the matrices as float16 (the norms stay float32, as llama.cpp wants). ``vocab_words`` and
    ``vocab_size`` shrink or grow the vocabulary (see ``build_vocab``). ``stop_bias`` and
    ``close_bias`` are the logits the output layer adds, roughly, to the end tokens and to the
    closing ``"``, ``}`` and ``]`` (whose other logits spread about one unit); 0 turns that off,
    and a large negative ``stop_bias`` (say -100) makes a model that never stops on its own,
    for tests that need long generations.
    """
    _check_sizes(n_embd, n_head, n_head_kv)
    vocab = build_vocab(vocab_words=vocab_words, vocab_size=vocab_size)
    shape = Shape(len(vocab.tokens), n_layer, n_embd, n_head, n_head_kv, n_ff)
    dtype = np.float16 if file_type == "F16" else np.float32
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_file_type(
        gguf.LlamaFileType.MOSTLY_F16 if file_type == "F16" else gguf.LlamaFileType.ALL_F32
    )
    _add_architecture(writer, shape, context_length)
    _add_tokenizer(writer, vocab, chat_template)
    biases = _biases(vocab, stop_bias, close_bias)
    for tensor_name, tensor in make_tensors(shape, seed=seed, biases=biases):
        writer.add_tensor(tensor_name, tensor if tensor.ndim == 1 else tensor.astype(dtype))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m freehold.testing.tiny_gguf",
        description="Write a tiny llama GGUF with random weights, for tests.",
    )
    parser.add_argument("out", type=Path, help="the .gguf file to write")
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-head-kv", type=int, default=4)
    parser.add_argument("--n-ff", type=int, default=128)
    parser.add_argument("--context-length", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--file-type", choices=["F32", "F16"], default="F32")
    parser.add_argument("--name", default="tiny-llama")
    parser.add_argument("--vocab-words", type=int, help="use only the first N built-in words")
    parser.add_argument("--vocab-size", type=int, help="pad the vocabulary to N tokens")
    parser.add_argument("--stop-bias", type=float, default=STOP_BIAS)
    parser.add_argument("--close-bias", type=float, default=CLOSE_BIAS)
    parser.add_argument("--no-chat-template", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    path = write_tiny_llama(
        args.out,
        n_layer=args.n_layer,
        n_embd=args.n_embd,
        n_head=args.n_head,
        n_head_kv=args.n_head_kv,
        n_ff=args.n_ff,
        context_length=args.context_length,
        seed=args.seed,
        chat_template=None if args.no_chat_template else CHATML_TEMPLATE,
        file_type=args.file_type,
        name=args.name,
        vocab_words=args.vocab_words,
        vocab_size=args.vocab_size,
        stop_bias=args.stop_bias,
        close_bias=args.close_bias,
    )
    elapsed = time.perf_counter() - started
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.2f} MB) in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
