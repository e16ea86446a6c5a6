"""Handlers through the real codec and log, without sockets."""
from __future__ import annotations

import asyncio
import uuid
import time

import pytest

from pystreams.broker.protocol import SUPPORTED_VERSIONS
from pystreams.broker.protocol.record_batch import build_batch, iter_batches, read_records
from pystreams.broker.server.handlers import HANDLERS, advertised_versions

from tests.unit.server._harness import Node

pytestmark = pytest.mark.unit


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path)
    yield n
    n.close()


def _produce(node, topic, partition, records, acks=1, version=9):
    batch = build_batch(records, timestamp=int(time.time() * 1000))
    return node.call(0, version, {"transactional_id": None, "acks": acks, "timeout_ms": 1000,
                                  "topic_data": [{"name": topic, "partition_data": [
                                      {"index": partition, "records": batch}]}]})


def _fetch(node, topic, partition, offset, version=12, max_wait=0, min_bytes=1, **session):
    body = {"replica_id": -1, "max_wait_ms": max_wait, "min_bytes": min_bytes,
            "max_bytes": 1 << 20, "isolation_level": 0,
            "session_id": session.get("session_id", 0), "session_epoch": session.get("epoch", -1),
            "topics": [{"topic": topic, "partitions": [
                {"partition": partition, "fetch_offset": offset, "partition_max_bytes": 1 << 20}]}]
            if topic else [],
            "forgotten_topics_data": [], "rack_id": ""}
    return node.call(1, version, body)


def test_api_versions_is_registry_intersect_codec(node):
    body = node.call(18, 3, {"client_software_name": "t", "client_software_version": "1"})
    advertised = {k["api_key"]: (k["min_version"], k["max_version"]) for k in body["api_keys"]}
    # Produce is listed from v0 like Apache Kafka 4 (KAFKA-18659: librdkafka < 2.8 compresses
    # only when Produce v0 is listed); v0-v2 are still refused (not served, not in the codec)
    assert advertised[0] == (0, advertised_versions()[0][1])
    assert {**advertised, 0: advertised_versions()[0]} == advertised_versions()
    assert set(advertised) <= set(HANDLERS) & set(SUPPORTED_VERSIONS)
    for key, (lo, hi) in advertised.items():
        if key != 0:
            assert SUPPORTED_VERSIONS[key][0] <= lo <= hi <= SUPPORTED_VERSIONS[key][1]


def test_metadata_auto_creates_only_when_allowed(node):
    body = node.call(3, 12, {"topics": [{"topic_id": uuid.UUID(int=0), "name": "auto"}],
                             "allow_auto_topic_creation": False,
                             "include_topic_authorized_operations": False})
    assert body["topics"][0]["error_code"] == 3
    body = node.call(3, 12, {"topics": [{"topic_id": uuid.UUID(int=0), "name": "auto"}],
                             "allow_auto_topic_creation": True,
                             "include_topic_authorized_operations": False})
    (topic,) = body["topics"]
    assert topic["error_code"] == 0 and len(topic["partitions"]) == 1
    assert body["brokers"] == [{"node_id": 1, "host": "127.0.0.1", "port": 9092, "rack": None}]
    body = node.call(3, 12, {"topics": [{"topic_id": uuid.UUID(int=0), "name": "bad name!"}],
                             "allow_auto_topic_creation": True,
                             "include_topic_authorized_operations": False})
    assert body["topics"][0]["error_code"] == 17  # INVALID_TOPIC_EXCEPTION


def test_produce_then_fetch_returns_stored_bytes(node):
    node.state.create_topic("t", 2)
    resp = _produce(node, "t", 1, [(b"k1", b"v1"), (b"k2", b"v2")])
    part = resp["responses"][0]["partition_responses"][0]
    assert (part["error_code"], part["base_offset"]) == (0, 0)
    assert _produce(node, "t", 1, [(b"k3", b"v3")])["responses"][0]["partition_responses"][0][
        "base_offset"] == 2
    body = _fetch(node, "t", 1, 0)
    p = body["responses"][0]["partitions"][0]
    assert p["high_watermark"] == 3 and p["error_code"] == 0
    records = [r for b in iter_batches(bytes(p["records"])) for r in read_records(b.buf)]
    assert [(r.offset, r.key, r.value) for r in records] == [(0, b"k1", b"v1"), (1, b"k2", b"v2"),
                                                              (2, b"k3", b"v3")]


def test_produce_errors_per_partition(node):
    node.state.create_topic("t", 1)
    assert _produce(node, "nope", 0, [(None, b"x")])["responses"][0]["partition_responses"][0][
        "error_code"] == 3
    assert _produce(node, "t", 5, [(None, b"x")])["responses"][0]["partition_responses"][0][
        "error_code"] == 3
    corrupt = bytearray(build_batch([(None, b"x")]))
    corrupt[-1] ^= 0xFF
    resp = node.call(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000,
                            "topic_data": [{"name": "t", "partition_data": [
                                {"index": 0, "records": bytes(corrupt)}]}]})
    assert resp["responses"][0]["partition_responses"][0]["error_code"] == 2  # CORRUPT_MESSAGE
    assert _produce(node, "t", 0, [(None, b"x")], acks=0) is None  # acks=0: no response at all
    assert node.state.partition_log("t", 0).high_watermark == 1


def test_fetch_out_of_range_and_unknown(node):
    node.state.create_topic("t", 1)
    _produce(node, "t", 0, [(None, b"x")])
    assert _fetch(node, "t", 0, 5)["responses"][0]["partitions"][0]["error_code"] == 1
    assert _fetch(node, "zz", 0, 0)["responses"][0]["partitions"][0]["error_code"] == 3


def test_fetch_long_poll_wakes_on_produce(node):
    node.state.create_topic("t", 1)

    async def scenario():
        waiting = asyncio.ensure_future(node.acall(1, 12, {
            "replica_id": -1, "max_wait_ms": 5000, "min_bytes": 1, "max_bytes": 1 << 20,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": "t", "partitions": [
                {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}],
            "forgotten_topics_data": [], "rack_id": ""}))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        start = time.monotonic()
        await node.acall(0, 9, {"transactional_id": None, "acks": 1, "timeout_ms": 1000,
                                "topic_data": [{"name": "t", "partition_data": [
                                    {"index": 0, "records": build_batch([(None, b"late")])}]}]})
        body = await asyncio.wait_for(waiting, 2)
        return body, time.monotonic() - start

    body, waited = asyncio.run(scenario())
    assert waited < 1.0
    assert body["responses"][0]["partitions"][0]["high_watermark"] == 1


def test_fetch_max_wait_expires_with_empty_answer(node):
    node.state.create_topic("t", 1)
    start = time.monotonic()
    body = _fetch(node, "t", 0, 0, max_wait=300)
    assert 0.25 <= time.monotonic() - start < 2
    assert body["responses"][0]["partitions"][0]["records"] in (None, b"", memoryview(b""))


def test_incremental_fetch_session(node):
    node.state.create_topic("t", 1)
    _produce(node, "t", 0, [(None, b"a")])
    full = _fetch(node, "t", 0, 0, epoch=0)
    sid = full["session_id"]
    assert sid > 0 and full["responses"][0]["partitions"][0]["high_watermark"] == 1
    # incremental with the consumer's new position, nothing new: the partition is left out
    quiet = _fetch(node, "t", 0, 1, session_id=sid, epoch=1)
    assert quiet["error_code"] == 0 and quiet["responses"] == []
    _produce(node, "t", 0, [(None, b"b")])
    news = _fetch(node, None, 0, 0, session_id=sid, epoch=2)  # the session remembers offset 1
    (part,) = news["responses"][0]["partitions"]
    assert part["high_watermark"] == 2
    assert [r.value for b in iter_batches(bytes(part["records"])) for r in read_records(b.buf)] \
        == [b"b"]
    assert _fetch(node, None, 0, 0, session_id=sid, epoch=9)["error_code"] == 71
    assert _fetch(node, None, 0, 0, session_id=12345, epoch=1)["error_code"] == 70


def test_list_offsets(node):
    node.state.create_topic("t", 1)
    _produce(node, "t", 0, [(None, b"a"), (None, b"b")])
    body = node.call(2, 7, {"replica_id": -1, "isolation_level": 0, "topics": [
        {"name": "t", "partitions": [{"partition_index": 0, "current_leader_epoch": -1,
                                      "timestamp": ts} for ts in (-2, -1)]}]})
    assert [p["offset"] for p in body["topics"][0]["partitions"]] == [0, 2]


def test_create_delete_topics_errors(node):
    body = node.call(19, 7, {"topics": [
        {"name": "a", "num_partitions": 2, "replication_factor": 1, "assignments": [],
         "configs": [{"name": "retention.ms", "value": "1000"}]},
        {"name": "b", "num_partitions": 0, "replication_factor": 1, "assignments": [], "configs": []},
        {"name": "c", "num_partitions": 1, "replication_factor": 1, "assignments": [],
         "configs": [{"name": "no.such.key", "value": "1"}]},
        {"name": "d", "num_partitions": 1, "replication_factor": 1, "assignments": [],
         "configs": [{"name": "retention.ms", "value": "soon"}]},
        {"name": "e", "num_partitions": 10**9, "replication_factor": 1, "assignments": [],
         "configs": []},
    ], "timeout_ms": 1000, "validate_only": False})
    assert [t["error_code"] for t in body["topics"]] == [0, 37, 40, 40, 37]
    assert node.state.metadata.get("a").configs == {"retention.ms": "1000"}
    body = node.call(20, 6, {"topics": [{"name": "a", "topic_id": uuid.UUID(int=0)},
                                        {"name": "zz", "topic_id": uuid.UUID(int=0)}], "timeout_ms": 1000})
    assert [r["error_code"] for r in body["responses"]] == [0, 3]
    assert node.state.metadata.get("a") is None


def test_group_apis_end_to_end(node):
    node.state.create_topic("t", 1)

    async def scenario():
        join = {"group_id": "g", "session_timeout_ms": 10000, "rebalance_timeout_ms": 10000,
                "member_id": "", "group_instance_id": None, "protocol_type": "consumer",
                "protocols": [{"name": "range", "metadata": b"\x00\x00\x00\x00\x00\x01\x00\x01t"}],
                "reason": None}
        first = await node.acall(11, 9, join)
        assert first["error_code"] == 79
        joined = await node.acall(11, 9, {**join, "member_id": first["member_id"]})
        assert joined["error_code"] == 0 and joined["leader"] == first["member_id"]
        member, gen = joined["member_id"], joined["generation_id"]
        synced = await node.acall(14, 5, {"group_id": "g", "generation_id": gen, "member_id": member,
                                          "group_instance_id": None, "protocol_type": "consumer",
                                          "protocol_name": "range",
                                          "assignments": [{"member_id": member, "assignment": b"A"}]})
        assert synced["error_code"] == 0 and synced["assignment"] == b"A"
        hb = await node.acall(12, 4, {"group_id": "g", "generation_id": gen, "member_id": member,
                                      "group_instance_id": None})
        assert hb["error_code"] == 0
        commit = await node.acall(8, 9, {"group_id": "g", "generation_id_or_member_epoch": gen,
                                         "member_id": member, "group_instance_id": None,
                                         "topics": [{"name": "t", "partitions": [
                                             {"partition_index": 0, "committed_offset": 5,
                                              "committed_leader_epoch": -1,
                                              "committed_metadata": None}]}]})
        assert commit["topics"][0]["partitions"][0]["error_code"] == 0
        unknown = await node.acall(8, 9, {"group_id": "g", "generation_id_or_member_epoch": gen,
                                          "member_id": member, "group_instance_id": None,
                                          "topics": [{"name": "nope", "partitions": [
                                              {"partition_index": 0, "committed_offset": 5,
                                               "committed_leader_epoch": -1,
                                               "committed_metadata": None}]}]})
        assert unknown["topics"][0]["partitions"][0]["error_code"] == 3  # as Kafka answers
        fetched = await node.acall(9, 9, {"groups": [{"group_id": "g", "member_id": None,
                                                       "member_epoch": -1, "topics": None}],
                                           "require_stable": False})
        assert fetched["groups"][0]["topics"][0]["partitions"][0]["committed_offset"] == 5
        described = await node.acall(15, 5, {"groups": ["g"], "include_authorized_operations": False})
        assert described["groups"][0]["group_state"] == "Stable"
        listed = await node.acall(16, 4, {"states_filter": []})
        assert [(g["group_id"], g["group_state"]) for g in listed["groups"]] == [("g", "Stable")]

    asyncio.run(scenario())
    # the offsets topic now holds the commit: a new coordinator replays it
    node.logs.close()
    again = Node(node.config.data_dir)
    try:
        body = again.call(9, 7, {"group_id": "g", "topics": None, "require_stable": False})
        assert body["topics"][0]["partitions"][0]["committed_offset"] == 5
    finally:
        again.close()
    node.logs = again.logs  # already closed above; the fixture's close is then a no-op


def test_api_without_handler_gets_unsupported_version(node):
    update_features = 57  # the codec knows UpdateFeatures; this broker does not serve it
    assert update_features in SUPPORTED_VERSIONS and update_features not in HANDLERS
    reply = node.call(update_features, SUPPORTED_VERSIONS[update_features][1],
                      {"timeout_ms": 1000, "feature_updates": [], "validate_only": True})
    assert reply["error_code"] == 35  # UNSUPPORTED_VERSION, not a dropped connection


def test_read_committed_fetch_stops_at_lso_and_lists_aborted(node):
    from pystreams.broker.protocol.record_batch import ABORT_MARKER, build_control_batch
    node.state.create_topic("tx", 1)
    plog = node.state.partition_log("tx", 0)
    plog.append(build_batch([(b"k", b"in-txn")], producer_id=5, producer_epoch=0,
                            base_sequence=0, transactional=True), now_ms=1)

    def fetch(isolation):
        return node.call(1, 12, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 1,
                                 "max_bytes": 1 << 20, "isolation_level": isolation,
                                 "session_id": 0, "session_epoch": -1,
                                 "topics": [{"topic": "tx", "partitions": [
                                     {"partition": 0, "fetch_offset": 0,
                                      "partition_max_bytes": 1 << 20}]}],
                                 "forgotten_topics_data": [], "rack_id": ""}
                          )["responses"][0]["partitions"][0]

    open_txn = fetch(1)
    assert open_txn["last_stable_offset"] == 0 and open_txn["high_watermark"] == 1
    assert not open_txn["records"]  # read_committed stops at the open transaction
    assert fetch(0)["records"]  # read_uncommitted sees it
    plog.append(build_control_batch(ABORT_MARKER, producer_id=5, producer_epoch=0), now_ms=2,
                origin="coordinator")
    aborted = fetch(1)
    assert aborted["last_stable_offset"] == 2 and aborted["records"]
    assert aborted["aborted_transactions"] == [{"producer_id": 5, "first_offset": 0}]


def test_topic_name_collisions_and_internal_names(node):
    def create(name):
        return node.call(19, 7, {"topics": [{"name": name, "num_partitions": 1,
                                             "replication_factor": 1, "assignments": [],
                                             "configs": []}],
                                 "timeout_ms": 1000, "validate_only": False})["topics"][0]
    assert create("a_b")["error_code"] == 0
    clash = create("a.b")
    assert clash["error_code"] == 17 and "collides" in clash["error_message"]
    assert create("__consumer_offsets")["error_code"] in (17, 36)
    assert create("__my_private")["error_code"] == 0  # only Kafka's internal names are reserved
