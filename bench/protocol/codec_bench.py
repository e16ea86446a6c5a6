"""Micro-benchmarks of the wire codec against PyPI kio (not a test; numbers go to docs/adr/0001).

    .venv/bin/python bench/protocol/codec_bench.py [--quick]

Each row is the best of 25 timeit repeats (the machine is shared: the best run is the least disturbed), in microseconds per operation."""
from __future__ import annotations

import io
import platform
import sys
import timeit
import uuid
from collections.abc import Callable
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.serial import entity_reader, entity_writer

from pystreams.broker.protocol import (ApiKey, RequestHeader, api_versions_keys, decode_request,
                                       decode_request_header, encode_request, encode_response)

MIB = 1 << 20


def best_us(fn: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def kio_writer(obj: Any) -> Callable[[], bytes]:
    write = entity_writer(type(obj))

    def run() -> bytes:
        buf = io.BytesIO()
        write(buf, obj)
        return buf.getvalue()
    return run


def cases() -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    out = []
    # Produce v9 request parse, one partition, 1 MiB of record bytes
    produce = {"transactional_id": None, "acks": -1, "timeout_ms": 30000,
               "topic_data": [{"name": "bench", "partition_data": [{"index": 0, "records": b"\x00" * MIB}]}]}
    raw = encode_request(RequestHeader(ApiKey.PRODUCE, 9, 1, "bench"), produce)
    frame = memoryview(raw)[4:]
    header, off = decode_request_header(frame)
    kio_produce = load_request_schema(0, 9)
    kio_read = entity_reader(kio_produce)
    body_bytes = bytes(frame[off:])
    out.append(("Produce v9 request decode (1 MiB)", lambda: decode_request(header, frame, off),
                lambda: kio_read(body_bytes, 0)))

    # Fetch v12 response encode, one partition, 1 MiB of record bytes from a buffer
    records = memoryview(bytearray(MIB))
    fetch = {"responses": [{"topic": "bench", "partitions": [{"partition_index": 0, "high_watermark": 1000,
                                                              "records": records}]}]}
    fh = RequestHeader(ApiKey.FETCH, 12, 1)
    cls = load_response_schema(1, 12)
    part_cls = cls.__dataclass_fields__["responses"].type  # noqa: F841 (documents the shape)
    from kio.schema.fetch.v12.response import FetchableTopicResponse, PartitionData
    kio_fetch = cls(throttle_time=__import__("datetime").timedelta(0), error_code=__import__(
        "kio.schema.errors", fromlist=["ErrorCode"]).ErrorCode.none, session_id=0, responses=(
        FetchableTopicResponse(topic="bench", partitions=(PartitionData(
            partition_index=0, error_code=__import__("kio.schema.errors", fromlist=["ErrorCode"]).ErrorCode.none,
            high_watermark=1000, last_stable_offset=-1, log_start_offset=-1, aborted_transactions=None,
            preferred_read_replica=-1, records=bytes(records)),)),))
    out.append(("Fetch v12 response encode (1 MiB)", lambda: encode_response(fh, fetch), kio_writer(kio_fetch)))

    # Heartbeat v4 response
    hb = RequestHeader(ApiKey.HEARTBEAT, 4, 1)
    from kio.schema.heartbeat.v4.response import HeartbeatResponse
    from kio.schema.errors import ErrorCode as KE
    import datetime
    out.append(("Heartbeat v4 response encode", lambda: encode_response(hb, {"error_code": 0}),
                kio_writer(HeartbeatResponse(throttle_time=datetime.timedelta(0), error_code=KE.none))))
    hb_raw = encode_request(RequestHeader(ApiKey.HEARTBEAT, 4, 1, "c"),
                            {"group_id": "group", "generation_id": 3, "member_id": "member-1"})
    hb_frame = memoryview(hb_raw)[4:]
    hbh, hbo = decode_request_header(hb_frame)
    hb_read = entity_reader(load_request_schema(12, 4))
    hb_body = bytes(hb_frame[hbo:])
    out.append(("Heartbeat v4 request decode", lambda: decode_request(hbh, hb_frame, hbo),
                lambda: hb_read(hb_body, 0)))

    # ApiVersions v3 response (our whole key list)
    av = RequestHeader(ApiKey.API_VERSIONS, 3, 1)
    from kio.schema.api_versions.v3.response import ApiVersion, ApiVersionsResponse
    keys = api_versions_keys()
    kio_av = ApiVersionsResponse(error_code=KE.none, api_keys=tuple(
        ApiVersion(api_key=k["api_key"], min_version=k["min_version"], max_version=k["max_version"]) for k in keys),
        throttle_time=datetime.timedelta(0))
    out.append(("ApiVersions v3 response encode", lambda: encode_response(av, {"api_keys": keys}),
                kio_writer(kio_av)))

    # Metadata v12 response, 1 broker, 1 topic with 30 partitions
    from kio.schema.metadata.v12 import response as m
    tid = uuid.uuid4()
    parts = [{"partition_index": i, "leader_id": 1, "leader_epoch": 0, "replica_nodes": [1], "isr_nodes": [1],
              "offline_replicas": []} for i in range(30)]
    md = {"brokers": [{"node_id": 1, "host": "127.0.0.1", "port": 9092, "rack": None}], "cluster_id": "c",
          "controller_id": 1, "topics": [{"name": "bench", "topic_id": tid, "is_internal": False,
                                          "partitions": parts, "topic_authorized_operations": -2147483648}]}
    mh = RequestHeader(ApiKey.METADATA, 12, 1)
    kio_md = m.MetadataResponse(
        throttle_time=datetime.timedelta(0), cluster_id="c", controller_id=1,
        brokers=(m.MetadataResponseBroker(node_id=1, host="127.0.0.1", port=9092, rack=None),),
        topics=(m.MetadataResponseTopic(error_code=KE.none, name="bench", topic_id=tid, is_internal=False,
                                        topic_authorized_operations=-2147483648, partitions=tuple(
            m.MetadataResponsePartition(error_code=KE.none, partition_index=i, leader_id=1, leader_epoch=0,
                                        replica_nodes=(1,), isr_nodes=(1,), offline_replicas=())
            for i in range(30))),))
    out.append(("Metadata v12 response encode (30 partitions)", lambda: encode_response(mh, md), kio_writer(kio_md)))
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    number, repeat = (50, 3) if quick else (200, 25)
    print(f"python {platform.python_version()} on {platform.machine()} {platform.processor() or ''}".strip())
    print(f"{'case':48} {'ours us':>10} {'kio us':>10} {'kio/ours':>9}")
    for name, ours, theirs in cases():
        ours(), theirs()  # warm up (compiles our codec for this version)
        a, b = best_us(ours, number, repeat), best_us(theirs, max(number // 10, 5), repeat)
        print(f"{name:48} {a:10.2f} {b:10.2f} {b / a:9.1f}")


if __name__ == "__main__":
    main()
