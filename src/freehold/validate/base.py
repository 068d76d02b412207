"""The validator interface: one answer in, one Verdict out.

A validator is built once from its spec (a dict from YAML or from the request's
``extra_body.freehold.validate``) and then checks many answers. It is pure: it never calls a
model, never touches the network, and never executes the answer; its time and memory are
bounded whatever the answer's size or shape. Example::

    validator = build({"type": "number", "equals": 18})
    verdict = validator.check(Answer(text="… so she makes $18. #### 18"))
    verdict.passed  # True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from freehold.core.types import ChatRequest, Verdict


@dataclass(frozen=True, slots=True)
class Answer:
    """What a validator sees of one answer."""

    text: str
    request: ChatRequest | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    completion_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Validator(Protocol):
    name: str
    """The spec's ``type`` (what verdicts are labelled with)."""

    def check(self, answer: Answer) -> Verdict:
        """Judge ``answer``; never raises for any answer (a malformed one fails)."""


class SpecError(ValueError):
    """A validator spec is wrong; the message names the key and says why."""


#: Each built-in validator is a class with ``from_spec(spec) -> instance`` (raising
#: SpecError) and ``check(answer) -> Verdict``; the registry maps a spec's ``type`` to it.
BUILTIN: dict[str, str] = {
    "json": "freehold.validate.json_checks:JsonValidator",
    "json_schema": "freehold.validate.json_checks:JsonSchemaValidator",
    "regex": "freehold.validate.text_checks:RegexValidator",
    "choice": "freehold.validate.text_checks:ChoiceValidator",
    "length": "freehold.validate.text_checks:LengthValidator",
    "contains": "freehold.validate.text_checks:ContainsValidator",
    "not_contains": "freehold.validate.text_checks:NotContainsValidator",
    "number": "freehold.validate.number_check:NumberValidator",
    "arithmetic": "freehold.validate.arithmetic:ArithmeticValidator",
    "python": "freehold.validate.plugins:PluginValidator",
}
