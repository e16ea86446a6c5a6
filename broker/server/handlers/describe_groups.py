"""DescribeGroups (15): state, protocol and members of each group."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import version

API_KEY = 15
VERSIONS = (0, 5)


def handle(header, request: dict, state, ctx) -> dict:
    """An unknown group is described as Dead (v6+ would say GROUP_ID_NOT_FOUND)."""
    machine = state.coordinator.machine
    groups = []
    for group_id in request["groups"]:
        described = machine.describe(group_id)
        if described is None:
            described = {"group_id": group_id, "group_state": "Dead", "protocol_type": "",
                         "protocol_data": "", "members": [],
                         "error_code": codes.GROUP_ID_NOT_FOUND if version(header) >= 6 else 0}
        groups.append({"error_code": 0, "authorized_operations": -2147483648, **described})
    return {"throttle_time_ms": 0, "groups": groups}
