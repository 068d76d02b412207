"""Masking configured secrets in text: pieces, provider-style masked forms, log records."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.core.secrets import MARKER, MIN_PIECE, SecretFilter, SecretMasker

KEY = "sk-proj-Q9v7T3xKp2LmZ8wR-7f3a9c1e5b2d4a6f"


def pieces(secret: str, size: int = MIN_PIECE) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def leaks(text: str, secret: str) -> list[str]:
    return [piece for piece in pieces(secret) if piece in text]


@pytest.fixture
def masker() -> SecretMasker:
    return SecretMasker([KEY])


def test_the_whole_key_goes(masker: SecretMasker) -> None:
    assert masker.mask(f"incorrect API key provided: {KEY}") == (
        f"incorrect API key provided: {MARKER}"
    )


@pytest.mark.parametrize(
    "piece",
    [KEY[:8], KEY[5:13], KEY[-8:], KEY[3:30], KEY[10:]],
    ids=["prefix", "middle", "suffix", "long", "tail"],
)
def test_any_piece_of_eight_characters_goes(masker: SecretMasker, piece: str) -> None:
    masked = masker.mask(f"key '{piece}' refused")
    assert masked == f"key '{MARKER}' refused"


def test_a_piece_goes_with_the_token_around_it(masker: SecretMasker) -> None:
    """The characters next to a piece (the rest of a key, or a guess at it) go with it."""
    masked = masker.mask(f"Authorization: Bearer zz{KEY[4:20]}QQQ, retry")
    assert masked == f"Authorization: Bearer {MARKER}, retry"


def test_seven_characters_are_not_a_secret_piece(masker: SecretMasker) -> None:
    text = f"the prefix {KEY[:7]} is public"
    assert masker.mask(text) == text


@pytest.mark.parametrize(
    "quoted",
    [
        KEY[:-13] + "****" + KEY[-4:],  # as in the issue: a real prefix and suffix
        "sk-...4a6f",
        "sk-…4a6f",
        "sk-proj-" + "*" * 20 + "4a6f",
        "****4a6f",
        "sk-pro••••••••",
        "sk-pXXXXXXXXX4a6f",
        "sk-projxxxxxxxx",
    ],
)
def test_provider_style_masked_forms_go_whole(masker: SecretMasker, quoted: str) -> None:
    masked = masker.mask(f"Incorrect API key provided: {quoted}. You can find your key at …")
    assert masked == f"Incorrect API key provided: {MARKER}. You can find your key at …"


def test_mask_runs_next_to_unrelated_words_stay(masker: SecretMasker) -> None:
    text = "Loading... done ****, see https://example.com/xxx and 0xFFF"
    assert masker.mask(text) == text


def test_json_quoting_around_a_key_is_kept(masker: SecretMasker) -> None:
    masked = masker.mask(f'{{"error": {{"message": "bad key {KEY}", "key": "{KEY[:12]}"}}}}')
    assert masked == f'{{"error": {{"message": "bad key {MARKER}", "key": "{MARKER}"}}}}'


def test_every_configured_secret_is_masked() -> None:
    other = "ant-key-0123456789abcdef"
    masker = SecretMasker([KEY, other, "", "abc"])  # empty and very short values are ignored
    masked = masker.mask(f"one {KEY[2:14]} two {other[-9:]} three abc")
    assert masked == f"one {MARKER} two {MARKER} three abc"


def test_a_short_secret_is_masked_whole() -> None:
    assert SecretMasker(["pa55wd"]).mask("password=pa55wd;") == f"password={MARKER};"


def test_no_secrets_masks_nothing() -> None:
    masker = SecretMasker([])
    assert not masker
    assert masker.mask("sk-...4a6f") == "sk-...4a6f"


def test_kilobytes_of_text(masker: SecretMasker) -> None:
    filler = "lorem ipsum dolor sit amet " * 400  # ~11 KB
    masked = masker.mask(f"{filler}{KEY[6:20]} {filler}sk-...4a6f")
    assert leaks(masked, KEY) == []
    assert masked.endswith(MARKER)
    assert masked.count(MARKER) == 2


_alphabet = st.characters(codec="utf-8", exclude_categories=("Cs",))


@given(
    secret=st.text(_alphabet, min_size=16, max_size=64),
    before=st.text(_alphabet, max_size=40),
    after=st.text(_alphabet, max_size=40),
    data=st.data(),
)
def test_no_piece_of_eight_characters_survives(
    secret: str, before: str, after: str, data: st.DataObject
) -> None:
    start = data.draw(st.integers(0, len(secret) - MIN_PIECE))
    end = data.draw(st.integers(start + MIN_PIECE, len(secret)))
    text = before + secret[start:end] + after
    assert leaks(SecretMasker([secret]).mask(text), secret) == []


@given(
    secret=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=16),
    text=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_ .*"), max_size=80),
)
def test_random_text_never_grows_a_piece(secret: str, text: str) -> None:
    """Whatever the text (key-like characters, mask runs), what comes out holds no piece of
    eight characters of the secret."""
    assert leaks(SecretMasker([secret]).mask(text), secret) == []


def logged(masker: SecretMasker, msg: str, *args: object, error: bool = False) -> str:
    """What a handler with the filter writes for one record (built as ``log.warning(msg,
    *args)`` inside an ``except`` block would build it when ``error``)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter(masker))
    exc_info = sys.exc_info() if error else None
    record = logging.LogRecord("freehold.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    handler.handle(record)
    return stream.getvalue()


def test_log_filter_masks_message_arguments(masker: SecretMasker) -> None:
    out = logged(masker, "upstream said %r (%s)", f"bad {KEY}", 3)
    assert out == f"upstream said 'bad {MARKER}' (3)\n"


def test_log_filter_masks_exceptions(masker: SecretMasker) -> None:
    try:
        raise RuntimeError(f"refused sk-...{KEY[-4:]} and {KEY}")
    except RuntimeError:
        out = logged(masker, "failed", error=True)
    assert "RuntimeError: refused *** and ***" in out
    assert leaks(out, KEY) == []
    assert "sk-..." not in out


def test_log_filter_keeps_a_record_whose_arguments_do_not_fit(masker: SecretMasker) -> None:
    out = logged(masker, "two %s %s", KEY)
    assert out == "two %s %s\n"
