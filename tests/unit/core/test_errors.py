import pytest

from freehold.core import errors


@pytest.mark.parametrize(
    ("error", "status", "type_", "code"),
    [
        (errors.InvalidRequest("m"), 400, "invalid_request_error", "invalid_request"),
        (errors.PayloadTooLarge("m"), 413, "invalid_request_error", "request_too_large"),
        (errors.ModelNotFound("m"), 404, "invalid_request_error", "model_not_found"),
        (errors.AuthenticationFailed("m"), 401, "authentication_error", "invalid_api_key"),
        (errors.UpstreamTimeout("m"), 504, "upstream_error", "upstream_timeout"),
        (errors.UpstreamError("m"), 502, "upstream_error", "bad_gateway"),
        (
            errors.UpstreamRejected("m", status=429, type="rate_limit_error"),
            429,
            "rate_limit_error",
            None,
        ),
    ],
)
def test_each_error_knows_its_status_and_openai_shape(
    error: errors.FreeholdError, status: int, type_: str, code: str | None
) -> None:
    assert error.status == status
    assert error.to_dict() == {
        "error": {"message": "m", "type": type_, "param": None, "code": code}
    }


def test_rejected_keeps_upstream_details() -> None:
    error = errors.UpstreamRejected("bad", status=400, param="messages", code="context_length")
    assert (error.status, error.param, error.code, error.kind) == (
        400,
        "messages",
        "context_length",
        "upstream_rejected",
    )
