"""DescribeConfigs (32): topic and broker configs with their sources."""
from __future__ import annotations

from pystreams.broker.server.topic_configs import (BROKER, TOPIC, describe_broker_configs,
                                                   describe_topic_configs, resource_error)

API_KEY = 32
VERSIONS = (1, 4)


def handle(header, request: dict, state, ctx) -> dict:
    results = []
    for r in request["resources"]:
        rtype, rname = r["resource_type"], r["resource_name"]
        keys = r.get("configuration_keys")
        error, message = resource_error(state, rtype, rname)
        configs: list[dict] = []
        if not error and rtype == TOPIC:
            configs = describe_topic_configs(state, state.metadata.get(rname), keys)
        elif not error and rtype == BROKER:
            configs = describe_broker_configs(state, keys)
        results.append({"error_code": error, "error_message": message, "resource_type": rtype,
                        "resource_name": rname, "configs": configs})
    return {"throttle_time_ms": 0, "results": results}
