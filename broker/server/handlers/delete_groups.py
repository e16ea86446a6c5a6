"""DeleteGroups (42): remove empty groups and their committed offsets (tombstones)."""
from __future__ import annotations

API_KEY = 42
VERSIONS = (0, 2)


def handle(header, request: dict, state, ctx) -> dict:
    svc = state.coordinator
    outcome, results = svc.machine.delete_groups(svc.now, request["groups_names"])
    svc.run(outcome)
    return {"throttle_time_ms": 0, "results": results}
