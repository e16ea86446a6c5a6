"""kafka_info: Kafka's SubscriptionInfoData and AssignmentInfo bytes, versions 1-11. Checked three ways: bytes built
here field by field from the spec (SubscriptionInfoData.json, AssignmentInfo.java), bytes Kafka Streams 4.1.1 itself
wrote (java/KafkaInfoBytes.java `encode`, captured below), and round trips over every version."""
from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError, Reader, Writer
from pystreams.runtime.assignment.kafka_info import (
    LATEST_OFFSET,
    LATEST_SUPPORTED_VERSION,
    NO_FOLLOWUP,
    UNKNOWN,
    UNKNOWN_OFFSET_SUM,
    KafkaAssignment,
    KafkaSubscription,
    assignment_versions,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
    next_subscription_version,
)

pytestmark = pytest.mark.unit

PID = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")


def i32(*values: int) -> bytes:
    return struct.pack(f">{len(values)}i", *values)


def utf(s: str) -> bytes:
    return struct.pack(">H", len(s)) + s.encode()


# ------------------------------------------------------------------------------------- bytes built from the spec
def test_subscription_v11_field_by_field():
    sub = KafkaSubscription(11, 11, PID, "localhost:8080", {TaskId(1, 1): 42}, unique_field=5, error_code=4,
                            client_tags={"zone": "eu-1"})
    expected = (i32(11, 11) + PID.bytes
                + i32(14) + b"localhost:8080"                                  # userEndPoint: bytes
                + i32(1) + i32(1, 1) + struct.pack(">q", 42) + b"\xff\xff"     # [TaskOffsetSum] v10+, null topology
                + b"\x05"                                                      # uniqueField int8
                + i32(4)                                                       # errorCode
                + i32(1) + i32(4) + b"zone" + i32(4) + b"eu-1")                # clientTags
    assert encode_subscription(sub) == expected
    assert decode_subscription(expected) == sub


def test_subscription_v7_groups_offset_sums_by_subtopology_and_v2_has_task_lists():
    sums = {TaskId(0, 0): LATEST_OFFSET, TaskId(0, 2): 9}
    v7 = encode_subscription(KafkaSubscription(7, 11, PID, None, sums))
    assert v7 == (i32(7, 11) + PID.bytes + i32(0)                               # empty endpoint
                  + i32(1) + i32(0) + i32(2) + i32(0) + struct.pack(">q", LATEST_OFFSET) + i32(2)
                  + struct.pack(">q", 9))
    v2 = encode_subscription(KafkaSubscription(2, UNKNOWN, PID, "h:1", sums))
    assert v2 == i32(2) + PID.bytes + i32(1, 0, 0) + i32(1, 0, 2) + i32(3) + b"h:1"
    # a v1-6 standby has no offset sum: Kafka reads it as UNKNOWN_OFFSET_SUM
    assert decode_subscription(v2).task_offset_sums == {TaskId(0, 0): LATEST_OFFSET, TaskId(0, 2): UNKNOWN_OFFSET_SUM}


def test_assignment_v11_field_by_field():
    a = KafkaAssignment(11, 11, [TaskId(0, 0), TaskId(1, 2)], {TaskId(0, 1): [("in", 1)]},
                        {("h", 80): [("in", 0)]}, {("h", 80): [("in", 1)]}, 0, 7)
    expected = (i32(11, 11)
                + i32(2) + i32(0, 0, 0) + i32(1, 2, 0)                         # task ids + named topology length 0
                + i32(1) + i32(0, 1, 0) + i32(1) + utf("in") + i32(1)          # standby: task -> writeUTF partitions
                + i32(1) + i32(0) + utf("in")                                  # topic dictionary (index, name)
                + i32(1) + utf("h") + i32(80) + i32(1) + i32(0, 0)             # active partitions by host
                + i32(1) + utf("h") + i32(80) + i32(1) + i32(0, 1)             # standby partitions by host
                + i32(0) + struct.pack(">q", 7))                               # errCode, nextRebalanceMs
    assert encode_assignment(a) == expected
    assert decode_assignment(expected) == a


def test_assignment_v4_and_v1_are_the_old_layouts():
    a = KafkaAssignment(4, 11, [TaskId(0, 0)], {}, {("h", 1): [("in", 0)]}, {}, 3)
    assert encode_assignment(a) == (i32(4, 11) + i32(1, 0, 0) + i32(0) + i32(1) + utf("h") + i32(1) + i32(1)
                                    + utf("in") + i32(0) + i32(3))
    assert decode_assignment(encode_assignment(a)) == a
    v1 = encode_assignment(KafkaAssignment(1, 11, [TaskId(0, 0)]))
    assert v1 == i32(1) + i32(1, 0, 0) + i32(0)
    assert decode_assignment(v1) == KafkaAssignment(1, UNKNOWN, [TaskId(0, 0)])


def test_javas_modified_utf8_strings():
    for text in ("plain-topic", "caf\u00e9", "nul\0byte", "emoji \U0001f600"):
        w = Writer()
        w.utf(text)
        assert Reader(bytes(w.buf), "x").utf() == text
    w = Writer()
    w.utf("a\0\U0001f600")
    assert bytes(w.buf) == b"\x00\x09a\xc0\x80\xed\xa0\xbd\xed\xb8\x80"  # C0 80 and two 3-byte surrogates


# ---------------------------------------------------------------------------------- bytes Kafka Streams 4.1.1 wrote
# java/KafkaInfoBytes.java `encode`: SubscriptionInfo(v, latest, PID, "localhost:8080", {0_0: -2, 1_1: 42, 1_3: 7},
# uniqueField 5, errorCode 4 (v9+), {"zone": "eu-1"}) and AssignmentInfo(v, 11, [1_2, 0_0, 0_0], {0_1: {left-1,
# right-1}}, {localhost:8080: {left-0, right-0, app-repartition-2}, other:9090: {left-1, right-1}},
# {localhost:8080: {left-1, right-1}}, 0) with nextRebalanceTime 1700000000000.
JAVA = {
    "subscription 2": (
        "000000020f1e2d3c4b5a69788796a5b4c3d2e1f000000001000000000000000000000002000000010000000300000001"
        "000000010000000e6c6f63616c686f73743a38303830"
    ),
    "subscription 7": (
        "000000070000000b0f1e2d3c4b5a69788796a5b4c3d2e1f00000000e6c6f63616c686f73743a38303830000000020000"
        "00000000000100000000fffffffffffffffe000000010000000200000003000000000000000700000001000000000000"
        "002a"
    ),
    "subscription 9": (
        "000000090000000b0f1e2d3c4b5a69788796a5b4c3d2e1f00000000e6c6f63616c686f73743a38303830000000020000"
        "00000000000100000000fffffffffffffffe000000010000000200000003000000000000000700000001000000000000"
        "002a0500000004"
    ),
    "subscription 11": (
        "0000000b0000000b0f1e2d3c4b5a69788796a5b4c3d2e1f00000000e6c6f63616c686f73743a38303830000000030000"
        "0001000000030000000000000007ffff0000000000000000fffffffffffffffeffff0000000100000001000000000000"
        "002affff050000000400000001000000047a6f6e650000000465752d31"
    ),
    "assignment 2": (
        "000000020000000300000001000000020000000000000000000000000000000000000001000000000000000100000002"
        "00046c6566740000000100057269676874000000010000000200096c6f63616c686f737400001f9000000003000f6170"
        "702d7265706172746974696f6e0000000200046c65667400000000000572696768740000000000056f74686572000023"
        "820000000200046c656674000000010005726967687400000001"
    ),
    "assignment 4": (
        "000000040000000b00000003000000010000000200000000000000000000000000000000000000010000000000000001"
        "0000000200046c6566740000000100057269676874000000010000000200096c6f63616c686f737400001f9000000003"
        "000f6170702d7265706172746974696f6e0000000200046c65667400000000000572696768740000000000056f746865"
        "72000023820000000200046c65667400000001000572696768740000000100000000"
    ),
    "assignment 5": (
        "000000050000000b00000003000000010000000200000000000000000000000000000000000000010000000000000001"
        "0000000200046c656674000000010005726967687400000001000000030000000000046c65667400000001000f617070"
        "2d7265706172746974696f6e00000002000572696768740000000200096c6f63616c686f737400001f90000000030000"
        "0001000000020000000000000000000000020000000000056f7468657200002382000000020000000000000001000000"
        "020000000100000000"
    ),
    "assignment 6": (
        "000000060000000b00000003000000010000000200000000000000000000000000000000000000010000000000000001"
        "0000000200046c656674000000010005726967687400000001000000030000000000046c65667400000001000f617070"
        "2d7265706172746974696f6e00000002000572696768740000000200096c6f63616c686f737400001f90000000030000"
        "0001000000020000000000000000000000020000000000056f7468657200002382000000020000000000000001000000"
        "02000000010000000100096c6f63616c686f737400001f90000000020000000000000001000000020000000100000000"
    ),
    "assignment 7": (
        "000000070000000b00000003000000010000000200000000000000000000000000000000000000010000000000000001"
        "0000000200046c656674000000010005726967687400000001000000030000000000046c65667400000001000f617070"
        "2d7265706172746974696f6e00000002000572696768740000000200096c6f63616c686f737400001f90000000030000"
        "0001000000020000000000000000000000020000000000056f7468657200002382000000020000000000000001000000"
        "02000000010000000100096c6f63616c686f737400001f90000000020000000000000001000000020000000100000000"
        "0000018bcfe56800"
    ),
    "assignment 10": (
        "0000000a0000000b00000003000000010000000200000000000000000000000000000000000000000000000000000000"
        "000000010000000000000001000000000000000200046c65667400000001000572696768740000000100000003000000"
        "0000046c65667400000001000f6170702d7265706172746974696f6e00000002000572696768740000000200096c6f63"
        "616c686f737400001f900000000300000001000000020000000000000000000000020000000000056f74686572000023"
        "8200000002000000000000000100000002000000010000000100096c6f63616c686f737400001f900000000200000000"
        "000000010000000200000001000000000000018bcfe56800"
    ),
    "assignment 11": (
        "0000000b0000000b00000003000000010000000200000000000000000000000000000000000000000000000000000000"
        "000000010000000000000001000000000000000200046c65667400000001000572696768740000000100000003000000"
        "0000046c65667400000001000f6170702d7265706172746974696f6e00000002000572696768740000000200096c6f63"
        "616c686f737400001f900000000300000001000000020000000000000000000000020000000000056f74686572000023"
        "8200000002000000000000000100000002000000010000000100096c6f63616c686f737400001f900000000200000000"
        "000000010000000200000001000000000000018bcfe56800"
    ),
}


def _java_subscription(version: int) -> KafkaSubscription:
    return KafkaSubscription(version, 11 if version >= 3 else UNKNOWN, PID, "localhost:8080",
                             {TaskId(0, 0): LATEST_OFFSET, **({TaskId(1, 1): 42, TaskId(1, 3): 7} if version >= 7
                                                              else {TaskId(1, 1): UNKNOWN_OFFSET_SUM,
                                                                    TaskId(1, 3): UNKNOWN_OFFSET_SUM})},
                             5 if version >= 8 else 0, 4 if version >= 9 else 0,
                             {"zone": "eu-1"} if version >= 11 else {})


def _java_assignment(version: int) -> KafkaAssignment:
    hosts = {("localhost", 8080): [("app-repartition", 2), ("left", 0), ("right", 0)],
             ("other", 9090): [("left", 1), ("right", 1)]}
    return KafkaAssignment(version, 11 if version >= 3 else UNKNOWN, [TaskId(1, 2), TaskId(0, 0), TaskId(0, 0)],
                           {TaskId(0, 1): [("left", 1), ("right", 1)]}, hosts if version >= 2 else {},
                           {("localhost", 8080): [("left", 1), ("right", 1)]} if version >= 6 else {}, 0,
                           1_700_000_000_000 if version >= 7 else NO_FOLLOWUP)


def _sorted(a: KafkaAssignment) -> KafkaAssignment:
    """Java writes its HashSets/HashMaps in hash order: compare as sets."""
    def hosts(m):
        return {h: sorted(tps) for h, tps in m.items()}

    return KafkaAssignment(a.version, a.commonly_supported_version, a.active_tasks,
                           {t: sorted(tps) for t, tps in a.standby_tasks.items()}, hosts(a.partitions_by_host),
                           hosts(a.standby_partitions_by_host), a.error_code, a.next_rebalance_ms, a.extension)


@pytest.mark.parametrize("name", sorted(JAVA))
def test_we_read_the_bytes_kafka_streams_wrote(name):
    kind, version = name.split()
    data = bytes.fromhex(JAVA[name])
    if kind == "subscription":
        assert decode_subscription(data) == _java_subscription(int(version))
        # and ours for the same fields has the same length (Java orders the offset sums by hash)
        assert len(encode_subscription(_java_subscription(int(version)))) == len(data)
    else:
        assert _sorted(decode_assignment(data)) == _java_assignment(int(version))
        assert len(encode_assignment(_java_assignment(int(version)))) == len(data)


def test_the_java_fixtures_cover_the_versions_kafka_4_sends():
    assert {"subscription 11", "assignment 11", "assignment 7"} <= set(JAVA)


# -------------------------------------------------------------------------------------------------- round trips
task_ids = st.builds(TaskId, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1))
tp_lists = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.integers(0, 1000)), max_size=5, unique=True)
hosts = st.tuples(st.text(max_size=20), st.integers(0, 65535))


@given(st.integers(1, LATEST_SUPPORTED_VERSION), st.uuids(), st.none() | st.text(min_size=1, max_size=30),
       st.dictionaries(task_ids, st.integers(-2**63, 2**63 - 1), max_size=6), st.integers(-128, 127),
       st.integers(-2**31, 2**31 - 1), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
       st.binary(max_size=8))
def test_subscriptions_round_trip_at_every_version(v, pid, endpoint, sums, unique, error, tags, extension):
    sub = KafkaSubscription(v, 11 if v >= 3 else UNKNOWN, pid, endpoint if v >= 2 else None, sums, unique, error,
                            tags, extension)
    back = decode_subscription(encode_subscription(sub))
    if v < 7:  # only "running" or "has state" survives
        sums = {t: LATEST_OFFSET if s == LATEST_OFFSET else UNKNOWN_OFFSET_SUM for t, s in sums.items()}
    assert back == KafkaSubscription(v, sub.latest_supported_version, pid, sub.user_endpoint, sums,
                                     unique if v >= 8 else 0, error if v >= 9 else 0, tags if v >= 11 else {},
                                     extension)


@given(st.integers(1, LATEST_SUPPORTED_VERSION), st.lists(task_ids, max_size=6),
       st.dictionaries(task_ids, tp_lists.map(sorted), max_size=4),
       st.dictionaries(hosts, tp_lists.map(sorted), max_size=3), st.dictionaries(hosts, tp_lists.map(sorted), max_size=3),
       st.integers(-2**31, 2**31 - 1), st.integers(0, 2**63 - 1), st.binary(max_size=8))
def test_assignments_round_trip_at_every_version(v, active, standby, by_host, standby_by_host, error, nxt, ext):
    a = KafkaAssignment(v, 11, active, standby, by_host, standby_by_host, error, nxt, ext)
    back = decode_assignment(encode_assignment(a))
    assert back == KafkaAssignment(v, 11 if v >= 3 else UNKNOWN, active, standby, by_host if v >= 2 else {},
                                   standby_by_host if v >= 6 else {}, error if v >= 4 else 0,
                                   nxt if v >= 7 else NO_FOLLOWUP, ext)


# --------------------------------------------------------------------------------------------- version handling
def test_the_leader_answers_in_the_oldest_version_any_member_sent():
    assert assignment_versions([]) == (11, 11)
    assert assignment_versions([(11, 11), (7, 9), (11, 11)]) == (7, 9)
    assert assignment_versions([(2, UNKNOWN)]) == (2, UNKNOWN)


def test_a_member_follows_the_groups_version_as_kafkas_version_probing():
    assert next_subscription_version(11, 11, 11) == (11, False)
    assert next_subscription_version(11, 7, 9) == (9, True)      # an older member is in the group: step down
    assert next_subscription_version(9, 9, 11) == (11, True)     # everyone upgraded: step up
    assert next_subscription_version(11, 10, 11) == (11, True)   # Kafka rejoins here too (same version)
    assert next_subscription_version(2, 2, UNKNOWN) == (2, False)  # below version probing: stay
    with pytest.raises(AssignmentError, match="Sent a version 7 subscription but got an assignment with higher "
                                              "version 11"):
        next_subscription_version(7, 11, 11)
    with pytest.raises(AssignmentError, match="greater than we support"):
        next_subscription_version(11, 11, 12)


def test_a_future_subscription_decodes_to_its_versions_only():
    sub = decode_subscription(i32(12, 12) + b"anything newer")
    assert (sub.version, sub.latest_supported_version, sub.process_id, sub.future) == (12, 12, None, True)


def test_unknown_versions_named_topologies_and_bad_bytes_are_refused():
    with pytest.raises(AssignmentError, match="Unable to decode assignment data: used version: 12"):
        decode_assignment(i32(12, 12))
    with pytest.raises(AssignmentError, match="versions 1-11"):
        encode_assignment(KafkaAssignment(version=0))
    named = i32(11, 11) + i32(1) + i32(0, 0) + i32(3) + "abc".encode("utf-16-be")
    with pytest.raises(AssignmentError, match="named topology"):
        decode_assignment(named)
    dictionary = (i32(6, 11) + i32(0) + i32(0) + i32(1) + i32(0) + utf("t")
                  + i32(1) + utf("h") + i32(1) + i32(1) + i32(4, 0))
    with pytest.raises(AssignmentError, match="topic index 4"):
        decode_assignment(dictionary + i32(0) + i32(0))
    with pytest.raises(AssignmentError, match="cannot decode"):
        decode_subscription(i32(11, 11) + PID.bytes[:5])
