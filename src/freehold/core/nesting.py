"""How deeply JSON nests: the one check for request bodies and upstream answers alike.

freehold re-serialises what it relays (orjson), and orjson refuses to write anything nested
deeper than :data:`MAX_ENCODABLE_DEPTH` allows; a body that deep would fail late, as a 500.
So bodies are measured when they are read, against a limit no larger than that.
"""

from __future__ import annotations

from typing import Any

#: The deepest nesting freehold can write back out (orjson's encoder stops at 255 levels).
MAX_ENCODABLE_DEPTH = 250


def too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def nests_deeper(raw: bytes, data: Any, limit: int) -> bool:
    """Whether ``data``, parsed from ``raw``, nests more than ``limit`` levels deep. Counting
    the brackets (in C) bounds the depth from above, so most bodies need no walk."""
    if not isinstance(data, dict | list) or raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return too_deep(data, limit)
