"""SyncGroup (14): the leader's assignments go out to every member of the generation."""
from __future__ import annotations

API_KEY = 14
VERSIONS = (0, 5)


async def handle(header, request: dict, state, ctx) -> dict:
    """Followers wait here until the leader syncs (or a new rebalance starts)."""
    svc = state.coordinator
    assignments = [(a["member_id"], bytes(a["assignment"])) for a in request["assignments"]]
    response = await svc.call(svc.machine.sync, request["group_id"], request["generation_id"],
                              request["member_id"], request.get("group_instance_id"),
                              request.get("protocol_type"), request.get("protocol_name"),
                              assignments)
    return {"throttle_time_ms": 0, **response}
