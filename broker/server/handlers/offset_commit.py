"""OffsetCommit (8): offsets become records in `__consumer_offsets` before the reply."""
from __future__ import annotations

API_KEY = 8
VERSIONS = (2, 9)


async def handle(header, request: dict, state, ctx) -> dict:
    topics = [(t["name"], [(p["partition_index"], p["committed_offset"],
                            p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
                           for p in t["partitions"]])
              for t in request["topics"]]
    svc = state.coordinator
    response = await svc.call(svc.machine.commit_offsets, request["group_id"],
                              request.get("generation_id_or_member_epoch", -1),
                              request.get("member_id", ""), request.get("group_instance_id"),
                              topics)
    return {"throttle_time_ms": 0, **response}
