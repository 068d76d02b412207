"""Every error built from what an upstream sent leaves with its credentials masked."""

from __future__ import annotations

from freehold.config.schema import ModelSettings
from freehold.core.errors import UpstreamError, UpstreamRejected
from freehold.providers.scrub import MAX_MESSAGE_CHARS, Scrubber, credentials

KEY = "sk-proj-Q9v7T3xKp2LmZ8wR-7f3a9c1e5b2d4a6f"


def test_credentials_are_the_key_and_credential_headers() -> None:
    settings = ModelSettings.model_validate(
        {
            "name": "m",
            "backend": "openai",
            "base_url": "http://127.0.0.1:1/v1",
            "api_key": KEY,
            "headers": {
                "api-key": "azure-0123456789abcdef",
                "X-Auth-Token": "Bearer tok-0123456789",
                "OpenAI-Organization": "org-public",
            },
        }
    )
    assert credentials(settings) == [KEY, "azure-0123456789abcdef", "tok-0123456789"]


def test_a_refusal_is_masked_in_every_field_the_upstream_wrote() -> None:
    refusal = UpstreamRejected(
        f"upstream 'm' rejected the request: bad key {KEY[:-8]}****{KEY[-4:]}",
        status=401,
        type=f"auth {KEY[3:15]}",
        param=KEY,
        code=f"sk-...{KEY[-4:]}",
    )
    scrubbed = Scrubber([KEY]).error(refusal)
    assert scrubbed.message == "upstream 'm' rejected the request: bad key ***"
    assert scrubbed.args == (scrubbed.message,)
    assert (scrubbed.type, scrubbed.param, scrubbed.code) == ("auth ***", "***", "***")


def test_freeholds_own_fields_are_left_alone() -> None:
    """A key that happens to hold a word of freehold's vocabulary does not mask its error
    types (only the message, which may quote the upstream)."""
    error = Scrubber(["sk-upstream_error-0123"]).error(UpstreamError("upstream 'm' failed"))
    assert (error.type, error.code) == ("upstream_error", "bad_gateway")


def test_an_overlong_message_is_cut() -> None:
    error = Scrubber([KEY]).error(UpstreamError("x" * 5000 + KEY))
    assert error.message == "x" * MAX_MESSAGE_CHARS + "…"
