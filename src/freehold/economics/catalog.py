"""The planner's catalogues: models, hardware and weight formats, read from YAML data files.

Each entry is an id (lower case) mapping to a ``name``, an optional entry-wide ``source``
and figures. A figure is ``{value, unit, source}``, or ``{value, unit, assumption, as_of}``
when no datasheet gives it (prices, for one); its :attr:`Figure.source` is then
``"assumption (as of DATE): WHY"``. Built-in files: ``models.yaml``, ``hardware.yaml``,
``quant.yaml`` in this package. A user file (``freehold plan --catalog FILE``) holds any of
the top-level mappings ``models``, ``hardware``, ``quant``; its entries replace built-in
entries of the same id, and its figures default their source to ``"user catalogue FILE"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KINDS = ("models", "hardware", "quant")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
REQUIRED: dict[str, tuple[str, ...]] = {
    "models": ("params", "layers", "kv_heads", "head_dim"),
    "hardware": ("memory_gb", "bandwidth_gb_s", "peak_tflops", "watts", "purchase_usd"),
    "quant": ("bits_per_weight",),
}
PROBED = ("memory_gb", "bandwidth_gb_s", "peak_tflops")


class CatalogError(ValueError):
    """A catalogue file or entry is malformed, or a name is not in the catalogue."""


@dataclass(frozen=True)
class Figure:
    """A number with its unit and where it comes from (a URL or a dated assumption)."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Entry:
    """One catalogue entry: ``figures`` by field name, plus ``probe`` for ``this-machine``."""

    id: str
    name: str
    figures: dict[str, Figure]
    probe: bool = False

    def figure(self, key: str) -> Figure | None:
        return self.figures.get(key)

    def get(self, key: str) -> Figure:
        try:
            return self.figures[key]
        except KeyError:
            raise CatalogError(f"{self.id} has no {key}") from None


@dataclass(frozen=True)
class Catalog:
    """The three catalogues, by id."""

    models: dict[str, Entry] = field(default_factory=dict)
    hardware: dict[str, Entry] = field(default_factory=dict)
    quant: dict[str, Entry] = field(default_factory=dict)

    def lookup(self, kind: str, name: str) -> Entry:
        """The entry ``name`` (case-insensitive) of ``kind``; unknown names list the known."""
        table: dict[str, Entry] = getattr(self, kind)
        entry = table.get(name.lower())
        if entry is None:
            known = ", ".join(sorted(table))
            noun = {"models": "model", "quant": "weight format"}.get(kind, kind)
            raise CatalogError(f"unknown {noun} {name!r} (known: {known})")
        return entry

    def merged(self, other: Catalog) -> Catalog:
        """This catalogue with ``other``'s entries added or replacing same-id ones."""
        return Catalog(
            models={**self.models, **other.models},
            hardware={**self.hardware, **other.hardware},
            quant={**self.quant, **other.quant},
        )


def _figure(where: str, raw: Any, default_source: str | None) -> Figure:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected {{value, unit, source}}, got {raw!r}")
    try:
        value = float(raw["value"])
    except (KeyError, TypeError, ValueError):
        raise CatalogError(f"{where}: needs a numeric value") from None
    unit = raw.get("unit")
    if not isinstance(unit, str) or not unit:
        raise CatalogError(f"{where}: needs a unit")
    source = raw.get("source")
    if "assumption" in raw:
        if not raw.get("as_of"):
            raise CatalogError(f"{where}: an assumption needs as_of (a date)")
        source = f"assumption (as of {raw['as_of']}): {raw['assumption']}"
    source = source or default_source
    if not isinstance(source, str) or not source:
        raise CatalogError(f"{where}: needs a source (URL) or an assumption with as_of")
    return Figure(value, unit, source)


def parse_entries(
    kind: str, raw: Any, origin: str, default_source: str | None = None
) -> dict[str, Entry]:
    """Entries of ``kind`` from a YAML mapping; raises :class:`CatalogError` with the place."""
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{origin}: {kind} must be a mapping of id to entry")
    entries: dict[str, Entry] = {}
    for key, body in raw.items():
        ident = str(key)
        where = f"{origin}: {kind}.{ident}"
        if not ID_PATTERN.match(ident):
            raise CatalogError(f"{where}: ids are lower case (a-z, 0-9, '.', '_', '-')")
        if not isinstance(body, Mapping):
            raise CatalogError(f"{where}: expected a mapping")
        source = body.get("source", default_source)
        probe = bool(body.get("probe", False))
        figures = {
            name: _figure(f"{where}.{name}", value, source)
            for name, value in body.items()
            if name not in ("name", "source", "probe")
        }
        needed = [k for k in REQUIRED[kind] if not (probe and k in PROBED)]
        missing = [k for k in needed if k not in figures]
        if missing:
            raise CatalogError(f"{where}: missing {', '.join(missing)}")
        entries[ident] = Entry(ident, str(body.get("name", ident)), figures, probe)
    return entries


def builtin_catalog() -> Catalog:
    """The catalogues shipped in this package."""
    package = resources.files("freehold.economics")
    tables = {
        kind: parse_entries(
            kind, yaml.safe_load(package.joinpath(f"{file}.yaml").read_text()), f"{file}.yaml"
        )
        for kind, file in zip(KINDS, ("models", "hardware", "quant"), strict=True)
    }
    return Catalog(**tables)


def load_user_catalog(path: str | Path) -> Catalog:
    """A user catalogue file: top-level ``models``, ``hardware`` and/or ``quant`` mappings."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read the catalogue {path}: {exc}") from None
    if not isinstance(raw, Mapping) or not set(raw) <= set(KINDS) or not raw:
        raise CatalogError(f"{path}: expected top-level keys among {', '.join(KINDS)}")
    default = f"user catalogue {path}"
    tables = {kind: parse_entries(kind, raw[kind], str(path), default) for kind in raw}
    return Catalog(**tables)
