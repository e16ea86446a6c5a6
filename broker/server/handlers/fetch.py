"""Fetch (1): serve stored batch bytes as they are (pread, never decoded), with long polling
(max_wait_ms / min_bytes), response and partition size limits, and KIP-227 fetch sessions."""
from __future__ import annotations

import asyncio

from pystreams.broker.server import codes
from pystreams.broker.server.fetch_sessions import CachedPartition, next_epoch, resolve
from pystreams.broker.server.handlers._util import as_uuid, error_of, version
from pystreams.broker.server.network import FileRegion

API_KEY = 1
VERSIONS = (4, 17)
READ_COMMITTED = 1


def _session_partitions(request: dict, v: int, state, session, full: bool
                        ) -> list[CachedPartition]:
    """The partitions this fetch covers, updating the session with the request's changes."""
    by_id = state.metadata.by_id
    requested: list[CachedPartition] = []
    for topic in request["topics"]:
        if v >= 13:
            tid = as_uuid(topic.get("topic_id"))
            info = by_id.get(tid)
            name = info.name if info else None
            key_topic: object = tid
        else:
            name = topic["topic"]
            info = state.metadata.get(name)
            tid = info.topic_id if info else None
            key_topic = name
        for p in topic["partitions"]:
            requested.append(CachedPartition(name, tid if v >= 13 else key_topic, p["partition"],
                                             p["fetch_offset"], p["partition_max_bytes"]))
    if session is None:
        return requested
    if full:
        session.partitions.clear()
    for cp in requested:
        key = (cp.topic_id, cp.partition)
        old = session.partitions.get(key)
        if old is None:
            session.partitions[key] = cp
        else:
            old.fetch_offset, old.max_bytes, old.topic = cp.fetch_offset, cp.max_bytes, cp.topic
    for forgotten in request.get("forgotten_topics_data") or []:
        key_topic = as_uuid(forgotten.get("topic_id")) if v >= 13 else forgotten["topic"]
        for partition in forgotten["partitions"]:
            session.partitions.pop((key_topic, partition), None)
    return list(session.partitions.values())


def _read_partitions(state, parts: list[CachedPartition], max_bytes: int, v: int,
                     isolation: int, sendfile: bool = False
                     ) -> tuple[list[tuple[CachedPartition, dict]], int, bool]:
    """Read every partition within the response budget; (entries, bytes, any_error).

    With `sendfile` the records are FileRegions the connection sends with os.sendfile (zero
    copy, docs/adr/0002-fetch-path.md); otherwise bytes read with pread."""
    budget = max_bytes
    total = 0
    any_error = False
    entries = []
    for cp in parts:
        entry = {"partition_index": cp.partition, "error_code": 0, "high_watermark": -1,
                 "last_stable_offset": -1, "log_start_offset": -1,
                 "aborted_transactions": [] if isolation == 1 else None,
                 "preferred_read_replica": -1, "records": b""}
        if v >= 13:  # by id: a topic re-created under the same name is a different topic
            info = state.metadata.by_id.get(cp.topic_id)
            cp.topic = info.name if info is not None else None
        plog = state.partition_log(cp.topic, cp.partition) if cp.topic is not None else None
        if plog is None:
            entry["error_code"] = (codes.UNKNOWN_TOPIC_ID if v >= 13 and cp.topic is None
                                   else codes.UNKNOWN_TOPIC_OR_PARTITION)
            any_error = True
        else:
            hw = plog.high_watermark
            lso = plog.last_stable_offset
            bound = lso if isolation == READ_COMMITTED else hw
            entry.update(high_watermark=hw, last_stable_offset=lso,
                         log_start_offset=plog.log_start_offset)
            out_of_range = cp.fetch_offset > hw or cp.fetch_offset < plog.log_start_offset
            if out_of_range or (cp.fetch_offset < bound and budget > 0):
                try:
                    limit = min(cp.max_bytes, budget) if total else cp.max_bytes
                    fetched = plog.read(cp.fetch_offset, max(limit, 1), upper_bound=bound)
                    if fetched.size:
                        entry["records"] = [FileRegion(f, pos, n) for f, pos, n in fetched.chunks] \
                            if sendfile else fetched.buffers()  # pread per chunk, never joined
                        total += fetched.size
                        budget -= fetched.size
                        if isolation == READ_COMMITTED:
                            end = fetched.next_offset if fetched.next_offset >= 0 else bound
                            entry["aborted_transactions"] = [
                                {"producer_id": pid, "first_offset": first}
                                for pid, first in plog.aborted_transactions(cp.fetch_offset, end)]
                except Exception as exc:
                    # Kafka reports no offsets alongside an error (OFFSET_OUT_OF_RANGE included)
                    entry.update(error_code=error_of(exc, codes.UNKNOWN_SERVER_ERROR),
                                 high_watermark=-1, last_stable_offset=-1, log_start_offset=-1)
                    any_error = True
        entries.append((cp, entry))
    return entries, total, any_error


def _changed(cp: CachedPartition, entry: dict) -> bool:
    """Whether an incremental response must carry this partition (KIP-227's rules)."""
    return bool(entry["records"]) or entry["error_code"] != 0 or \
        entry["high_watermark"] != cp.sent_hw or entry["log_start_offset"] != cp.sent_log_start


async def handle(header, request: dict, state, ctx) -> dict:
    """Resolve the session, then read; wait for data until min_bytes or max_wait_ms."""
    v = version(header)
    error, session, full = resolve(state.fetch_sessions, request.get("session_id", 0),
                                   request.get("session_epoch", -1))
    if error:
        return {"throttle_time_ms": 0, "error_code": error, "session_id": 0, "responses": [],
                "node_endpoints": []}
    parts = _session_partitions(request, v, state, session, full)
    max_bytes = request.get("max_bytes", 2**31 - 1)
    isolation = request.get("isolation_level", 0)
    min_bytes = request.get("min_bytes", 1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(request.get("max_wait_ms", 0), 0) / 1000
    while True:
        event = state.data_event()
        entries, total, any_error = _read_partitions(
            state, parts, max_bytes, v, isolation,
            sendfile=getattr(getattr(ctx, "connection", None), "sendfile", False))
        remaining = deadline - loop.time()
        if total >= min_bytes or any_error or remaining <= 0 or not parts:
            break
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except asyncio.TimeoutError:
            pass
    if session is not None:
        session.epoch = next_epoch(request.get("session_epoch", 0))
        for cp, entry in entries:  # served partitions go last next time: no starvation
            if entry["records"]:
                session.partitions.move_to_end((cp.topic_id, cp.partition))
    responses: list[dict] = []
    for cp, entry in entries:
        if session is not None and not full and not _changed(cp, entry):
            continue
        cp.sent_hw, cp.sent_log_start = entry["high_watermark"], entry["log_start_offset"]
        key = cp.topic_id  # the topic id (v13+) or the topic name (older versions)
        if not responses or responses[-1]["_key"] != key:
            responses.append({"_key": key, "topic": cp.topic or "", "topic_id": cp.topic_id
                              if v >= 13 else None, "partitions": []})
        responses[-1]["partitions"].append(entry)
    for r in responses:
        del r["_key"]
        if v < 13 or r["topic_id"] is None:
            r.pop("topic_id")
    return {"throttle_time_ms": 0, "error_code": 0,
            "session_id": session.session_id if session is not None else 0,
            "responses": responses, "node_endpoints": []}
