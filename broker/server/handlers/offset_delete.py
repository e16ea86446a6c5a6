"""OffsetDelete (47): tombstone a group's offsets for topics it no longer consumes."""
from __future__ import annotations

from pystreams.broker.server.handlers.offset_commit import merge, split_known

API_KEY = 47
VERSIONS = (0, 0)


async def handle(header, request: dict, state, ctx) -> dict:
    topics = [(t["name"], [p["partition_index"] for p in t["partitions"]])
              for t in request["topics"]]
    known, unknown = split_known(state, topics)
    svc = state.coordinator
    response = await svc.call(svc.machine.delete_offsets, request["group_id"], known)
    if response["error_code"]:
        return {"throttle_time_ms": 0, **response}
    return {"throttle_time_ms": 0, "error_code": 0,
            "topics": merge(topics, response["topics"], unknown)}
