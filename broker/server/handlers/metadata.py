"""Metadata (3): brokers, topics and partitions; auto-creates topics like Kafka does."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import ZERO_UUID, as_uuid, version

API_KEY = 3
VERSIONS = (0, 12)


def _topic_entry(state, info, error: int = 0) -> dict:
    node = state.node_id
    partitions = [{"error_code": 0, "partition_index": p, "leader_id": node, "leader_epoch": 0,
                   "replica_nodes": [node], "isr_nodes": [node], "offline_replicas": []}
                  for p in range(info.num_partitions)]
    return {"error_code": error, "name": info.name, "topic_id": info.topic_id,
            "is_internal": info.internal, "partitions": partitions,
            "topic_authorized_operations": -2147483648}


def _missing(name, topic_id, error: int) -> dict:
    return {"error_code": error, "name": name, "topic_id": topic_id or ZERO_UUID,
            "is_internal": False, "partitions": [], "topic_authorized_operations": -2147483648}


def handle(header, request: dict, state, ctx) -> dict:
    """All topics for a null list (or an empty list before v1), else the ones asked for."""
    v = version(header)
    wanted = request.get("topics")
    topics: list[dict] = []
    if wanted is None or (v == 0 and not wanted):
        topics = [_topic_entry(state, info) for info in list(state.metadata.topics.values())]
    else:
        allow = bool(request.get("allow_auto_topic_creation", True)) if v >= 4 else True
        for t in wanted:
            name = t.get("name")
            if name is None:
                tid = as_uuid(t.get("topic_id"))
                info = state.metadata.by_id.get(tid)
                topics.append(_topic_entry(state, info) if info else
                              _missing(None if v >= 12 else "", tid, codes.UNKNOWN_TOPIC_ID))
                continue
            info = state.metadata.get(name)
            if info is None and allow:
                info = state.maybe_auto_create(name)
            if info is None:
                from pystreams.broker.metadata import topic_name_error
                code = (codes.INVALID_TOPIC_EXCEPTION if topic_name_error(name)
                        else codes.UNKNOWN_TOPIC_OR_PARTITION)
                topics.append(_missing(name, None, code))
            else:
                topics.append(_topic_entry(state, info))
    return {"throttle_time_ms": 0,
            "brokers": [{"node_id": state.node_id, "host": state.host, "port": state.port,
                         "rack": None}],
            "cluster_id": state.metadata.cluster_id, "controller_id": state.node_id,
            "topics": topics, "cluster_authorized_operations": -2147483648}
