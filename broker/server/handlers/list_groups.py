"""ListGroups (16): every group, optionally filtered by state (v4+) and type (v5+)."""
from __future__ import annotations

API_KEY = 16
VERSIONS = (0, 5)


def handle(header, request: dict, state, ctx) -> dict:
    states = {s.lower() for s in request.get("states_filter") or []}
    types = {t.lower() for t in request.get("types_filter") or []}
    groups = []
    for g in state.coordinator.machine.list_groups():
        if states and g.state.lower() not in states:
            continue
        if types and "classic" not in types:
            continue
        groups.append({"group_id": g.group_id, "protocol_type": g.protocol_type or "",
                       "group_state": g.state, "group_type": "classic"})
    return {"throttle_time_ms": 0, "error_code": 0, "groups": groups}
