"""The recall corpus: one sensitive value per chat request, every kind in every written
variant and every place of a request, for measuring what the perimeter catches, per kind.

Kinds (:data:`SPECS`): PII (:mod:`~freehold.testing.recall_pii`), credentials
(:mod:`~freehold.testing.recall_secrets`) and custom terms. Places (:data:`PLACES`): prose,
a fenced code block, a JSON document (the value JSON-escaped inside a string), an
assistant's tool-call arguments (JSON inside JSON), a tool result, the system prompt, a
part of multi-part content, and ``split``: an assistant asks for it ("What is your social
security number?") and the next user message is the value alone.

Example::

    cases = recall_cases(per_kind=100)
    cases[0].kinds, cases[0].values  # (('email',), ('maria.nguyen40@web.de',))

``recall_cases(..., blank=True)`` is the same stream with every value removed: the
carriers alone, which a scanner must find clean (else a finding proves nothing).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from freehold.testing import recall_pii, recall_secrets
from freehold.testing.sensitive_corpus import CUSTOM_TERMS, LOOKALIKES, Case, Sample, Spec

Messages = list[dict[str, Any]]
Tools = list[dict[str, Any]] | None


def _custom(rng: random.Random, variant: str) -> Sample:
    """A custom term: as listed, upper or lower case, a Cyrillic look-alike letter, or a
    zero-width space inside."""
    term = rng.choice(CUSTOM_TERMS)
    if variant == "upper":
        term = term.upper()
    elif variant == "lower":
        term = term.lower()
    elif variant == "lookalike":
        i = rng.choice([i for i, ch in enumerate(term) if ch.lower() in LOOKALIKES])
        term = term[:i] + LOOKALIKES[term[i].lower()] + term[i + 1 :]
    elif variant == "zero-width":
        i = rng.randrange(1, len(term) - 1)
        term = term[:i] + "\u200b" + term[i:]
    snippet = rng.choice(
        ["the {} launch slips to May", "status of {}?", "{} budget review", "notes: {}"]
    ).format(term)
    return Sample("custom", variant, term, snippet, "Which project is this for?")


SPECS: dict[str, Spec] = {
    **recall_pii.SPECS,
    "custom": Spec("custom", ("listed", "upper", "lower", "lookalike", "zero-width"), _custom),
    **recall_secrets.SPECS,
}

_LEADS = ["Can you check this?", "Why does this fail?", "Please review the following.", "Help:"]
_TAILS = ["Thanks!", "What am I missing?", "Is that right?", "Reply in French."]
_TOOL = {
    "type": "function",
    "function": {"name": "run", "parameters": {"type": "object", "properties": {}}},
}


def _call(arguments: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "run", "arguments": arguments},
            }
        ],
    }


def _prose(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    lead, tail = rng.choice(_LEADS), rng.choice(_TAILS)
    text = (
        f"{lead}\n\n{s.snippet}\n\n{tail}" if "\n" in s.snippet else f"{lead} {s.snippet}. {tail}"
    )
    return [{"role": "user", "content": text}], None


def _code(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    text = f"{rng.choice(_LEADS)}\n```{s.language}\n{s.snippet}\n```"
    return [{"role": "user", "content": text}], None


def _json(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    document = {"id": rng.randint(1, 999), "note": s.snippet, "ok": True}
    return [
        {"role": "user", "content": "Validate: " + json.dumps(document, ensure_ascii=False)}
    ], None


def _tool_args(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    return [
        {"role": "user", "content": "Save this note."},
        _call(json.dumps({"text": s.snippet}, ensure_ascii=False)),
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "saved"}'},
        {"role": "user", "content": rng.choice(_TAILS)},
    ], [_TOOL]


def _tool_result(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    output = (
        s.snippet if rng.random() < 0.5 else json.dumps({"stdout": s.snippet}, ensure_ascii=False)
    )
    return [
        {"role": "user", "content": "Read the config and tell me what is wrong."},
        _call('{"command": "cat config"}'),
        {"role": "tool", "tool_call_id": "call_1", "content": output},
        {"role": "user", "content": rng.choice(_TAILS)},
    ], [_TOOL]


def _system(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    return [
        {"role": "system", "content": f"You are the team's assistant. Context:\n{s.snippet}"},
        {"role": "user", "content": rng.choice(_TAILS)},
    ], None


def _multipart(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    parts = [{"type": "text", "text": rng.choice(_LEADS)}, {"type": "text", "text": s.snippet}]
    return [{"role": "user", "content": parts}], None


def _split(s: Sample, rng: random.Random) -> tuple[Messages, Tools]:
    """The question in the assistant's message, the value alone in the next user message."""
    return [
        {"role": "user", "content": "I need help setting this up."},
        {"role": "assistant", "content": s.question},
        {"role": "user", "content": s.value},
    ], None


PLACES: dict[str, Callable[[Sample, random.Random], tuple[Messages, Tools]]] = {
    "prose": _prose,
    "code": _code,
    "json": _json,
    "tool_args": _tool_args,
    "tool_result": _tool_result,
    "system": _system,
    "multipart": _multipart,
    "split": _split,
}  # fmt: skip


def recall_cases(per_kind: int = 100, seed: int = 11, *, blank: bool = False) -> list[Case]:
    """``per_kind`` requests for each kind of :data:`SPECS`, one value each, cycling through
    the kind's variants and, for each variant, through every place. Deterministic."""
    rng = random.Random(seed)
    places = list(PLACES)
    cases = []
    for kind, spec in SPECS.items():
        n = len(spec.variants)
        for j in range(per_kind):
            sample = spec.make(rng, spec.variants[j % n])
            place = places[(j % n + j // n) % len(places)]
            if blank:
                sample = sample.blanked()
            messages, tools = PLACES[place](sample, rng)
            values = (sample.value,) if sample.value else ()
            name = f"{kind}/{sample.variant}/{place}/{j:03d}"
            cases.append(Case(name, messages, values, tools, (kind,) * len(values)))
    return cases


def secret_parts(value: str) -> tuple[str, ...]:
    """What of ``value`` must not leave: the value, or for a PEM block each line of its
    body (a key redacted but for its last lines has still leaked)."""
    lines = [line for line in value.splitlines() if line and not line.startswith("-----")]
    return tuple(lines) if "\n" in value and lines else (value,)


def json_forms(text: str) -> set[str]:
    """``text`` as it can read in a request body: as is, JSON-escaped once or twice (tool-call
    arguments are JSON inside JSON), with or without ``\\uXXXX`` escapes."""
    once = json.dumps(text, ensure_ascii=False)[1:-1]
    ascii_once = json.dumps(text)[1:-1]
    twice = json.dumps(once, ensure_ascii=False)[1:-1]
    return {text, once, twice, ascii_once, json.dumps(ascii_once)[1:-1]}


def exposed(raw: str, value: str) -> bool:
    """Whether any part of ``value`` (:func:`secret_parts`) reads in ``raw``, a request
    body as JSON text, in any of its :func:`json_forms`."""
    return any(form in raw for part in secret_parts(value) for form in json_forms(part))


def body_text(body: Any) -> str:
    """A request body as JSON text, both with and without ``\\uXXXX`` escapes."""
    return json.dumps(body, ensure_ascii=False) + "\n" + json.dumps(body)
