"""SubscriptionInfo/AssignmentInfo: pystreams' view of Kafka's SubscriptionInfoData / AssignmentInfo. They round-trip
through Kafka's bytes; pystreams' extra data (exact standbys, a non-UUID process id, the leader's error text, the
active partitions) rides after Kafka's fields where Kafka's decoders never look; without it (a Java sender) the
same things come out the way Kafka derives them."""
from __future__ import annotations

import dataclasses
import uuid

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
from pystreams.runtime.assignment.info import FUTURE_PROCESS_ID, host_info, process_uuid
from pystreams.runtime.assignment.kafka_info import (
    NO_FOLLOWUP,
    KafkaAssignment,
    KafkaSubscription,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)

pytestmark = pytest.mark.unit

task_ids = st.builds(TaskId, st.integers(0, 50), st.integers(0, 500))
topics = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
tp_lists = st.lists(st.tuples(topics, st.integers(0, 1000)), max_size=6, unique=True).map(sorted)
endpoints = st.builds(lambda h, p: f"{h}:{p}", st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True),
                      st.integers(0, 65535))
process_ids = st.uuids().map(str) | st.text(min_size=1, max_size=40)


@given(process_ids, st.none() | endpoints, st.dictionaries(task_ids, st.integers(-3, 2**62)), st.frozensets(task_ids),
       st.integers(0, 10), st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3))
def test_subscription_round_trips(process_id, endpoint, sums, standbys, error, tags):
    info = SubscriptionInfo(process_id, endpoint, sums, standbys, error, tags)
    assert SubscriptionInfo.decode(info.encode()) == info


def test_a_subscription_is_kafkas_subscription_info_data_with_our_extension_after_it():
    pid = str(uuid.uuid4())
    info = SubscriptionInfo(pid, "h:1", {TaskId(0, 1): 5, TaskId(1, 0): LATEST_OFFSET}, frozenset({TaskId(0, 1)}),
                            SHUTDOWN_REQUESTED, {"zone": "a"})
    k = decode_subscription(info.encode())
    assert (k.version, k.latest_supported_version, str(k.process_id), k.user_endpoint) == (11, 11, pid, "h:1")
    assert k.task_offset_sums == info.task_offset_sums and k.error_code == SHUTDOWN_REQUESTED
    assert k.client_tags == {"zone": "a"} and k.extension.startswith(b"pyst")


def test_a_java_members_subscription_derives_standbys_from_offset_sums_as_kafka():
    """No extension: every task with local state that is not running is a previous standby (Kafka's
    SubscriptionInfo.standbyTasks()), and the process id is the UUID."""
    pid = uuid.uuid4()
    data = encode_subscription(KafkaSubscription(11, 11, pid, None, {TaskId(0, 0): LATEST_OFFSET, TaskId(0, 1): 9}))
    info = SubscriptionInfo.decode(data)
    assert info.process_id == str(pid) and info.prev_standby == frozenset({TaskId(0, 1)})
    assert info.task_offset_sums == {TaskId(0, 0): LATEST_OFFSET, TaskId(0, 1): 9}


def test_a_non_uuid_process_id_travels_as_a_stable_uuid_and_comes_back_by_name():
    first, second = SubscriptionInfo("process-a", None).encode(), SubscriptionInfo("process-a", None).encode()
    assert decode_subscription(first).process_id == decode_subscription(second).process_id == process_uuid("process-a")
    assert process_uuid("process-a") != process_uuid("process-b")
    assert SubscriptionInfo.decode(first).process_id == "process-a"


def test_the_unique_field_changes_at_every_subscription():
    """Kafka's uniqueField: a static member's rejoin with the same state still sends different metadata."""
    a, b = SubscriptionInfo("p", None), SubscriptionInfo("p", None)
    assert a == b and decode_subscription(a.encode()).unique_field != decode_subscription(b.encode()).unique_field


def test_a_future_version_subscription_counts_as_kafkas_future_client():
    info = SubscriptionInfo.decode(b"\x00\x00\x00\x0c\x00\x00\x00\x0c" + bytes(40))
    assert (info.process_id, info.version, info.latest_supported_version) == (FUTURE_PROCESS_ID, 12, 12)


@given(st.dictionaries(task_ids, tp_lists.filter(bool), max_size=8), st.dictionaries(task_ids, tp_lists, max_size=8),
       st.dictionaries(endpoints, tp_lists, max_size=4), st.dictionaries(endpoints, tp_lists, max_size=4),
       st.integers(0, 10), st.integers(-1, 2**40), st.text(max_size=50))
def test_assignment_round_trips(active, standby, hosts, standby_hosts, error, followup, message):
    seen: set = set()
    active = {t: [tp for tp in tps if tp not in seen and not seen.add(tp)] for t, tps in active.items()}
    active = {t: tps for t, tps in active.items() if tps}
    info = AssignmentInfo(active if not error else {}, standby, hosts, standby_hosts, error, followup,
                          message if error else "")
    assert AssignmentInfo.decode(info.encode(now_ms=1_000), now_ms=1_000) == info
    # a member zips the group assignment's partitions (any order) with the task list, as Kafka's onAssignment
    parts = [tp for tps in info.active_tasks.values() for tp in tps][::-1]
    assert AssignmentInfo.decode(info.encode(now_ms=5), parts, now_ms=5) == info


def test_a_java_leaders_assignment_needs_the_assignments_partitions():
    data = encode_assignment(KafkaAssignment(active_tasks=[TaskId(0, 0), TaskId(0, 0), TaskId(1, 2)],
                                             partitions_by_host={("host-a", 80): [("in", 0)]}))
    with pytest.raises(AssignmentError, match="needs the group assignment's partitions"):
        AssignmentInfo.decode(data)
    info = AssignmentInfo.decode(data, [("rep", 2), ("in", 0), ("other", 0)])
    assert info.active_tasks == {TaskId(0, 0): [("in", 0), ("other", 0)], TaskId(1, 2): [("rep", 2)]}
    assert info.partitions_by_host == {"host-a:80": [("in", 0)]} and info.followup_rebalance_ms == -1
    with pytest.raises(AssignmentError, match="Number of assigned partitions 2 is not equal to the number of "
                                              "active taskIds 3"):
        AssignmentInfo.decode(data, [("in", 0), ("other", 0)])


def test_followup_rebalances_travel_as_kafkas_wall_clock_next_rebalance_time():
    def wire(followup: int) -> int:
        return decode_assignment(AssignmentInfo(followup_rebalance_ms=followup).encode(now_ms=10_000)).next_rebalance_ms

    assert (wire(-1), wire(0), wire(600_000)) == (NO_FOLLOWUP, 0, 610_000)
    data = encode_assignment(KafkaAssignment(next_rebalance_ms=12_000))
    assert AssignmentInfo.decode(data, now_ms=10_000).followup_rebalance_ms == 2_000
    assert AssignmentInfo.decode(data, now_ms=20_000).followup_rebalance_ms == 0  # overdue: at once
    # between pystreams members the leader's delay travels as such: a member's clock does not matter
    ours = AssignmentInfo(followup_rebalance_ms=60_000).encode(now_ms=0)
    assert AssignmentInfo.decode(ours, now_ms=10**12).followup_rebalance_ms == 60_000


def test_the_leaders_error_text_rides_along_and_kafka_sees_the_code():
    info = AssignmentInfo(error_code=3, error_message="Existing internal topic x has invalid partitions")
    assert AssignmentInfo.decode(info.encode()) == info
    assert decode_assignment(info.encode()).error_code == 3
    assert AssignmentInfo.decode(AssignmentInfo(error_message="ignored without an error").encode()).error_message == ""
    java = AssignmentInfo.decode(encode_assignment(KafkaAssignment(error_code=4)))
    assert (java.error_code, java.error_message) == (4, "")


def test_an_older_version_drops_the_fields_it_does_not_have():
    info = AssignmentInfo({TaskId(0, 0): [("in", 0)]}, {}, {"a:1": [("in", 0)]}, {"b:2": [("in", 0)]}, 0, 5,
                          version=5, commonly_supported_version=11)
    back = AssignmentInfo.decode(info.encode(now_ms=0), now_ms=0)
    assert back == dataclasses.replace(info, standby_partitions_by_host={})
    # v5 has no nextRebalanceMs: a Java member sees none, a pystreams member the leader's delay (extension)
    assert decode_assignment(info.encode(now_ms=0)).next_rebalance_ms == NO_FOLLOWUP


def test_endpoints_are_kafkas_host_info():
    assert host_info("localhost:8080") == ("localhost", 8080) and host_info("[::1]:9") == ("::1", 9)
    info = AssignmentInfo(partitions_by_host={"[::1]:9": [("t", 0)]})
    assert AssignmentInfo.decode(info.encode()).partitions_by_host == {"[::1]:9": [("t", 0)]}
    for bad in ("no-port", "host:", "host:http", ":80", "host:70000"):
        with pytest.raises(AssignmentError, match="is not host:port"):
            host_info(bad)


def test_what_kafka_cannot_carry_is_refused():
    with pytest.raises(AssignmentError, match="has no partitions"):
        AssignmentInfo({TaskId(0, 0): []}).encode()
    with pytest.raises(AssignmentError, match="in two active tasks"):
        AssignmentInfo({TaskId(0, 0): [("t", 0)], TaskId(1, 0): [("t", 0)]}).encode()


@pytest.mark.parametrize("cut", [3, 13, 30, -1])
def test_truncated_data_is_refused(cut):
    data = SubscriptionInfo(str(uuid.uuid4()), "h:1", {TaskId(0, 1): 5}, frozenset({TaskId(1, 2)})).encode()
    with pytest.raises(AssignmentError, match="cannot decode"):
        SubscriptionInfo.decode(data[:cut])


@given(st.binary(max_size=64))
def test_random_bytes_never_decode_into_nonsense(data):
    for decode in (SubscriptionInfo.decode, AssignmentInfo.decode):
        for prefix in (b"\x00\x00\x00\x0b\x00\x00\x00\x0b", b"\x00\x00\x00\x07"):
            try:
                decode(prefix + data)
            except AssignmentError:
                pass
