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
Otherwise the answer is ``"You said: <text>"``, streamed a word per chunk. Token counts are
word counts, so tests can compute usage exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_DIRECTIVE = re.compile(r"\[\[([a-z-]+)(?::([0-9.]+))?\]\]")


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
    )


def count_words(text: str) -> int:
    return len(_DIRECTIVE.sub(" ", text).split())
