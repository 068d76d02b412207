"""The error taxonomy. Every failure a client can see is one of these.

Stages raise them; ``freehold.api.errors`` renders them once, as OpenAI-format JSON::

    FreeholdError                    500 server_error
    ├── InvalidRequest               400 invalid_request_error
    │   ├── PayloadTooLarge          413 invalid_request_error / request_too_large
    │   ├── UnsupportedMediaType     415 invalid_request_error / unsupported_media_type
    │   ├── RequestTimeout           408 invalid_request_error / request_timeout
    │   ├── HostNotAllowed           400 invalid_request_error / host_not_allowed
    │   ├── MalformedHttp            400 invalid_request_error / bad_http_request
    │   ├── HeadersTooLarge          431 invalid_request_error / request_headers_too_large
    │   └── UnsupportedParameter     400 invalid_request_error / unsupported_parameter
    ├── ClientClosedRequest          499 (never sent: the client has gone; the ledger's status)
    ├── AuthenticationFailed         401 authentication_error / invalid_api_key
    ├── PermissionDenied             403 permission_error / model_not_allowed
    │   └── PerimeterBlocked         403 permission_error / sensitive_data_blocked | no_model
    ├── NotFound                     404 invalid_request_error / not_found
    │   └── ModelNotFound            404 invalid_request_error / model_not_found
    ├── MethodNotAllowed             405 invalid_request_error / method_not_allowed
    ├── BudgetExceeded               429 insufficient_quota / budget_exceeded
    ├── RateLimited                  429 rate_limit_error / rate_limit_exceeded (Retry-After)
    ├── ServiceUnavailable           503 server_error / service_unavailable
    ├── ValidationFailed             422 validation_error / validation_failed
    └── UpstreamError                502 upstream_error / bad_gateway
        ├── UpstreamUnavailable      502 upstream_error / upstream_unavailable
        ├── UpstreamTimeout          504 upstream_error / upstream_timeout
        └── UpstreamRejected         the upstream's own 4xx status, type and message
"""

from __future__ import annotations

from collections.abc import Mapping


class FreeholdError(Exception):
    """Base of every client-visible failure: carries its HTTP status and OpenAI type/code."""

    status: int = 500
    type: str = "server_error"
    code: str | None = "internal_error"
    #: freehold's own name for the failure, as the ledger records it (``error_type``).
    kind: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})

    def to_dict(self) -> dict[str, object]:
        """The OpenAI error object: ``{"error": {"message", "type", "param", "code"}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(FreeholdError):
    kind = "invalid_request"
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class PayloadTooLarge(InvalidRequest):
    kind = "request_too_large"
    status = 413
    code = "request_too_large"


class UnsupportedMediaType(InvalidRequest):
    """The body is not declared as JSON (``Content-Type: application/json``)."""

    kind = "unsupported_media_type"
    status = 415
    code = "unsupported_media_type"


class RequestTimeout(InvalidRequest):
    """The client did not send its request (headers or body) in time."""

    kind = "request_timeout"
    status = 408
    code = "request_timeout"


class HostNotAllowed(InvalidRequest):
    """The ``Host`` header names a host this gateway does not serve (DNS rebinding)."""

    kind = "host_not_allowed"
    code = "host_not_allowed"


class MalformedHttp(InvalidRequest):
    """The HTTP parser refused the request (bad header bytes, a bad chunk size, …)."""

    kind = "bad_http_request"
    code = "bad_http_request"


class HeadersTooLarge(InvalidRequest):
    kind = "request_headers_too_large"
    status = 431
    code = "request_headers_too_large"


class ClientClosedRequest(FreeholdError):
    """The client went away before the answer was complete (nginx's 499)."""

    kind = "client_disconnected"
    status = 499
    type = "client_error"
    code = "client_closed_request"


class UnsupportedParameter(InvalidRequest):
    kind = "unsupported_parameter"
    code = "unsupported_parameter"


class AuthenticationFailed(FreeholdError):
    kind = "authentication_failed"
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(FreeholdError):
    kind = "permission_denied"
    status = 403
    type = "permission_error"
    code = "model_not_allowed"


class PerimeterBlocked(PermissionDenied):
    """The data perimeter refused the request: its findings are blocked, or no model it may
    go to can answer it. The message names finding types, never values."""

    kind = "perimeter_blocked"
    code = "sensitive_data_blocked"


class BudgetExceeded(FreeholdError):
    """A hard budget would be exceeded: refused before any upstream call."""

    kind = "budget_exceeded"
    status = 429
    type = "insufficient_quota"
    code = "budget_exceeded"


class RateLimited(FreeholdError):
    """A requests- or tokens-per-minute limit is reached; ``Retry-After`` says when to retry."""

    kind = "rate_limit_exceeded"
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class NotFound(FreeholdError):
    kind = "not_found"
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ModelNotFound(NotFound):
    kind = "model_not_found"
    code = "model_not_found"


class MethodNotAllowed(FreeholdError):
    kind = "method_not_allowed"
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class ServiceUnavailable(FreeholdError):
    kind = "service_unavailable"
    status = 503
    type = "server_error"
    code = "service_unavailable"


class ValidationFailed(FreeholdError):
    """The answer failed its validators and ``on_fail`` is ``error``."""

    kind = "validation_failed"
    status = 422
    type = "validation_error"
    code = "validation_failed"

    def __init__(self, message: str, verdicts: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.verdicts = verdicts

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "freehold": {"validation": "fail", "verdicts": self.verdicts}}


class UpstreamError(FreeholdError):
    """The upstream answered with something unusable (5xx, malformed body, broken stream)."""

    kind = "upstream_error"
    status = 502
    type = "upstream_error"
    code: str | None = "bad_gateway"


class UpstreamUnavailable(UpstreamError):
    kind = "upstream_unavailable"
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    kind = "upstream_timeout"
    status = 504
    code = "upstream_timeout"


class UpstreamRejected(UpstreamError):
    """The upstream refused the request with a 4xx: its status, type and message pass through."""

    kind = "upstream_rejected"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, headers=headers)
        self.status = status
        self.type = type or "invalid_request_error"
        if code is None:
            self.code = None
