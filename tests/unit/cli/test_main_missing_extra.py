"""A missing extra that escapes a command ends ``freehold`` with one line, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from freehold.cli import main as cli_main
from freehold.core.importer import import_string


@pytest.fixture
def needs_extra() -> Iterator[str]:
    """A command (registered for this test only) whose import needs a missing library."""

    @click.command("needs-extra")
    def command() -> None:
        import_string("fh_absent_library:thing", "routing")

    cli_main.cli.add_command(command)
    yield "needs-extra"
    del cli_main.cli.commands["needs-extra"]


def test_main_turns_a_missing_extra_into_one_line(
    needs_extra: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["freehold", needs_extra])
    with pytest.raises(SystemExit) as caught:
        cli_main.main()
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "Error: this command needs the 'routing' extra (fh_absent_library is not installed): "
        "pip install 'freehold[routing]'\n"
    )
