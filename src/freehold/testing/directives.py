"""Behaviour switches that tests write into the last user message of a request to a mock
upstream, e.g. ``"hi [[status:429]]"``. Shared by every mock so they all behave alike:

- ``[[sleep:S]]``   wait S seconds before answering (before the first chunk of a stream)
- ``[[status:N]]``  answer with HTTP status N and the provider's error body
- ``[[tool]]``      call the request's first tool with ``{"echo": <text>}``
- ``[[no-usage]]``  leave usage out of the answer / the stream
- ``[[cut]]``       a stream: send two chunks, then drop the connection
- ``[[garbage]]``   answer 200 with a body that is not JSON
- ``[[words:N]]``   answer with N words ``w0 w1 …``
- ``[[echo]]``      answer with the text itself (no ``You said:``)

Misbehaviour of untrusted upstreams (what a gateway must not pass on as a good answer):

- ``[[halt:N]]``        a stream: stop cleanly after N words, with no finish reason and no
  end marker (``[DONE]``, ``message_stop``)
- ``[[no-done]]``       a stream: finish every choice but leave out ``[DONE]`` (as some
  OpenAI-compatible servers do)
- ``[[as-json]]``       a stream request answered with the whole answer as ``application/json``
- ``[[malformed:K]]``   a part of the answer (whole, or the first streamed word) has the wrong
  type; each mock documents its kinds ``K``
- ``[[usage:K]]``       report a prompt/input token count that cannot be believed: ``huge``
  (2**63), ``negative`` (-1000000), ``float`` (3.5), ``bool`` (true), ``string`` ("7")
- ``[[key:F]]``         with ``[[status:401]]``: quote the caller's key in a provider's masked
  form instead of whole (``quoted_key``): ``stars``, ``dots``, ``padded``, ``ellipsis``
- ``[[reset]]``         (``mock_openai.SocketServer`` only) end the connection with a TCP reset
- ``[[truncate]]``      (``mock_openai.SocketServer`` only) a whole answer: declare its length,
  send half of it, close
- ``[[chunked]]``       (``mock_openai.SocketServer`` only) frame a stream with chunked
  transfer encoding instead of delimiting it by the close
Otherwise the answer is ``"You said: <text>"``, streamed a word per chunk. Token counts are
word counts, so tests can compute usage exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_DIRECTIVE = re.compile(r"\[\[([a-z-]+)(?::([a-z0-9.-]+))?\]\]")
BAD_USAGE: dict[str, Any] = {
    "huge": 2**63,
    "negative": -1_000_000,
    "float": 3.5,
    "bool": True,
    "string": "7",
}


@dataclass(frozen=True, slots=True)
class Directives:
    text: str
    sleep_s: float = 0.0
    status: int | None = None
    tool: bool = False
    no_usage: bool = False
    cut: bool = False
    garbage: bool = False
    words: int | None = None
    echo: bool = False
    halt: int | None = None
    no_done: bool = False
    as_json: bool = False
    malformed: str | None = None
    usage: str | None = None
    key_form: str | None = None
    reset: bool = False
    truncate: bool = False
    chunked: bool = False

    def bad_usage(self, good: int) -> Any:
        """The token count to report: ``good``, or what ``[[usage:K]]`` asks for."""
        return BAD_USAGE.get(self.usage or "", good)

    def reply_words(self) -> list[str]:
        if self.words is not None:
            return [f"w{i}" for i in range(self.words)]
        if self.echo:
            return self.text.split()
        return ["You", "said:", *self.text.split()]


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def parse(text: str) -> Directives:
    found = {name: value for name, value in _DIRECTIVE.findall(text)}
    clean = " ".join(_DIRECTIVE.sub(" ", text).split())
    return Directives(
        text=clean,
        sleep_s=float(found.get("sleep") or 0),
        status=int(found["status"]) if found.get("status") else None,
        tool="tool" in found,
        no_usage="no-usage" in found,
        cut="cut" in found,
        garbage="garbage" in found,
        words=int(found["words"]) if found.get("words") else None,
        echo="echo" in found,
        halt=int(found["halt"]) if found.get("halt") else None,
        no_done="no-done" in found,
        as_json="as-json" in found,
        malformed=found.get("malformed") or None,
        usage=found.get("usage") or None,
        key_form=found.get("key") or None,
        reset="reset" in found,
        truncate="truncate" in found,
        chunked="chunked" in found,
    )


def quoted_key(key: str, form: str | None) -> str:
    """``key`` as an upstream quotes it in an error: whole, or masked as providers do."""
    match form:
        case "stars":  # most of it, then the last four: sk-upstream-SECRET-7f3****4a6f
            return key[:-8] + "****" + key[-4:]
        case "dots":  # sk-...4a6f
            return key[:3] + "..." + key[-4:]
        case "padded":  # sk-proj-********************4a6f
            return key[:8] + "*" * 20 + key[-4:]
        case "ellipsis":  # sk-u…4a6f
            return key[:4] + "…" + key[-4:]
        case _:
            return key


def count_words(text: str) -> int:
    return len(_DIRECTIVE.sub(" ", text).split())
