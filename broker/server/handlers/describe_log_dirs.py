"""DescribeLogDirs (35): the one data directory and the size of each partition in it."""
from __future__ import annotations

import shutil

API_KEY = 35
VERSIONS = (1, 4)


def _size(plog) -> int:
    return int(plog.size_bytes)


def handle(header, request: dict, state, ctx) -> dict:
    wanted = request.get("topics")
    if wanted is None:
        wanted = [{"topic": t.name, "partitions": list(range(t.num_partitions))}
                  for t in state.metadata.topics.values()]
    topics = []
    for t in wanted:
        parts = []
        for p in t["partitions"]:
            plog = state.partition_log(t["topic"], p)
            if plog is not None:
                parts.append({"partition_index": p, "partition_size": _size(plog),
                              "offset_lag": 0, "is_future_key": False})
        if parts:
            topics.append({"name": t["topic"], "partitions": parts})
    data_dir = str(state.config.data_dir.resolve())
    try:
        usage = shutil.disk_usage(data_dir)
        total, usable = usage.total, usage.free
    except OSError:
        total = usable = -1
    return {"throttle_time_ms": 0, "error_code": 0,
            "results": [{"error_code": 0, "log_dir": data_dir, "topics": topics,
                         "total_bytes": total, "usable_bytes": usable}]}
