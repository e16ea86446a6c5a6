"""OffsetCommit (8): offsets become records in `__consumer_offsets` before the reply; partitions
of unknown topics get UNKNOWN_TOPIC_OR_PARTITION first, as Kafka checks them before the group."""
from __future__ import annotations

from pystreams.broker.server import codes

API_KEY = 8
VERSIONS = (2, 9)


def split_known(state, topics: list[tuple[str, list]], index=lambda p: p
                ) -> tuple[list[tuple[str, list]], set[tuple[str, int]]]:
    """(topics with only existing partitions, the (topic, partition) pairs that do not exist)."""
    known: list[tuple[str, list]] = []
    unknown: set[tuple[str, int]] = set()
    for name, parts in topics:
        keep = [p for p in parts if state.partition_log(name, index(p)) is not None]
        unknown.update((name, index(p)) for p in parts if state.partition_log(name, index(p)) is None)
        if keep:
            known.append((name, keep))
    return known, unknown


def merge(request_topics: list[tuple[str, list[int]]], answered: list[dict],
          unknown: set[tuple[str, int]]) -> list[dict]:
    """Per-partition results in request order: the coordinator's, or UNKNOWN_TOPIC_OR_PARTITION."""
    codes_by = {(t["name"], p["partition_index"]): p["error_code"]
                for t in answered for p in t["partitions"]}
    return [{"name": name, "partitions": [
        {"partition_index": p, "error_code": codes.UNKNOWN_TOPIC_OR_PARTITION
         if (name, p) in unknown else codes_by[(name, p)]} for p in parts]}
        for name, parts in request_topics]


async def handle(header, request: dict, state, ctx) -> dict:
    topics = [(t["name"], [(p["partition_index"], p["committed_offset"],
                            p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
                           for p in t["partitions"]])
              for t in request["topics"]]
    known, unknown = split_known(state, topics, index=lambda p: p[0])
    svc = state.coordinator
    response = await svc.call(svc.machine.commit_offsets, request["group_id"],
                              request.get("generation_id_or_member_epoch", -1),
                              request.get("member_id", ""), request.get("group_instance_id"),
                              known)
    order = [(name, [p[0] for p in parts]) for name, parts in topics]
    return {"throttle_time_ms": 0, "topics": merge(order, response["topics"], unknown)}
