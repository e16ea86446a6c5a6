"""OffsetDelete (47): tombstone a group's offsets for topics it no longer consumes."""
from __future__ import annotations

API_KEY = 47
VERSIONS = (0, 0)


async def handle(header, request: dict, state, ctx) -> dict:
    topics = [(t["name"], [p["partition_index"] for p in t["partitions"]])
              for t in request["topics"]]
    svc = state.coordinator
    response = await svc.call(svc.machine.delete_offsets, request["group_id"], topics)
    return {"throttle_time_ms": 0, **response}
