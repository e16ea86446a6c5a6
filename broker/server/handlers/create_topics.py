"""CreateTopics (19): validate name, partitions, replication factor and configs per topic."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.state import TopicError
from pystreams.broker.server.topic_configs import describe_topic_configs, validate_topic_configs

API_KEY = 19
VERSIONS = (2, 7)


def _one(topic: dict, state, validate_only: bool) -> dict:
    name = topic["name"]
    partitions = topic["num_partitions"]
    replication = topic["replication_factor"]
    if topic.get("assignments"):
        assignments = topic["assignments"]
        if partitions != -1 or replication != -1:
            raise TopicError(codes.INVALID_REQUEST, "Both numPartitions or replicationFactor and "
                             "replicasAssignments were set. Both cannot be used at the same time.")
        partitions = len(assignments)
        replication = len(assignments[0]["broker_ids"])
        if any(b != state.node_id for a in assignments for b in a["broker_ids"]):
            raise TopicError(codes.INVALID_REPLICA_ASSIGNMENT,
                             f"replica assignment names brokers other than {state.node_id}")
    if partitions == -1:
        partitions = state.config.get_int("num.partitions")
    if replication == -1:
        replication = state.config.get_int("default.replication.factor")
    state.validate_new_topic(name, partitions, replication)
    configs = {c["name"]: c["value"] for c in topic.get("configs") or [] if c["value"] is not None}
    validate_topic_configs(configs)
    if validate_only:
        info_configs = configs
        topic_id = None
    else:
        info = state.create_topic(name, partitions, configs)
        info_configs, topic_id = info.configs, info.topic_id
    from pystreams.broker.metadata import TopicInfo
    described = describe_topic_configs(state, TopicInfo(name, topic_id, partitions, info_configs))
    return {"name": name, "topic_id": topic_id, "error_code": 0, "error_message": None,
            "topic_config_error_code": 0, "num_partitions": partitions,
            "replication_factor": replication,
            "configs": [{"name": c["name"], "value": c["value"], "read_only": c["read_only"],
                         "config_source": c["config_source"], "is_sensitive": False}
                        for c in described]}


def handle(header, request: dict, state, ctx) -> dict:
    """Each topic succeeds or fails on its own; duplicates in one request are INVALID_REQUEST."""
    seen: dict[str, int] = {}
    for topic in request["topics"]:
        seen[topic["name"]] = seen.get(topic["name"], 0) + 1
    results = []
    for topic in request["topics"]:
        if seen[topic["name"]] > 1:
            results.append({"name": topic["name"], "error_code": codes.INVALID_REQUEST,
                            "error_message": "Create topics request from client contains "
                                             "multiple topics with the same name",
                            "configs": []})
            continue
        try:
            results.append(_one(topic, state, bool(request.get("validate_only"))))
        except TopicError as exc:
            results.append({"name": topic["name"], "error_code": exc.code,
                            "error_message": str(exc), "configs": []})
    return {"throttle_time_ms": 0, "topics": results}
