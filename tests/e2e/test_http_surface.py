"""The web surface as an attacker and a flaky network see it: media types, Host names, CORS,
slow or malformed HTTP, bodies that never finish, deep nesting, huge numbers and names, and
what a scoped key may see. Every refusal is OpenAI error JSON with its status and a row."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from freehold.testing.servers import ServerThread

from .conftest import Gateway, MakeClient, StartGateway
from .test_budgets import ADMIN, create_key, with_keys

URL = "/v1/chat/completions"
GOOD = {"model": "cloud-big", "messages": [{"role": "user", "content": "hi"}]}


def refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    return str(error["message"])


def rows_with(gateway: Gateway, status: int, count: int = 1) -> list[Any]:
    rows = [r for r in gateway.wait_rows(count) if r.status == status]
    assert len(rows) == count, [(r.status, r.error_type) for r in gateway.rows()]
    return rows


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
def test_a_body_not_declared_as_json_gets_415(gateway: Gateway, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(gateway.url + URL, content=b'{"model": "cloud-big"}', headers=headers)
    assert "application/json" in refusal(response, 415, "unsupported_media_type")
    assert rows_with(gateway, 415)[0].error_type == "unsupported_media_type"


def test_json_with_a_charset_is_accepted(gateway: Gateway) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    response = httpx.post(gateway.url + URL, json=GOOD, headers=headers)
    assert response.status_code == 200, response.text


def test_a_foreign_host_is_refused_on_loopback(gateway: Gateway) -> None:
    response = httpx.post(gateway.url + URL, json=GOOD, headers={"host": "evil.example:8080"})
    assert "evil.example" in refusal(response, 400, "host_not_allowed")
    assert rows_with(gateway, 400)[0].error_type == "host_not_allowed"
    for host in ("localhost", f"127.0.0.1:{gateway.port}", "[::1]:1", "app.localhost"):
        ok = httpx.post(gateway.url + URL, json=GOOD, headers={"host": host})
        assert ok.status_code == 200, (host, ok.text)


def test_allowed_hosts_extend_the_loopback_names(start_gateway: StartGateway) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["server"]["allowed_hosts"] = ["gateway.internal"]

    gateway = start_gateway(edit)
    ok = httpx.post(gateway.url + URL, json=GOOD, headers={"host": "Gateway.Internal:443"})
    assert ok.status_code == 200
    refused = httpx.post(gateway.url + URL, json=GOOD, headers={"host": "other.internal"})
    refusal(refused, 400, "host_not_allowed")


def test_no_cors_headers_unless_configured(start_gateway: StartGateway) -> None:
    plain = start_gateway()
    origin = {"origin": "https://some.site"}
    response = httpx.post(plain.url + URL, json=GOOD, headers=origin)
    assert not any(h.startswith("access-control-") for h in response.headers)
    preflight = httpx.options(
        plain.url + URL, headers={**origin, "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers

    def edit(config: dict[str, Any]) -> None:
        config["server"]["cors_origins"] = ["https://app.example"]

    cors = start_gateway(edit)
    allowed = httpx.options(
        cors.url + URL,
        headers={"origin": "https://app.example", "access-control-request-method": "POST"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.post(cors.url + URL, json=GOOD, headers=origin)
    assert "access-control-allow-origin" not in other.headers


def _connect(gateway: Gateway) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gateway.port))
    sock.settimeout(10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture
def quick_gateway(start_gateway: StartGateway) -> Gateway:
    def edit(config: dict[str, Any]) -> None:
        config["server"].update(header_timeout_s=1, body_timeout_s=1)

    return start_gateway(edit)


def test_slow_headers_get_408_and_silent_connections_are_closed(quick_gateway: Gateway) -> None:
    socks = [_connect(quick_gateway) for _ in range(20)]
    for sock in socks[:10]:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-a: ")
    started = time.monotonic()
    answers = [_read_all(sock) for sock in socks]
    assert time.monotonic() - started < 4
    for answer in answers[:10]:  # a request had begun: it is refused, and recorded
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        assert b'"code":"request_timeout"' in answer
    assert answers[10:] == [b""] * 10  # nothing was asked: closed, no answer, no row
    rows_with(quick_gateway, 408, 10)
    time.sleep(0.3)
    assert len(quick_gateway.rows()) == 10
    for sock in socks:
        sock.close()


def test_pipelined_requests_with_bodies_are_not_taken_for_headers(gateway: Gateway) -> None:
    body = b'{"model": "cloud-big", "messages": [{"role": "user", "content": "hi"}]}'
    one = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    sock = _connect(gateway)
    sock.sendall(one * 3)
    received = b""
    while received.count(b"HTTP/1.1 200 ") < 3:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    sock.close()
    assert b" 408 " not in received and b" 431 " not in received


def test_a_body_that_never_finishes_gets_408_and_a_row(quick_gateway: Gateway) -> None:
    socks = [_connect(quick_gateway) for _ in range(50)]
    for sock in socks:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            b'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": '
        )
    started = time.monotonic()
    for sock in socks:
        answer = _read_all(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        assert b"did not arrive within 1 s" in answer
        sock.close()
    assert time.monotonic() - started < 10  # not the minute it took before
    rows_with(quick_gateway, 408, 50)


def test_a_client_that_leaves_mid_body_gets_a_row_and_one_log_line(gateway: Gateway) -> None:
    sock = _connect(gateway)
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": '
    )
    time.sleep(0.3)
    sock.close()
    row = rows_with(gateway, 499)[0]
    assert row.error_type == "client_disconnected"
    log = gateway.log()
    assert "Traceback" not in log
    assert log.count(row.id) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-bad\x01: v\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\n"
        b"transfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 3\r\n"
        b"transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
    ids=["header-bytes", "chunk-size", "cl-and-te", "request-line"],
)
def test_malformed_http_gets_openai_json(gateway: Gateway, raw: bytes) -> None:
    sock = _connect(gateway)
    sock.sendall(raw)
    answer = _read_all(sock)
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"content-type: application/json" in head
    assert b'"code":"bad_http_request"' in body
    assert rows_with(gateway, 400)[0].error_type == "bad_http_request"


def test_oversized_headers_get_431(gateway: Gateway) -> None:
    sock = _connect(gateway)
    sock.sendall(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: " + b"a" * 70_000)
    answer = _read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]


@pytest.mark.parametrize("depth", [254, 1023])
def test_deep_nesting_in_a_pass_through_field_is_a_400(gateway: Gateway, depth: int) -> None:
    body = b'{"model": "cloud-big", "messages": [{"role": "user", "content": "x"}], "extra": '
    body += b"[" * depth + b"]" * depth + b"}"
    response = httpx.post(
        gateway.url + URL, content=body, headers={"content-type": "application/json"}
    )
    assert "levels deep" in refusal(response, 400, "invalid_request")
    assert rows_with(gateway, 400)[0].requested_model == "cloud-big"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens", "seed"])
def test_out_of_range_numbers_are_a_400_without_keys(gateway: Gateway, field: str) -> None:
    response = httpx.post(gateway.url + URL, json={**GOOD, field: 2**63 + 5})
    refusal(response, 400, "invalid_request")
    assert response.json()["error"]["param"] == field


def test_out_of_range_numbers_are_a_400_with_keys_before_any_store(
    start_gateway: StartGateway, openai_upstream: ServerThread
) -> None:
    keys = with_keys()

    def edit(config: dict[str, Any]) -> None:
        keys(config)
        config["models"][0]["price"]["output_per_mtok"] = 100_000  # worst cases beyond 2**53

    gateway = start_gateway(edit)
    key = create_key(gateway, budget_usd=1000)
    auth = {"authorization": f"Bearer {key['key']}"}
    big = httpx.post(gateway.url + URL, json={**GOOD, "max_tokens": 2**63 - 1}, headers=auth)
    assert refusal(big, 400, "invalid_request")
    # within the schema, but a worst case no budget store can hold exactly
    worst = {**GOOD, "max_tokens": 2**24, "n": 128}
    huge = httpx.post(gateway.url + URL, json=worst, headers=auth)
    assert "too large to hold" in refusal(huge, 400, "invalid_request")
    ok = httpx.post(gateway.url + URL, json=GOOD, headers=auth)
    assert ok.status_code == 200, ok.text
    usage = httpx.get(gateway.url + f"/admin/keys/{key['id']}", headers=ADMIN).json()["usage"]
    assert usage["requests"] == 1


def test_a_huge_unknown_model_name_is_neither_echoed_nor_stored(gateway: Gateway) -> None:
    name = "m" * 150_000  # within the test config's 200 KB body limit
    response = httpx.post(
        gateway.url + URL, json={"model": name, "messages": [{"role": "user", "content": "x"}]}
    )
    refusal(response, 400, "invalid_request")
    assert len(response.content) < 2_000
    row = rows_with(gateway, 400)[0]
    assert row.requested_model is not None and len(row.requested_model) <= 256


def test_an_unknown_model_name_is_echoed_cut(gateway: Gateway) -> None:
    name = "z" * 250
    response = httpx.post(
        gateway.url + URL, json={"model": name, "messages": [{"role": "user", "content": "x"}]}
    )
    message = refusal(response, 404, "model_not_found")
    assert "z" * 100 + "' (cut)" in message and "z" * 101 not in message


def test_a_scoped_key_sees_only_its_models(start_gateway: StartGateway) -> None:
    gateway = start_gateway(with_keys())
    key = create_key(gateway, models=["claude"])
    auth = {"authorization": f"Bearer {key['key']}"}
    listed = httpx.get(gateway.url + "/v1/models", headers=auth).json()["data"]
    assert [m["id"] for m in listed] == ["claude"]
    unknown = httpx.post(gateway.url + URL, json={**GOOD, "model": "nope"}, headers=auth)
    message = refusal(unknown, 404, "model_not_found")
    assert "claude" in message and "cloud-big" not in message
    everyone = create_key(gateway)
    listed = httpx.get(
        gateway.url + "/v1/models", headers={"authorization": f"Bearer {everyone['key']}"}
    ).json()["data"]
    assert {m["id"] for m in listed} == {"claude", "cloud-big"}


def test_failed_requests_are_logged_one_line_each_and_the_summary_prints(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["models"].append(
            {"name": "dead", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}
        )

    gateway = start_gateway(edit)
    response = httpx.post(gateway.url + URL, json={**GOOD, "model": "dead"})
    assert response.status_code == 502
    request_id = response.headers["x-freehold-request-id"]
    gateway.row(request_id)
    log = gateway.log()
    lines = [line for line in log.splitlines() if request_id in line]
    assert len(lines) == 1
    assert "502 whole model=dead error=upstream_unavailable" in lines[0]
    assert "ready on http://127.0.0.1:" in log
    assert "models (3): cloud-big (openai, remote), claude (anthropic, remote)" in log
    ok = make_client(gateway).chat.completions.with_raw_response.create(**GOOD)
    assert ok.headers["x-freehold-request-id"] not in gateway.log()  # no access log by default


def test_the_access_log_is_one_flag_away(start_gateway: StartGateway) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["server"]["access_log"] = True

    gateway = start_gateway(edit)
    response = httpx.post(gateway.url + URL, json=GOOD)
    request_id = response.headers["x-freehold-request-id"]
    gateway.row(request_id)
    lines = [line for line in gateway.log().splitlines() if request_id in line]
    assert len(lines) == 1 and "200 whole model=cloud-big" in lines[0]


def test_model_names_match_ignoring_case(gateway: Gateway) -> None:
    response = httpx.post(gateway.url + URL, json={**GOOD, "model": "Cloud-BIG"})
    assert response.status_code == 200, response.text
    assert response.headers["x-freehold-model"] == "cloud-big"
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert (row.requested_model, row.served_model) == ("Cloud-BIG", "cloud-big")
