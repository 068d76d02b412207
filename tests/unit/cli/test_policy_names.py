"""The policy names the CLI offers without numpy are the routing package's own."""

from __future__ import annotations

from freehold.cli import bench
from freehold.routing import policies


def test_the_cli_names_the_routing_policies() -> None:
    assert bench.LEARNED == policies.LEARNED
    assert bench.BASELINES == policies.BASELINES
    assert bench.POLICIES == policies.POLICIES
