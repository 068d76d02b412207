"""README.md stays true: its CLI reference is `freehold --help`, and CI runs its test command."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from click.testing import CliRunner

from freehold.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- cli-reference -->", "<!-- /cli-reference -->"


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def render_reference() -> str:
    runner = CliRunner()
    parts = []
    for path in command_paths(cli):
        result = runner.invoke(cli, [*path, "--help"], prog_name="freehold", terminal_width=100)
        assert result.exit_code == 0, result.output
        title = " ".join(("freehold", *path))
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def test_cli_reference_matches_help() -> None:
    text = README.read_text()
    before, rest = text.split(START)
    _, after = rest.split(END)
    expected = f"{before}{START}\n{render_reference()}{END}{after}"
    if os.environ.get("FREEHOLD_UPDATE_README"):
        README.write_text(expected)
    assert text == expected, "README's CLI reference is stale: FREEHOLD_UPDATE_README=1 pytest"


def test_ci_runs_the_readme_test_command() -> None:
    block = README.read_text().split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    (command,) = re.findall(r"```sh\n(.+?)\n```", block)
    assert "pytest" in command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci  # .ci/run extracts the command from README.md itself
