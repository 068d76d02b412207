"""``import_string``: optional libraries load by name; a missing one names its extra."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.core.importer import MissingExtra, import_string, install_hint


def test_imports_an_attribute_by_name() -> None:
    assert import_string("decimal:Decimal") is __import__("decimal").Decimal


def test_a_missing_library_names_the_extra() -> None:
    with pytest.raises(MissingExtra) as caught:
        import_string("fh_absent_library.aio:Client", "redis")
    assert (caught.value.name, caught.value.extra) == ("fh_absent_library", "redis")
    assert str(caught.value) == (
        "fh_absent_library.aio:Client needs the optional dependency 'fh_absent_library': "
        "pip install 'freehold[redis]'"
    )
    # the library itself as the target
    with pytest.raises(MissingExtra, match=r"pip install 'freehold\[local\]'"):
        import_string("fh_absent_library:Client", "local")


def test_a_module_that_reraises_is_traced_to_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module that catches the missing import and raises its own ImportError (no name)."""
    (tmp_path / "fh_reraising.py").write_text(
        "try:\n    import fh_absent_library\n"
        "except ImportError as exc:\n    raise ImportError('needs fh_absent_library') from exc\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingExtra) as caught:
        import_string("fh_reraising:thing", "perimeter")
    assert caught.value.name == "fh_absent_library"
    assert str(caught.value).endswith(install_hint("perimeter"))


def test_a_missing_freehold_module_is_a_bug_not_an_extra() -> None:
    with pytest.raises(ImportError) as caught:
        import_string("freehold.no_such_module:thing", "routing")
    assert not isinstance(caught.value, MissingExtra)
    with pytest.raises(ImportError) as plain:
        import_string("fh_no_such_library:thing")
    assert not isinstance(plain.value, MissingExtra)
