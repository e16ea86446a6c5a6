"""AlterConfigs (33): replace a topic's whole set of overrides (the legacy, non-incremental API)."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.state import TopicError
from pystreams.broker.server.topic_configs import TOPIC, apply_topic_configs, resource_error

API_KEY = 33
VERSIONS = (0, 2)


def handle(header, request: dict, state, ctx) -> dict:
    responses = []
    for r in request["resources"]:
        rtype, rname = r["resource_type"], r["resource_name"]
        error, message = resource_error(state, rtype, rname)
        if not error and rtype != TOPIC:
            error, message = codes.INVALID_REQUEST, "broker configs are static on this broker"
        if not error:
            configs = {c["name"]: c["value"] for c in r["configs"] if c["value"] is not None}
            try:
                apply_topic_configs(state, rname, configs, bool(request.get("validate_only")))
            except TopicError as exc:
                error, message = exc.code, str(exc)
        responses.append({"error_code": error, "error_message": message, "resource_type": rtype,
                          "resource_name": rname})
    return {"throttle_time_ms": 0, "responses": responses}
