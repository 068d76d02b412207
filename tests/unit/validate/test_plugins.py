"""Validator plugins found through the ``freehold.validators`` entry point group, installed
here as a real (tiny) distribution on ``sys.path``."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from freehold.core.types import ChatRequest
from freehold.validate.base import Answer, SpecError
from freehold.validate.plugins import GROUP, PluginValidator, installed
from freehold.validate.registry import build, run_all

MODULE = """
from freehold.core.types import Verdict


def shout(request, answer, *, min_letters=1):
    letters = [c for c in answer if c.isalpha()]
    loud = len(letters) >= min_letters and all(c.isupper() for c in letters)
    return (loud, "all capitals" if loud else "not shouting")


def as_bool(request, answer):
    return answer == "yes"


def as_dict(request, answer):
    return {"passed": False, "reason": "too short", "details": {"length": len(answer)}}


def as_verdict(request, answer):
    return Verdict("someone-else", True, "fine", {"score": 0.9})


def sees_request(request, answer):
    model = getattr(request, "model", None)
    return (model == "m1", f"model={model}")


def boom(request, answer):
    raise RuntimeError("kaput")


def weird(request, answer):
    return 42


def half_tuple(request, answer):
    return (True,)


def chatty(request, answer):
    return (False, "x" * 10_000)


def mutates(request, answer, **options):
    before = sorted(options)
    options["seen"] = True
    return (before == ["k"], str(before))


not_a_function = 5
"""

ENTRY_POINTS = """
[freehold.validators]
shout = myplug_mod:shout
as_bool = myplug_mod:as_bool
as_dict = myplug_mod:as_dict
as_verdict = myplug_mod:as_verdict
sees_request = myplug_mod:sees_request
boom = myplug_mod:boom
weird = myplug_mod:weird
half_tuple = myplug_mod:half_tuple
chatty = myplug_mod:chatty
mutates = myplug_mod:mutates
not_a_function = myplug_mod:not_a_function
missing_module = myplug_gone:check

[some.other.group]
elsewhere = myplug_mod:shout
"""


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    info = site / "myplug-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    (site / "myplug_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(site))  # also invalidates importlib's caches
    yield site
    sys.modules.pop("myplug_mod", None)


def check(plugin: str, text: str, **options: object) -> tuple[bool, str, dict[str, object]]:
    validator = PluginValidator.from_spec({"type": "python", "plugin": plugin, "options": options})
    verdict = validator.check(Answer(text))
    assert verdict.validator == "python"
    assert verdict.details["plugin"] == plugin
    return verdict.passed, verdict.reason, verdict.details


@pytest.mark.usefixtures("plugins")
def test_installed_plugins_are_found_by_name_in_their_group_only() -> None:
    names = set(installed())
    assert {"shout", "as_bool", "boom", "missing_module"} <= names
    assert "elsewhere" not in names
    assert installed()["shout"].group == GROUP


@pytest.mark.usefixtures("plugins")
def test_a_plugin_gets_its_options_as_keyword_arguments() -> None:
    assert check("shout", "HELLO!") == (True, "shout: all capitals", {"plugin": "shout"})
    assert check("shout", "Hello")[:2] == (False, "shout: not shouting")
    assert not check("shout", "HI", min_letters=3)[0]
    assert check("shout", "HEY", min_letters=3)[0]


@pytest.mark.usefixtures("plugins")
def test_every_supported_return_shape_becomes_a_verdict() -> None:
    assert check("as_bool", "yes")[:2] == (True, "as_bool: passed")
    assert check("as_bool", "no")[:2] == (False, "as_bool: failed")
    assert check("as_dict", "abc") == (
        False,
        "as_dict: too short",
        {"length": 3, "plugin": "as_dict"},
    )
    assert check("as_verdict", "x") == (
        True,
        "as_verdict: fine",
        {"score": 0.9, "plugin": "as_verdict"},
    )


@pytest.mark.usefixtures("plugins")
def test_a_plugin_sees_the_request() -> None:
    request = ChatRequest.model_validate(
        {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
    )
    validator = build({"type": "python", "plugin": "sees_request"})
    assert validator.check(Answer("x", request=request)).passed
    alone = validator.check(Answer("x"))
    assert not alone.passed
    assert alone.reason == "sees_request: model=None"


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("plugin", "options", "reason"),
    [
        ("boom", {}, "boom: plugin raised RuntimeError: kaput"),
        ("weird", {}, "weird: plugin returned an unsupported value of type int"),
        ("half_tuple", {}, "half_tuple: plugin returned an unsupported value of type tuple"),
        ("as_bool", {"strict": True}, "as_bool: plugin raised TypeError: "),
    ],
)
def test_a_misbehaving_plugin_fails_the_answer_not_the_gateway(
    plugin: str, options: dict[str, object], reason: str
) -> None:
    passed, said, _ = check(plugin, "x", **options)
    assert not passed
    assert said.startswith(reason)


@pytest.mark.usefixtures("plugins")
def test_long_reasons_are_cut_and_options_are_not_shared_between_calls() -> None:
    _, reason, _ = check("chatty", "x")
    assert len(reason) == 500
    assert reason.endswith("…")
    validator = PluginValidator.from_spec(
        {"type": "python", "plugin": "mutates", "options": {"k": 1}}
    )
    first, second = run_all([validator, validator], Answer("x"))
    assert first.passed
    assert second.passed
    assert second.reason == "mutates: ['k']"


@pytest.mark.usefixtures("plugins")
def test_an_unknown_plugin_lists_the_installed_ones() -> None:
    with pytest.raises(SpecError) as raised:
        PluginValidator.from_spec({"type": "python", "plugin": "whisper"})
    message = str(raised.value)
    assert message.startswith("plugin: no validator plugin 'whisper' is installed; installed: ")
    assert "as_bool, as_dict, as_verdict, boom" in message


def test_with_no_plugins_installed_the_message_says_so() -> None:
    with pytest.raises(SpecError, match=r"installed: none \(no package provides the freehold"):
        PluginValidator.from_spec({"type": "python", "plugin": "shout"})


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (
            {"plugin": "missing_module"},
            r"^plugin: 'missing_module' \(myplug_gone:check\) failed "
            r"to load: ModuleNotFoundError",
        ),
        ({"plugin": "not_a_function"}, r"^plugin: 'not_a_function' .* is not a function"),
        ({"plugin": ""}, r"^plugin: must be a non-empty string"),
        ({}, r"^plugin: must be a non-empty string"),
        ({"plugin": "shout", "options": [1]}, r"^options: must be a mapping"),
        ({"plugin": "shout", "options": {"not valid": 1}}, r"^options\.not valid: must be a valid"),
        ({"plugin": "shout", "args": {}}, r"^args: unknown key"),
    ],
)
def test_bad_plugin_specs(spec: dict[str, object], fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        PluginValidator.from_spec({"type": "python", **spec})
