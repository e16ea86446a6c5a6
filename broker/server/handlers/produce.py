"""Produce (0): append each partition's record batches to its log, opaque, with per-partition
errors; acks=0 gets no response at all (Kafka's contract)."""
from __future__ import annotations

import logging

from pystreams.broker.coordinator.transactions.service import verify_produce
from pystreams.broker.metadata import INTERNAL_TOPICS
from pystreams.broker.server import codes
from pystreams.broker.server.handlers._util import error_of

API_KEY = 0
VERSIONS = (3, 11)
log = logging.getLogger("pystreams.broker.server.produce")


def _partition_result(index: int, error: int, base_offset: int = -1, append_time: int = -1,
                      log_start: int = -1, message: str | None = None) -> dict:
    return {"index": index, "error_code": error, "base_offset": base_offset,
            "log_append_time_ms": append_time, "log_start_offset": log_start,
            "record_errors": [], "error_message": message}


def handle(header, request: dict, state, ctx) -> dict | None:
    """Validate acks, then append partition by partition; one bad partition fails alone."""
    acks = request["acks"]
    now = state.clock_ms()
    responses = []
    appended = False
    for topic in request["topic_data"]:
        name = topic["name"]
        results = []
        for part in topic["partition_data"]:
            index = part["index"]
            if acks not in (0, 1, -1):
                results.append(_partition_result(index, codes.INVALID_REQUIRED_ACKS))
                continue
            if name in INTERNAL_TOPICS:
                results.append(_partition_result(index, codes.INVALID_TOPIC_EXCEPTION,
                                                 message=f"cannot append to internal topic {name}"))
                continue
            plog = state.partition_log(name, index)
            if plog is None:
                results.append(_partition_result(index, codes.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            records = part["records"]
            if records is None or len(records) == 0:
                results.append(_partition_result(index, codes.INVALID_RECORD,
                                                 message="produce request has no record batch"))
                continue
            refused = verify_produce(state, request.get("transactional_id"), name, index, records)
            if refused:  # KIP-890: not a partition of the producer's ongoing transaction
                results.append(_partition_result(index, refused[0], message=refused[1]))
                continue
            try:
                info = plog.append(records, now_ms=now)
            except Exception as exc:  # the log's errors carry Kafka's .code
                code = error_of(exc, codes.UNKNOWN_SERVER_ERROR)
                if code == codes.UNKNOWN_SERVER_ERROR:
                    log.exception("append failed", extra={"topic": name, "partition": index})
                results.append(_partition_result(index, code, message=str(exc) or None))
                continue
            appended = True
            results.append(_partition_result(index, 0, info.base_offset, info.log_append_time,
                                             info.log_start_offset))
        responses.append({"name": name, "partition_responses": results})
    if appended:
        state.notify_append()
    if acks == 0:
        return None
    return {"responses": responses, "throttle_time_ms": 0, "node_endpoints": []}
