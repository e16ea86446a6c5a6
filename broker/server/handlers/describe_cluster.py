"""DescribeCluster (60): this one node, its cluster id, and itself as controller."""
from __future__ import annotations

API_KEY = 60
VERSIONS = (0, 1)


def handle(header, request: dict, state, ctx) -> dict:
    return {"throttle_time_ms": 0, "error_code": 0, "error_message": None,
            "endpoint_type": request.get("endpoint_type", 1),
            "cluster_id": state.metadata.cluster_id, "controller_id": state.node_id,
            "brokers": [{"broker_id": state.node_id, "host": state.host, "port": state.port,
                         "rack": None}],
            "cluster_authorized_operations": -2147483648}
