"""Requests captured from real clients (confluent-kafka 2.16.1 / librdkafka 2.16.0, kafka-python
3.0.12, kcat with librdkafka 2.0.2, the Apache Kafka Java client 4.1.1) talking to bench/protocol/capture_clients.py, which answered them
with this codec: each client produced a record, read it back in a one-member consumer group,
committed and left (so it accepted our ApiVersions, Metadata, Produce, FindCoordinator, JoinGroup,
SyncGroup, Heartbeat, OffsetFetch, ListOffsets, Fetch, OffsetCommit, LeaveGroup and, for Java's
idempotent producer, InitProducerId responses). Each frame must decode and re-encode to the identical bytes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pystreams.broker.protocol import ApiKey, decode_request, decode_request_header, encode_request

pytestmark = pytest.mark.unit

CAPTURES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "client_captures.json").read_text())


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda c: f"{c['client']}-{c['api_key']}-v{c['api_version']}")
def test_captured_request_decodes_and_reencodes_identically(capture: dict[str, Any]) -> None:
    frame = memoryview(bytes.fromhex(capture["hex"]))
    header, offset = decode_request_header(frame)
    assert (header.api_key, header.api_version) == (capture["api_key"], capture["api_version"])
    body = decode_request(header, frame, offset)
    assert encode_request(header, body)[4:] == bytes(frame)
    if header.api_key == ApiKey.PRODUCE:
        (topic,) = body["topic_data"]
        assert topic["name"] == "cap"
        records = topic["partition_data"][0]["records"]
        assert isinstance(records, memoryview) and records[16] == 2  # record batch magic v2
    if header.api_key == ApiKey.FETCH:
        partition = body["topics"][0]["partitions"][0]
        assert partition["partition"] == 0 and partition["partition_max_bytes"] > 0
        assert (body["topics"][0]["topic"] == "cap") == (header.api_version < 13)
    if header.api_key == ApiKey.API_VERSIONS and header.api_version >= 3:
        assert body["client_software_name"] in ("confluent-kafka-python", "kafka-python", "librdkafka",
                                                "apache-kafka-java")


def test_every_client_is_represented() -> None:
    assert {c["client"] for c in CAPTURES} == {"confluent-kafka", "kafka-python", "kcat", "java"}
    assert {c["api_key"] for c in CAPTURES} == {
        ApiKey.API_VERSIONS, ApiKey.METADATA, ApiKey.PRODUCE, ApiKey.INIT_PRODUCER_ID, ApiKey.FETCH,
        ApiKey.LIST_OFFSETS, ApiKey.FIND_COORDINATOR, ApiKey.JOIN_GROUP, ApiKey.SYNC_GROUP, ApiKey.HEARTBEAT,
        ApiKey.OFFSET_FETCH, ApiKey.OFFSET_COMMIT, ApiKey.LEAVE_GROUP}


def test_captured_join_group_metadata_is_a_consumer_subscription() -> None:
    from pystreams.broker.protocol import decode_subscription
    joins = [c for c in CAPTURES if c["api_key"] == ApiKey.JOIN_GROUP]
    assert len(joins) == 4
    for capture in joins:
        frame = memoryview(bytes.fromhex(capture["hex"]))
        header, offset = decode_request_header(frame)
        body = decode_request(header, frame, offset)
        assert body["group_id"] == "capture" and body["protocol_type"] == "consumer"
        for protocol in body["protocols"]:
            _, subscription = decode_subscription(protocol["metadata"])
            assert subscription["topics"] == ["cap"]
