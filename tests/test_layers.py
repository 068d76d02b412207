"""The import rules of ARCHITECTURE.md: dependencies point down, stages never import each
other, and nothing in the package imports the test fakes."""

from __future__ import annotations

import ast
from pathlib import Path

import freehold

ROOT = Path(freehold.__file__).parent

LEVEL = {
    "core": 0,
    "config": 1,
    "auth": 2,
    "perimeter": 2,
    "routing": 2,
    "validate": 2,
    "providers": 2,
    "ledger": 2,
    "economics": 2,
    "modelfiles": 2,
    "pipeline": 3,
    "api": 4,
    "testing": 4,
    "cli": 5,
}
STAGES = {name for name, level in LEVEL.items() if level == 2}


def package_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else None


def freehold_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: use absolute imports")
            names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "freehold" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def test_every_package_has_a_level() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LEVEL), packages - set(LEVEL)


def test_imports_point_down_and_never_sideways() -> None:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        here = package_of(path)
        if here is None:
            continue
        for line, target in freehold_imports(path):
            if target == here or target not in LEVEL:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if LEVEL[target] > LEVEL[here]:
                problems.append(f"{where}: {here} imports {target}, which is above it")
            elif here in STAGES and target in STAGES:
                problems.append(f"{where}: stage {here} imports stage {target}")
            elif target == "testing":
                problems.append(f"{where}: {here} imports the test fakes")
    assert problems == []


def test_the_guard_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from freehold.api.app import create_app\nimport freehold.ledger.base\n")
    assert freehold_imports(bad) == [(1, "api"), (2, "ledger")]
