"""SubscriptionInfo/AssignmentInfo: versioned compact encoding; foreign or corrupt data fails clearly."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import (
    LATEST_OFFSET,
    SHUTDOWN_REQUESTED,
    AssignmentError,
    AssignmentInfo,
    SubscriptionInfo,
)

pytestmark = pytest.mark.unit

task_ids = st.builds(TaskId, st.integers(0, 50), st.integers(0, 500))
tps = st.lists(st.tuples(st.text(min_size=1, max_size=30), st.integers(0, 1000)), max_size=6)
endpoints = st.none() | st.text(max_size=40)


@given(st.text(min_size=1, max_size=40), endpoints,
       st.dictionaries(task_ids, st.integers(-3, 2**62)), st.frozensets(task_ids), st.integers(0, 10))
def test_subscription_round_trips(process_id, endpoint, sums, standbys, error):
    info = SubscriptionInfo(process_id, endpoint, sums, standbys, error)
    assert SubscriptionInfo.decode(info.encode()) == info


@given(st.dictionaries(task_ids, tps, max_size=8), st.dictionaries(task_ids, tps, max_size=8),
       st.dictionaries(st.text(min_size=1, max_size=20), tps, max_size=4),
       st.dictionaries(st.text(min_size=1, max_size=20), tps, max_size=4), st.integers(0, 10),
       st.integers(-1, 2**40))
def test_assignment_round_trips(active, standby, hosts, standby_hosts, error, followup):
    info = AssignmentInfo(active, standby, hosts, standby_hosts, error, followup)
    assert AssignmentInfo.decode(info.encode()) == info


def test_the_first_int_is_the_version_and_topics_are_written_once():
    tps_ = [("orders-with-a-long-topic-name", p) for p in range(50)]
    info = AssignmentInfo({TaskId(0, p): [tps_[p]] for p in range(50)}, {}, {"h:1": tps_}, {})
    data = info.encode()
    assert struct.unpack(">i", data[:4])[0] == 1
    assert data.count(b"orders-with-a-long-topic-name") == 1
    assert len(data) <= 50 * (8 + 12) + 50 * 8 + 100  # ids + one partition per task, 8 bytes per host entry


def test_shutdown_code_is_kafkas():
    assert SHUTDOWN_REQUESTED == 4 and LATEST_OFFSET == -2


def test_foreign_user_data_is_refused_clearly():
    # Kafka Streams (Java) SubscriptionInfo v11 starts with int32 version, int32 latest version, a UUID...
    java_like = struct.pack(">ii", 11, 11) + bytes(16) + b"\x00\x00"
    with pytest.raises(AssignmentError, match="not pystreams data"):
        SubscriptionInfo.decode(java_like)
    with pytest.raises(AssignmentError, match="not pystreams data"):
        AssignmentInfo.decode(b"")


def test_another_version_is_refused_with_the_versions():
    data = bytearray(SubscriptionInfo("p", None).encode())
    data[:4] = struct.pack(">i", 7)
    with pytest.raises(AssignmentError, match="version 7.*supports version 1"):
        SubscriptionInfo.decode(bytes(data))


@pytest.mark.parametrize("cut", [13, 20, -1])
def test_truncated_data_is_refused(cut):
    data = SubscriptionInfo("process", "h:1", {TaskId(0, 1): 5}, frozenset({TaskId(1, 2)})).encode()
    with pytest.raises(AssignmentError, match="cannot decode Streams subscription"):
        SubscriptionInfo.decode(data[:cut])


def test_trailing_bytes_and_bad_topic_index_are_refused():
    data = AssignmentInfo({TaskId(0, 0): [("t", 0)]}).encode()
    with pytest.raises(AssignmentError, match="trailing"):
        AssignmentInfo.decode(data + b"\x00")
    # the topic dictionary has one entry: point the task's partition at index 5
    bad = bytearray(data)
    at = len(bad) - 12 - 8  # the only (topic index, partition), before 3 empty maps (standbys, 2 host maps)
    bad[at:at + 4] = struct.pack(">i", 5)
    with pytest.raises(AssignmentError, match="topic index 5"):
        AssignmentInfo.decode(bytes(bad))


@given(st.binary(max_size=64))
def test_random_bytes_never_decode_into_nonsense(data):
    for cls in (SubscriptionInfo, AssignmentInfo):
        try:
            cls.decode(b"\x00\x00\x00\x01\x00\x00\x00\x01pyst" + data)
        except AssignmentError:
            pass
