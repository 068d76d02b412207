"""The short names ``freehold pull`` knows: ``catalog.yaml`` (shipped with the package),
validated strictly, and where pulled files go (``$FREEHOLD_HOME/models``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from freehold.config.home import models_dir

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class CatalogError(Exception):
    """The shipped catalogue is malformed (a packaging bug, not a user error)."""


class UnknownModel(LookupError):
    """A short name that is not in the catalogue; ``known`` lists the ones that are."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"unknown model {name!r}; known names: {', '.join(known)} "
            "(or pass an http(s) URL to a .gguf file)"
        )


class CatalogEntry(BaseModel):
    """One pullable file and what is known about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    url: str
    filename: str
    size_bytes: int = Field(gt=0)
    sha256: str | None
    """None only for a file whose hash is not known yet: the pull is then unverified."""
    quantization: str = Field(min_length=1)
    params: str = Field(min_length=1)
    license: str = Field(min_length=1)
    source: str
    """Where ``sha256`` and ``size_bytes`` are published."""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("lower-case letters, digits, '.', '_' and '-' only")
        return value

    @field_validator("url", "source")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("filename")
    @classmethod
    def _gguf_name(cls, value: str) -> str:
        if "/" in value or value.startswith(".") or not value.endswith(".gguf"):
            raise ValueError("must be a plain *.gguf file name")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX64.match(value):
            raise ValueError("must be 64 lower-case hex characters (or null)")
        return value


default_models_dir = models_dir


@functools.cache
def load_catalog() -> dict[str, CatalogEntry]:
    """The shipped catalogue, by short name (read once)."""
    text = resources.files("freehold.modelfiles").joinpath("catalog.yaml").read_text("utf-8")
    return parse_catalog(yaml.safe_load(text))


def parse_catalog(data: Any) -> dict[str, CatalogEntry]:
    """Validate a catalogue mapping ``{name: {field: value}}``."""
    if not isinstance(data, dict):
        raise CatalogError("the catalogue must be a mapping of short names to entries")
    entries: dict[str, CatalogEntry] = {}
    for name, fields in data.items():
        if not isinstance(fields, dict):
            raise CatalogError(f"catalogue entry {name!r} must be a mapping")
        try:
            entries[str(name)] = CatalogEntry(name=str(name), **fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise CatalogError(f"catalogue entry {name!r}: {problems}") from None
    return entries


def lookup(name: str, catalog: Mapping[str, CatalogEntry] | None = None) -> CatalogEntry:
    """The entry for a short name (case-insensitive), or :class:`UnknownModel`."""
    entries = load_catalog() if catalog is None else catalog
    entry = entries.get(name) or entries.get(name.lower())
    if entry is None:
        raise UnknownModel(name, sorted(entries))
    return entry
