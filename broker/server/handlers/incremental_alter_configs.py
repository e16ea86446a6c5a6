"""IncrementalAlterConfigs (44): SET / DELETE / APPEND / SUBTRACT single topic config keys."""
from __future__ import annotations

from typing import Any

from pystreams.broker.server import codes
from pystreams.broker.server.state import TopicError
from pystreams.broker.server.topic_configs import alter_topic_resources

API_KEY = 44
VERSIONS = (0, 1)
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
LIST_KEYS = {"cleanup.policy", "follower.replication.throttled.replicas",
             "leader.replication.throttled.replicas"}


def _apply(current: dict[str, str], op: int, key: str, value: str | None) -> None:
    if op == SET:
        if value is None:
            raise TopicError(codes.INVALID_REQUEST, f"Null value not supported for {key}")
        current[key] = value
    elif op == DELETE:
        current.pop(key, None)
    elif op in (APPEND, SUBTRACT):
        if key not in LIST_KEYS:
            raise TopicError(codes.INVALID_CONFIG, f"Config value append/subtract is not "
                             f"allowed for config key {key}")
        items = [v for v in current.get(key, "").split(",") if v]
        for v in (value or "").split(","):
            if op == APPEND and v and v not in items:
                items.append(v)
            elif op == SUBTRACT and v in items:
                items.remove(v)
        current[key] = ",".join(items)
    else:
        raise TopicError(codes.INVALID_REQUEST, f"Unknown config operation {op}")


def _apply_all(resource: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """The topic's overrides after each of the request's operations, in order."""
    for c in resource["configs"]:
        _apply(current, c["config_operation"], c["name"], c["value"])
    return current


def handle(header, request: dict, state, ctx) -> dict:
    return alter_topic_resources(state, request, _apply_all)
