"""Generated chat requests that carry sensitive values, for end-to-end perimeter tests: every
request knows the exact values it embeds, so a test can check that none of them reached an
upstream and that the client got them back.

Values: e-mail addresses, international phone numbers, Luhn-valid card numbers, mod-97-valid
IBANs, US SSNs, AWS access key ids, GitHub tokens, JWTs, private key blocks, and custom terms
(written with other case, Cyrillic look-alike letters or zero-width characters). Places:
plain prose, a fenced code block, a JSON document, an assistant's tool-call arguments and the
tool result, and several messages of one conversation. Each case records the kind of each of
its values (:attr:`Case.kinds`).

The larger recall corpus (:mod:`freehold.testing.recall_corpus`: every kind the perimeter
should catch, in many written forms, one value a request) builds on :class:`Case`,
:class:`Sample` (one value written in its context) and :class:`Spec` (how to write a kind).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from freehold.perimeter.checksums import luhn_check_digit

#: Custom terms the corpus uses; a perimeter config must list them.
CUSTOM_TERMS = ("Project Bluebird", "ACME-7731")
#: Latin letters → the Cyrillic letters that look the same.
LOOKALIKES = {"o": "\u043e", "e": "\u0435", "a": "\u0430", "c": "\u0441", "p": "\u0440"}
_B62 = string.ascii_letters + string.digits
_PHONES = ("+44 20 7946 0958", "+33 1 42 68 53 00", "+81 3-1234-5678", "+49 30 901820")


@dataclass(frozen=True, slots=True)
class Case:
    """One request and the sensitive values it carries (as written in it)."""

    name: str
    messages: list[dict[str, Any]]
    values: tuple[str, ...]
    tools: list[dict[str, Any]] | None = None
    kinds: tuple[str, ...] = ()
    """The kind of each value (``kinds[i]`` is what ``values[i]`` is), where known."""

    def body(self, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": self.messages}
        if self.tools:
            body["tools"] = self.tools
        return body


@dataclass(frozen=True, slots=True)
class Sample:
    """One sensitive value written the way people write it, for the recall corpus
    (:mod:`freehold.testing.recall_corpus`)."""

    kind: str
    variant: str
    """How it is written: ``lower-dash``, ``env``, ``label-compact``, …"""
    value: str
    """What must not leave the perimeter, exactly as written."""
    snippet: str
    """The value in its written context: a label, a config line, a sentence."""
    question: str
    """What an assistant asks to get it, for a value sent alone in the next message."""
    language: str = ""
    """The language of a code block holding :attr:`snippet`."""

    def blanked(self) -> Sample:
        """The same sample with the value removed: its carrier alone, which must be clean.
        The value goes as written, JSON-escaped, and line by line (an indented key)."""
        snippet = self.snippet
        for form in (self.value, json.dumps(self.value, ensure_ascii=False)[1:-1]):
            snippet = snippet.replace(form, "")
        for line in self.value.splitlines():
            snippet = snippet.replace(line, "") if line.strip() else snippet
        return replace(self, value="", snippet=snippet)


@dataclass(frozen=True, slots=True)
class Spec:
    """How to write one kind of value: its variants, and a maker for a given variant."""

    category: str
    """``pii``, ``secret`` or ``custom``: the perimeter policy key it falls under."""
    variants: tuple[str, ...]
    make: Callable[[random.Random, str], Sample]


def _rand(rng: random.Random, n: int, alphabet: str = _B62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _card(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice(string.digits) for _ in range(14))
    digits = body + luhn_check_digit(body)
    sep = rng.choice(["", " ", "-"])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4)) if sep else digits


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    numeric = "".join(str(int(ch, 36)) for ch in bban + "DE00")
    return f"DE{98 - int(numeric) % 97:02d}{bban}"


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _jwt(rng: random.Random) -> str:
    return "eyJhbGciOiJIUzI1NiJ9." + "eyJ" + _rand(rng, 30) + "." + _rand(rng, 43, _B62 + "_-")


def _private_key(rng: random.Random) -> str:
    lines = "\n".join(_rand(rng, 64, _B62 + "+/") for _ in range(3))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----"


def _term(rng: random.Random) -> str:
    term = rng.choice(CUSTOM_TERMS)
    variant = rng.randrange(4)
    if variant == 1:
        return term.upper()
    if variant == 2:  # one Latin letter swapped for its Cyrillic look-alike
        spots = [i for i, ch in enumerate(term) if ch.lower() in LOOKALIKES]
        i = rng.choice(spots)
        return term[:i] + LOOKALIKES[term[i].lower()] + term[i + 1 :]
    if variant == 3:  # a zero-width space inside
        i = rng.randrange(1, len(term) - 1)
        return term[:i] + "\u200b" + term[i:]
    return term


MAKERS: dict[str, Callable[[random.Random], str]] = {
    "email": lambda r: f"{_rand(r, 6, string.ascii_lowercase)}.{r.randint(1, 99)}@example.org",
    "phone": lambda r: r.choice(_PHONES),
    "card": _card,
    "iban": _iban,
    "ssn": _ssn,
    "aws_access_key_id": lambda r: "AKIA" + _rand(r, 16, string.ascii_uppercase + "234567"),
    "github_token": lambda r: "ghp_" + _rand(r, 36),
    "jwt": _jwt,
    "private_key": _private_key,
    "custom": _term,
}


def _prose(value: str, rng: random.Random) -> str:
    lead = rng.choice(["Please check", "Can you summarise the note about", "Why does it fail for"])
    return f"{lead} {value} before Friday."


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _code(value: str, rng: random.Random) -> str:
    return f"Fix this:\n```python\nconfig = {{'owner': {_js(value)}}}\nrun(config)\n```"


def _json(value: str, rng: random.Random) -> str:
    return "Validate: " + json.dumps(
        {"id": rng.randint(1, 999), "field": value, "ok": True}, ensure_ascii=False
    )


def _one_message(name: str, value: str, rng: random.Random) -> Case:
    writer = rng.choice([_prose, _code, _json])
    return Case(name, [{"role": "user", "content": writer(value, rng)}], (value,))


def _tools(name: str, value: str, other: str, rng: random.Random) -> Case:
    """The value in a tool call's arguments, another in the tool's result."""
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Look the customer up."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "arguments": _js({"query": value}),
                    },
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": _js({"match": other}),
        },
        {"role": "user", "content": "Thanks, what next?"},
    ]
    return Case(name, messages, (value, other), [tool])


def _conversation(name: str, values: list[str], rng: random.Random) -> Case:
    """Values spread over a system prompt, earlier turns and the last message."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"You help the account of {values[0]}."},
        {"role": "user", "content": _prose(values[1], rng)},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": [{"type": "text", "text": _json(values[2], rng)}]},
    ]
    return Case(name, messages, tuple(values))


def sensitive_cases(count: int = 1000, seed: int = 7) -> Iterator[Case]:
    """``count`` requests, each kind of value in each kind of place, deterministically."""
    rng = random.Random(seed)
    kinds = list(MAKERS)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        value = MAKERS[kind](rng)
        shape = (i // len(kinds)) % 4
        name = f"{i:04d}-{kind}-{['message', 'tools', 'conversation', 'message'][shape]}"
        if shape == 1:
            other_kind = rng.choice(kinds)
            other = MAKERS[other_kind](rng)
            yield replace(_tools(name, value, other, rng), kinds=(kind, other_kind))
        elif shape == 2:
            extra_kinds: list[str] = []
            extra: list[str] = []
            for _ in range(2):
                extra_kinds.append(rng.choice(kinds))
                extra.append(MAKERS[extra_kinds[-1]](rng))
            case = _conversation(name, [value, *extra], rng)
            yield replace(case, kinds=(kind, *extra_kinds))
        else:
            yield replace(_one_message(name, value, rng), kinds=(kind,))
