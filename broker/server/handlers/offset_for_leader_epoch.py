"""OffsetForLeaderEpoch (23): a single node never changes leader, so epoch 0 ends at the log end.

Why clients ask: librdkafka and the Java consumer validate their position after a metadata
change; answering epoch 0 / log end offset tells them nothing diverged."""
from __future__ import annotations

from pystreams.broker.server import codes

API_KEY = 23
VERSIONS = (2, 4)


def handle(header, request: dict, state, ctx) -> dict:
    """Epoch <= 0 ends at the log end offset; a future epoch is unknown (-1/-1)."""
    topics = []
    for topic in request["topics"]:
        parts = []
        for p in topic["partitions"]:
            entry = {"error_code": 0, "partition": p["partition"], "leader_epoch": -1,
                     "end_offset": -1}
            plog = state.partition_log(topic["topic"], p["partition"])
            if plog is None:
                entry["error_code"] = codes.UNKNOWN_TOPIC_OR_PARTITION
            elif p.get("current_leader_epoch", -1) > 0:
                entry["error_code"] = codes.UNKNOWN_LEADER_EPOCH
            elif p["leader_epoch"] <= 0:
                entry.update(leader_epoch=0, end_offset=plog.log_end_offset)
            parts.append(entry)
        topics.append({"topic": topic["topic"], "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}
