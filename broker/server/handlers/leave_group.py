"""LeaveGroup (13): one member (v0-2) or a batch by member id / group.instance.id (v3+)."""
from __future__ import annotations

from pystreams.broker.server.handlers._util import version

API_KEY = 13
VERSIONS = (0, 5)


async def handle(header, request: dict, state, ctx) -> dict:
    v = version(header)
    if v < 3:
        members = [(request["member_id"], None)]
    else:
        members = [(m["member_id"], m.get("group_instance_id")) for m in request["members"]]
    svc = state.coordinator
    response = await svc.call(svc.machine.leave, request["group_id"], members)
    if v < 3 and not response["error_code"] and response["members"]:
        # before v3 there is no per-member result: the one member's error is the answer
        response = {**response, "error_code": response["members"][0]["error_code"]}
    return {"throttle_time_ms": 0, **response}
