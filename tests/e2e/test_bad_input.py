"""Bad input gets an OpenAI-format error with the right status, and a ledger row."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Gateway, StartGateway

URL = "/v1/chat/completions"
USER_X = b'[{"role": "user", "content": "x"}]'
GOOD = {"model": "cloud-big", "messages": [{"role": "user", "content": "hi"}]}


def post(gateway: Gateway, content: bytes, **kwargs: object) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": "Bearer k"}
    return httpx.post(gateway.url + URL, content=content, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def assert_error(
    response: httpx.Response, status: int, code: str | None, param: str | None = None
) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code
    assert body["error"]["param"] == param
    assert "Traceback" not in response.text
    return body["error"]


@pytest.mark.parametrize(
    ("content", "status", "code", "param", "fragment"),
    [
        (b'{"model": "cloud-big", "messages": [', 400, "invalid_request", None, "not valid JSON"),
        (b"", 400, "invalid_request", None, "empty"),
        (b"\xff\xfe{}", 400, "invalid_request", None, "UTF-8"),
        (b"[1, 2]", 400, "invalid_request", None, "JSON object"),
        (
            b'{"messages": [{"role": "user", "content": "x"}]}',
            400,
            "invalid_request",
            "model",
            "Missing required parameter: 'model'",
        ),
        (b'{"model": "cloud-big"}', 400, "invalid_request", "messages", "Missing"),
        (
            b'{"model": "cloud-big", "messages": []}',
            400,
            "invalid_request",
            "messages",
            "at least 1",
        ),
        (
            b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}',
            400,
            "invalid_request",
            "model",
            "valid string",
        ),
        (
            b'{"model": "cloud-big", "messages": [{"role": "robot", "content": "x"}]}',
            400,
            "invalid_request",
            "messages[0].role",
            "Invalid value",
        ),
        (
            b'{"model": "cloud-big", "stream": "yes", "messages": ' + USER_X + b"}",
            400,
            "invalid_request",
            "stream",
            "boolean",
        ),
        (
            b'{"model": "cloud-big", "temperature": 7, "messages": ' + USER_X + b"}",
            400,
            "invalid_request",
            "temperature",
            "less than or equal to 2",
        ),
        (
            b'{"model": "nope", "messages": [{"role": "user", "content": "x"}]}',
            404,
            "model_not_found",
            "model",
            "does not exist",
        ),
    ],
)
def test_bad_request_bodies(
    gateway: Gateway, content: bytes, status: int, code: str, param: str | None, fragment: str
) -> None:
    response = post(gateway, content)
    error = assert_error(response, status, code, param)
    assert fragment in error["message"]
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert row.status == status
    assert row.served_model is None
    assert row.error_type in {"invalid_request", "model_not_found"}


def test_unknown_model_lists_the_available_ones(gateway: Gateway) -> None:
    response = post(gateway, b'{"model": "gpt-5", "messages": [{"role": "user", "content": "x"}]}')
    error = assert_error(response, 404, "model_not_found", "model")
    assert "cloud-big, claude" in error["message"]
    assert gateway.row(response.headers["x-freehold-request-id"]).requested_model == "gpt-5"


def test_body_over_limit_is_413(gateway: Gateway) -> None:
    big = (
        b'{"model": "cloud-big", "messages": [{"role": "user", "content": "'
        + b"x" * 300_000
        + b'"}]}'
    )
    assert_error(post(gateway, big), 413, "request_too_large")


def test_chunked_body_over_limit_is_413(gateway: Gateway) -> None:
    def body():  # type: ignore[no-untyped-def]
        yield b'{"model": "cloud-big", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"y" * 10_000
        yield b'"}]}'

    response = httpx.post(
        gateway.url + URL, content=body(), headers={"content-type": "application/json"}, timeout=10
    )
    assert_error(response, 413, "request_too_large")


def test_unknown_path_and_wrong_method(gateway: Gateway) -> None:
    assert_error(httpx.get(gateway.url + "/v1/nothing"), 404, "not_found")
    assert_error(httpx.get(gateway.url + URL), 405, "method_not_allowed")


def test_configured_api_keys_are_enforced(start_gateway: StartGateway) -> None:
    gateway = start_gateway(lambda c: c["server"].update(api_keys=["good-key-123"]))
    missing = httpx.post(gateway.url + URL, json=GOOD, timeout=10)
    assert_error(missing, 401, "invalid_api_key")
    wrong = httpx.post(gateway.url + URL, json=GOOD, headers={"authorization": "Bearer bad"})
    assert_error(wrong, 401, "invalid_api_key")
    assert gateway.row(wrong.headers["x-freehold-request-id"]).status == 401
    ok = httpx.post(gateway.url + URL, json=GOOD, headers={"authorization": "Bearer good-key-123"})
    assert ok.status_code == 200
    models = httpx.get(gateway.url + "/v1/models")
    assert_error(models, 401, "invalid_api_key")


def test_server_survives_bad_input(gateway: Gateway) -> None:
    for content in (b"\x00\x01", b"{" * 10_000, b'{"model": null}'):
        assert post(gateway, content).status_code == 400
    assert (
        post(
            gateway, b'{"model": "cloud-big", "messages": [{"role": "user", "content": "x"}]}'
        ).status_code
        == 200
    )
