"""AlterConfigs (33): replace a topic's whole set of overrides (the legacy, non-incremental API)."""
from __future__ import annotations

from typing import Any

from pystreams.broker.server.topic_configs import alter_topic_resources

API_KEY = 33
VERSIONS = (0, 2)


def _replace_all(resource: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """The request's non-null values are the topic's whole new set of overrides."""
    return {c["name"]: c["value"] for c in resource["configs"] if c["value"] is not None}


def handle(header, request: dict, state, ctx) -> dict:
    return alter_topic_resources(state, request, _replace_all)
