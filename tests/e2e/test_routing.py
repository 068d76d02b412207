"""Routes through `freehold serve`: rules pick a candidate, cascades escalate on failed
checks or upstream failures; headers, ledger decisions and per-attempt costs; feedback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from freehold.ledger import open_store
from freehold.testing.servers import free_port

from .conftest import Gateway, MakeClient, StartGateway

TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


def with_routes(*routes: dict[str, Any], dead_cheap: bool = False) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["routes"] = list(routes)
        if dead_cheap:
            config["models"][0]["base_url"] = f"http://127.0.0.1:{free_port()}/v1"

    return edit


RULES = {
    "name": "auto",
    "policy": "rules",
    "candidates": ["claude", "cloud-big"],
    "rules": [{"use": "cloud-big", "when": {"has_tools": True}}],
}
CASCADE = {
    "name": "cheap-first",
    "policy": "cascade",
    "candidates": ["cloud-big", "claude"],
    "validators": [{"type": "contains", "value": "42"}],
}


def ask(client: openai.OpenAI, model: str, text: str, **fields: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": text}], **fields
    )


def test_rules_route_picks_by_condition(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(RULES))
    client = make_client(gateway)
    plain = ask(client, "auto", "hello")
    assert plain.headers["x-freehold-model"] == "claude"  # no rule matched: first candidate
    assert plain.headers["x-freehold-route"] == "auto; policy=rules"
    assert plain.headers["x-freehold-escalations"] == "claude"
    tools = ask(client, "auto", "find [[tool]]", tools=TOOLS)
    assert tools.headers["x-freehold-model"] == "cloud-big"
    row = gateway.row(tools.headers["x-freehold-request-id"])
    assert (row.requested_model, row.served_model, row.route) == (
        "auto",
        "cloud-big",
        "auto; policy=rules",
    )
    assert row.decision["rule"] == 0 and row.decision["choice"] == "cloud-big"
    assert gateway.row(plain.headers["x-freehold-request-id"]).decision["rule"] is None
    assert [m.id for m in client.models.list()] == ["cloud-big", "claude", "auto"]


def test_cascade_accepts_the_cheap_answer_when_it_passes(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(CASCADE))
    raw = ask(make_client(gateway), "cheap-first", "the answer is 42")
    assert raw.headers["x-freehold-model"] == "cloud-big"
    assert raw.headers["x-freehold-escalations"] == "cloud-big"
    assert raw.headers["x-freehold-validation"] == "pass"
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert row.decision == {
        "policy": "cascade",
        "candidates": ["cloud-big", "claude"],
        "accepted": "cloud-big",
    }
    assert [a["model"] for a in row.attempt_log] == ["cloud-big"]


def test_cascade_escalates_and_pays_for_every_attempt(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(CASCADE))
    raw = ask(make_client(gateway), "cheap-first", "what is six times seven")
    assert raw.headers["x-freehold-escalations"] == "cloud-big,claude"
    assert raw.headers["x-freehold-model"] == "claude"
    assert raw.headers["x-freehold-validation"] == "fail"  # the last answer stands, annotated
    row = gateway.row(raw.headers["x-freehold-request-id"])
    cheap, big = row.attempt_log
    assert (cheap["model"], cheap["validation"], big["model"]) == ("cloud-big", "fail", "claude")
    # "what is six times seven": 5 prompt words; "You said: …" 7 words, both mocks
    assert (cheap["prompt_tokens"], cheap["completion_tokens"]) == (5, 7)
    assert Decimal(cheap["cost_usd"]) == Decimal("0.0000825")  # 5×2.5 + 7×10 per M
    assert Decimal(big["cost_usd"]) == Decimal("0.00012")  # 5×3 + 7×15 per M
    assert row.cost_usd == Decimal("0.0002025")
    assert (row.prompt_tokens, row.completion_tokens, row.attempts) == (10, 14, 2)
    assert Decimal(raw.headers["x-freehold-cost-usd"]) == row.cost_usd


def test_cascade_escalates_past_an_unreachable_candidate(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(CASCADE, dead_cheap=True))
    raw = ask(make_client(gateway), "cheap-first", "42")
    assert raw.headers["x-freehold-escalations"] == "cloud-big,claude"
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert row.attempt_log[0]["error"] == "upstream_unavailable"
    assert row.status == 200 and row.served_model == "claude"


def test_cascade_stream_is_decided_before_it_is_sent(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(CASCADE))
    raw = ask(make_client(gateway), "cheap-first", "six sevens", stream=True)
    assert raw.headers["x-freehold-escalations"] == "cloud-big,claude"
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "You said: six sevens"


def test_on_fail_error_applies_to_the_last_candidate(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_routes(CASCADE))
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(
            make_client(gateway),
            "cheap-first",
            "no number",
            extra_body={"freehold": {"on_fail": "error"}},
        )
    assert caught.value.response.headers["x-freehold-escalations"] == "cloud-big,claude"


def test_unknown_model_lists_routes_too(start_gateway: StartGateway) -> None:
    gateway = start_gateway(with_routes(RULES))
    response = httpx.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.json()["error"]["message"].endswith("cloud-big, claude, auto.")


def test_feedback_is_kept_in_the_ledger(gateway: Gateway) -> None:
    response = httpx.post(
        gateway.url + "/v1/feedback",
        json={"request_id": "req_abc", "score": 0.25, "source": "reviewer"},
    )
    assert response.status_code == 201
    assert response.json()["object"] == "feedback"
    for bad in (
        {"request_id": "req_abc", "score": 1.5},
        {"score": 1},
        {"request_id": "x", "score": "high"},
    ):
        refused = httpx.post(gateway.url + "/v1/feedback", json=bad)
        assert refused.status_code == 400, bad
    store = open_store(gateway.ledger_url)
    try:
        (item,) = store.feedback()
    finally:
        store.close()
    assert (item.request_id, item.score, item.source) == ("req_abc", 0.25, "reviewer")


WEAK, STRONG = "mixtral-8x7b-instruct-v0.1", "gpt-4-1106-preview"


def training_records(path: Any) -> Any:
    """Short questions the cheap model gets right, long numeric ones it gets wrong."""
    lines = []
    for i in range(60):
        hard = i % 2 == 1
        prompt = (
            "Compute " + " ".join(f"{i * 7 + k} + {k * 3}" for k in range(40)) + " exactly."
            if hard
            else f"Say hello to friend number {i}."
        )
        lines.append(
            json.dumps(
                {
                    "id": f"r{i}",
                    "task": "mixed",
                    "prompt": prompt,
                    "outcomes": {
                        WEAK: {"score": 0.0 if hard else 1.0, "response": "ok"},
                        STRONG: {"score": 1.0},
                    },
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def train(policy: str, records: Any, out: Any) -> None:
    trained = subprocess.run(
        [
            sys.executable,
            "-m",
            "freehold",
            "router",
            "train",
            "--policy",
            policy,
            "--records",
            str(records),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads(out.read_text())["policy"] == policy


def test_predictive_route_uses_a_trained_router(
    start_gateway: StartGateway, make_client: MakeClient, tmp_path: Any
) -> None:
    records = training_records(tmp_path / "records.jsonl")
    router = tmp_path / "router.json"
    train("predictive", records, router)
    route = {
        "name": "smart",
        "policy": "predictive",
        "candidates": ["cloud-big", "claude"],
        "router": str(router),
        "target": 0.5,
    }
    gateway = start_gateway(with_routes(route))
    client = make_client(gateway)
    easy = ask(client, "smart", "Say hello to friend number 99.")
    hard = ask(client, "smart", "Compute " + " ".join(f"{k} + {k * 5}" for k in range(40)))
    assert easy.headers["x-freehold-model"] == "cloud-big"
    assert hard.headers["x-freehold-model"] == "claude"
    row = gateway.row(hard.headers["x-freehold-request-id"])
    assert row.decision["policy"] == "predictive" and row.decision["p_cheap_ok"] < 0.5
    assert gateway.row(easy.headers["x-freehold-request-id"]).decision["p_cheap_ok"] >= 0.5


@pytest.mark.parametrize(("target", "escalations"), [(0.0, "cloud-big"), (1.0, "cloud-big,claude")])
def test_cascade_verifier_decides_with_its_target(
    start_gateway: StartGateway,
    make_client: MakeClient,
    tmp_path: Any,
    target: float,
    escalations: str,
) -> None:
    records = training_records(tmp_path / "records.jsonl")
    router = tmp_path / "cascade.json"
    train("cascade", records, router)
    route = {
        "name": "verified",
        "policy": "cascade",
        "candidates": ["cloud-big", "claude"],
        "router": str(router),
        "target": target,
    }
    gateway = start_gateway(with_routes(route))
    raw = ask(make_client(gateway), "verified", "Say hello to friend number 3.")
    assert raw.headers["x-freehold-escalations"] == escalations
    decision = gateway.row(raw.headers["x-freehold-request-id"]).decision
    assert 0.0 <= decision["verifier"] <= 1.0


def test_router_trained_from_served_traffic_and_feedback(
    start_gateway: StartGateway, tmp_path: Any
) -> None:
    def keep_text(config: dict[str, Any]) -> None:
        config["training"] = {"keep_text": True}

    gateway = start_gateway(keep_text)
    chat = gateway.url + "/v1/chat/completions"
    for i in range(12):
        hard = i % 2 == 1
        text = ("compute " + " ".join(f"{i}+{k}" for k in range(30))) if hard else f"hi {i}"
        reply = httpx.post(
            chat,
            timeout=10,
            json={"model": "cloud-big", "messages": [{"role": "user", "content": text}]},
        )
        request_id = reply.headers["x-freehold-request-id"]
        judged = httpx.post(
            gateway.url + "/v1/feedback",
            timeout=10,
            json={"request_id": request_id, "score": 0.0 if hard else 1.0, "source": "test"},
        )
        assert judged.status_code == 201
    assert gateway.stop() in (0, -15)
    store = open_store(gateway.ledger_url)
    try:
        texts = store.texts()
    finally:
        store.close()
    assert len(texts) == 12 and texts[0].model == "cloud-big"
    assert any(t.prompt == "hi 0" and t.answer == "You said: hi 0" for t in texts)
    # exports never carry the texts
    assert all("You said" not in json.dumps(row.to_json()) for row in gateway.rows())

    out = tmp_path / "served.json"
    trained = subprocess.run(
        [
            sys.executable,
            "-m",
            "freehold",
            "router",
            "train",
            "--policy",
            "predictive",
            "--from-ledger",
            "--config",
            str(gateway.config),
            "--weak",
            "cloud-big",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "UPSTREAM_KEY": "k"},
    )
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert (summary["records"], summary["weak"]) == (12, "cloud-big")
    assert json.loads(out.read_text())["trained_on"] == 12

    too_few = subprocess.run(
        [
            sys.executable,
            "-m",
            "freehold",
            "router",
            "train",
            "--policy",
            "predictive",
            "--from-ledger",
            "--config",
            str(gateway.config),
            "--weak",
            "claude",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "UPSTREAM_KEY": "k"},
    )
    assert too_few.returncode == 1
    assert "holds 0 judged answers of 'claude'" in too_few.stderr
