"""DeleteRecords (21): advance a partition's log start offset (offset -1 = high watermark).

As Kafka's Partition.deleteRecordsOnLeader: only a log whose cleanup.policy includes delete may lose records
this way (a compact-only topic answers POLICY_VIOLATION)."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import error_of

API_KEY = 21
VERSIONS = (0, 2)


def handle(header, request: dict, state, ctx) -> dict:
    topics = []
    for topic in request["topics"]:
        parts = []
        for p in topic["partitions"]:
            entry = {"partition_index": p["partition_index"], "low_watermark": -1, "error_code": 0}
            plog = state.partition_log(topic["name"], p["partition_index"])
            if plog is None:
                entry["error_code"] = codes.UNKNOWN_TOPIC_OR_PARTITION
            else:
                before = plog.high_watermark if p["offset"] == -1 else p["offset"]
                if not plog.config.delete:
                    entry["error_code"] = codes.POLICY_VIOLATION
                elif before < 0 or before > plog.high_watermark:
                    entry["error_code"] = codes.OFFSET_OUT_OF_RANGE
                else:
                    try:
                        plog.delete_records(before)
                        entry["low_watermark"] = plog.log_start_offset
                    except Exception as exc:
                        entry["error_code"] = error_of(exc, codes.UNKNOWN_SERVER_ERROR)
            parts.append(entry)
        topics.append({"name": topic["name"], "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}
