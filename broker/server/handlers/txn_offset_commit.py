"""TxnOffsetCommit (28): a transactional producer's consumer offsets (send_offsets_to_transaction).
They are written to the group's `__consumer_offsets` partition inside the transaction and
become visible to OffsetFetch only when the transaction commits (never if it aborts).

v3+ carries the consumer's group generation and member id (KIP-447): a zombie whose member was
fenced out of the group by a rebalance is refused, as Kafka's group coordinator does."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._txn import for_version, log, service
from pystreams.broker.server.handlers._util import version

API_KEY = 28
VERSIONS = (0, 4)


def _group_error(state, request: dict) -> int:
    """The group coordinator's verdict on the member/generation (v3+), NONE when unchecked."""
    generation = request.get("generation_id", -1)
    member_id = request.get("member_id", "")
    group_svc = getattr(state, "coordinator", None)
    if group_svc is None or (generation < 0 and not member_id):
        return 0
    machine = group_svc.machine
    group = machine.groups.get(request["group_id"])
    if group is None:
        return 0
    validate = getattr(machine, "_validate_commit", None)
    return validate(group, generation, member_id, request.get("group_instance_id")) \
        if validate else 0


def handle(header, request: dict, state, ctx) -> dict:
    v = version(header)
    topics = request["topics"]
    unknown = {(t["name"], p["partition_index"]) for t in topics for p in t["partitions"]
               if state.partition_log(t["name"], p["partition_index"]) is None}
    error = codes.INVALID_GROUP_ID if not request["group_id"] else _group_error(state, request)
    if not error:
        offsets = [(t["name"], p["partition_index"], p["committed_offset"],
                    p.get("committed_leader_epoch", -1), p.get("committed_metadata"))
                   for t in topics for p in t["partitions"]
                   if (t["name"], p["partition_index"]) not in unknown]
        try:
            error = service(state).commit_offsets(
                request["transactional_id"], request["producer_id"], request["producer_epoch"],
                request["group_id"], offsets)
        except Exception:
            log.exception("transactional offset commit failed")
            error = codes.COORDINATOR_NOT_AVAILABLE
        error = for_version(error, v, 3)
    return {"throttle_time_ms": 0, "topics": [
        {"name": t["name"], "partitions": [
            {"partition_index": p["partition_index"],
             "error_code": codes.UNKNOWN_TOPIC_OR_PARTITION
             if (t["name"], p["partition_index"]) in unknown else error}
            for p in t["partitions"]]} for t in topics]}
