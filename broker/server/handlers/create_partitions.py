"""CreatePartitions (37): grow a topic's partition count (never shrink)."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.state import MAX_PARTITIONS_PER_TOPIC

API_KEY = 37
VERSIONS = (0, 3)


def handle(header, request: dict, state, ctx) -> dict:
    results = []
    for topic in request["topics"]:
        name, count = topic["name"], topic["count"]
        info = state.metadata.get(name)
        error, message = 0, None
        if info is None:
            error, message = codes.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist."
        elif count < info.num_partitions:
            error = codes.INVALID_PARTITIONS
            message = (f"Topic currently has {info.num_partitions} partitions, which is higher "
                       f"than the requested {count}.")
        elif count > MAX_PARTITIONS_PER_TOPIC:
            error = codes.INVALID_PARTITIONS
            message = f"A topic may have at most {MAX_PARTITIONS_PER_TOPIC} partitions here."
        elif count == info.num_partitions:
            error = codes.INVALID_PARTITIONS
            message = f"Topic already has {count} partition(s)."
        elif topic.get("assignments") and len(topic["assignments"]) != count - info.num_partitions:
            error = codes.INVALID_REPLICA_ASSIGNMENT
            message = "Increasing the number of partitions by "\
                f"{count - info.num_partitions} but {len(topic['assignments'])} assignments provided."
        elif not request.get("validate_only"):
            state.add_partitions(name, count)
        results.append({"name": name, "error_code": error, "error_message": message})
    return {"throttle_time_ms": 0, "results": results}
