"""ListOffsets (2): earliest (-2), latest (-1), max timestamp (-3), earliest-local (-4) and by
timestamp, per partition."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import error_of, version

API_KEY = 2
VERSIONS = (1, 10)
LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -1, -2, -3, -4, -5


def _lookup(plog, timestamp: int, read_committed: bool) -> tuple[int, int]:
    """(offset, timestamp) Kafka answers for `timestamp`; (-1, -1) when there is none."""
    if timestamp == LATEST:
        return (plog.last_stable_offset if read_committed else plog.high_watermark), -1
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        return plog.log_start_offset, -1
    if timestamp == LATEST_TIERED:
        return -1, -1
    if timestamp == MAX_TIMESTAMP:
        ts, offset = plog.max_timestamp_and_offset()
        return (offset, ts) if offset >= 0 else (-1, -1)
    else:
        found = plog.offset_for_timestamp(timestamp)
    if found is None:
        return -1, -1
    offset, ts = found
    return (offset, ts) if offset >= 0 else (-1, -1)


def handle(header, request: dict, state, ctx) -> dict:
    """Answer each partition independently; unknown ones get UNKNOWN_TOPIC_OR_PARTITION."""
    read_committed = request.get("isolation_level", 0) == 1
    topics = []
    for topic in request["topics"]:
        parts = []
        for p in topic["partitions"]:
            index = p["partition_index"]
            entry = {"partition_index": index, "error_code": 0, "old_style_offsets": [],
                     "timestamp": -1, "offset": -1, "leader_epoch": -1}
            plog = state.partition_log(topic["name"], index)
            if plog is None:
                entry["error_code"] = codes.UNKNOWN_TOPIC_OR_PARTITION
            else:
                try:
                    offset, ts = _lookup(plog, p["timestamp"], read_committed)
                    entry.update(offset=offset, timestamp=ts, leader_epoch=0 if offset >= 0 else -1)
                except Exception as exc:
                    entry["error_code"] = error_of(exc, codes.UNKNOWN_SERVER_ERROR)
            parts.append(entry)
        topics.append({"name": topic["name"], "partitions": parts})
    return {"throttle_time_ms": 0, "topics": topics}
