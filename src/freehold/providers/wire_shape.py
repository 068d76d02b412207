"""Checking the shape of what an upstream sent, with errors that name what was wrong.

The checks are plain ``isinstance`` tests on the parsed JSON (cheaper than building models
on every stream chunk); each failure is an ``UpstreamError`` (502 ``bad_gateway``) such as
``upstream 'x' sent a malformed answer: choices[0].message.content is an integer, expected
a string, a list of parts or null``.
"""

from __future__ import annotations

from typing import Any

from freehold.core.errors import UpstreamError
from freehold.core.types import describe_json


class Shape:
    """The checks of one document (an answer, a stream chunk, a stream event)."""

    __slots__ = ("upstream", "what")

    def __init__(self, upstream: str, what: str) -> None:
        self.upstream = upstream
        self.what = what

    def error(self, path: str, problem: str) -> UpstreamError:
        return UpstreamError(
            f"upstream {self.upstream!r} sent a malformed {self.what}: {path} {problem}"
        )

    def wrong(self, path: str, value: Any, expected: str) -> UpstreamError:
        return self.error(path, f"is {describe_json(value)}, expected {expected}")

    def missing(self, path: str, expected: str) -> UpstreamError:
        return self.error(path, f"is missing, expected {expected}")

    def object(self, parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        """``parent[key]``, which must be an object."""
        value = parent.get(key)
        if isinstance(value, dict):
            return value
        if key not in parent:
            raise self.missing(_join(path, key), "an object")
        raise self.wrong(_join(path, key), value, "an object")

    def text(self, parent: dict[str, Any], key: str, path: str, *, required: bool = False) -> None:
        """``parent[key]`` must be a string (or null or absent, unless ``required``)."""
        value = parent.get(key)
        if isinstance(value, str):
            return
        if required:
            if key not in parent:
                raise self.missing(_join(path, key), "a string")
            raise self.wrong(_join(path, key), value, "a string")
        if value is not None:
            raise self.wrong(_join(path, key), value, "a string or null")

    def integer(
        self, parent: dict[str, Any], key: str, path: str, *, required: bool = False
    ) -> None:
        """``parent[key]`` must be an int (not a bool; or absent, unless ``required``)."""
        value = parent.get(key)
        if type(value) is int:
            return
        if key not in parent and not required:
            return
        if key not in parent:
            raise self.missing(_join(path, key), "an integer")
        raise self.wrong(_join(path, key), value, "an integer")

    def items(self, value: Any, path: str, *, nullable: bool = True) -> list[dict[str, Any]]:
        """``value`` as a list of objects (``[]`` for null when ``nullable``)."""
        if value is None and nullable:
            return []
        if not isinstance(value, list):
            raise self.wrong(path, value, "a list or null" if nullable else "a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.wrong(f"{path}[{i}]", item, "an object")
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
