"""The HTTP surface: routes, SSE encoding and error rendering. No business logic."""

from freehold.api.app import create_app

__all__ = ["create_app"]
