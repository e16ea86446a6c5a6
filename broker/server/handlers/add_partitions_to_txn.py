"""AddPartitionsToTxn (24): the client adds partitions before producing to them; the first add
starts the transaction (Ongoing). Versions 0-3 (v4+ are broker-to-broker verification, which a
single node does in-process)."""
from __future__ import annotations

from pystreams.broker.server import codes
from pystreams.broker.server.handlers._txn import for_version, run_step
from pystreams.broker.server.handlers._util import version

API_KEY = 24
VERSIONS = (0, 3)


def handle(header, request: dict, state, ctx) -> dict:
    """Unknown partitions fail the whole request (the rest OPERATION_NOT_ATTEMPTED), as Kafka."""
    tid = request["v3_and_below_transactional_id"]
    pid = request["v3_and_below_producer_id"]
    epoch = request["v3_and_below_producer_epoch"]
    topics = [(t["name"], list(t["partitions"])) for t in request["v3_and_below_topics"]]
    unknown = {(name, p) for name, parts in topics for p in parts
               if state.partition_log(name, p) is None}
    if unknown:
        def code(name: str, p: int) -> int:
            return codes.UNKNOWN_TOPIC_OR_PARTITION if (name, p) in unknown \
                else codes.OPERATION_NOT_ATTEMPTED
    else:
        wanted = [(name, p) for name, parts in topics for p in parts]
        step = run_step(state, lambda svc: svc.machine.add_partitions(
            tid, pid, epoch, wanted, state.clock_ms()))
        error = for_version(step.error, version(header), 2)

        def code(name: str, p: int) -> int:
            return error
    return {"throttle_time_ms": 0, "results_by_topic_v3_and_below": [
        {"name": name, "results_by_partition": [
            {"partition_index": p, "partition_error_code": code(name, p)} for p in parts]}
        for name, parts in topics]}
