"""DeleteTopics (20): by name (v1-5) or by name or topic id (v6+)."""
from __future__ import annotations

from pystreams.broker.metadata import INTERNAL_TOPICS
from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import ZERO_UUID, as_uuid, version

API_KEY = 20
VERSIONS = (1, 6)


def handle(header, request: dict, state, ctx) -> dict:
    v = version(header)
    if v < 6:
        wanted = [(name, None) for name in request["topic_names"]]
    else:
        wanted = [(t.get("name"), as_uuid(t.get("topic_id"))) for t in request["topics"]]
    results = []
    deleted: set[str] = set()
    enabled = state.config.get_bool("delete.topic.enable")
    for name, topic_id in wanted:
        info = None
        if name is None and topic_id is not None and topic_id != ZERO_UUID:
            info = state.metadata.by_id.get(topic_id)
            missing_code = codes.UNKNOWN_TOPIC_ID
        else:
            info = state.metadata.get(name) if name is not None else None
            missing_code = codes.UNKNOWN_TOPIC_OR_PARTITION
        entry = {"name": info.name if info else name,
                 "topic_id": info.topic_id if info else (topic_id or ZERO_UUID),
                 "error_code": 0, "error_message": None}
        if info is None:
            entry["error_code"] = missing_code
            entry["error_message"] = ("This server does not host this topic-partition."
                                      if missing_code == codes.UNKNOWN_TOPIC_OR_PARTITION
                                      else "This server does not host this topic ID.")
        elif not enabled:
            entry["error_code"] = codes.TOPIC_DELETION_DISABLED
        elif info.name in INTERNAL_TOPICS:
            entry["error_code"] = codes.TOPIC_AUTHORIZATION_FAILED
            entry["error_message"] = f"cannot delete internal topic {info.name}"
        else:
            state.delete_topic(info.name)
            deleted.add(info.name)
        results.append(entry)
    group = getattr(state, "coordinator", None)
    if deleted and group is not None:  # Kafka's GroupCoordinator.onPartitionsDeleted
        txn = getattr(state, "txn", None)
        group.delete_topics(deleted, txn.pending_offsets if txn is not None else {})
    return {"throttle_time_ms": 0, "responses": results}
