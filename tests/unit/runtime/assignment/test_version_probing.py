"""Version probing on the member side (Kafka's StreamsPartitionAssignor.onAssignment): a pystreams member sends
SubscriptionInfo v11; an older leader (Kafka Streams before 3.2 speaks v10) answers every member in its own version
with its latest version as the commonly supported one. The member then subscribes with that version and rejoins at
once, and from then on gets assignments it accepts without rejoining (no rejoin loop); when the group's commonly
supported version goes up again (the older instance is gone) it upgrades and rejoins once more. An assignment
newer than the subscription is refused, as Kafka's IllegalStateException."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.broker.protocol import decode_subscription
from pystreams.errors import PystreamsError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import AssignmentInfo, StreamsPartitionAssignor, SubscriptionInfo
from pystreams.runtime.assignment.kafka_info import LATEST_SUPPORTED_VERSION, decode_subscription as kafka_subscription
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.client import JoinResult
from pystreams.runtime.group.streams_member import StreamsMember
from tests.unit.runtime.assignment.support import ends, plan
from tests.unit.runtime.group.fakes import FakeClient, assignment
from tests.unit.runtime.group.test_streams_member import StreamsFakeClient, make_thread

pytestmark = pytest.mark.unit
OLD = 10  # Kafka Streams 2.8-3.1's LATEST_SUPPORTED_VERSION (v11 added the client tags, KIP-708)


def _member(tmp_path: Any) -> tuple[StreamsMember, StreamsFakeClient]:
    thread = make_thread(tmp_path, "p1")
    thread.config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1",
                                   "state.dir": str(tmp_path), "client.tag.zone": "z1",
                                   "session.timeout.ms": 10_000, "heartbeat.interval.ms": 1_000})
    client = StreamsFakeClient({"left": 2, "right": 2})
    m = StreamsMember(thread, (client, FakeClient()))
    m.member.config.heartbeat_thread = False
    return m, client


def _round(m: StreamsMember, client: StreamsFakeClient, generation: int, version: int, common: int) -> int:
    """One join/sync answered by a leader speaking `version` (when the member has no rejoin of its own due, the
    group rebalances for another reason, as a member joining); returns the subscription version it sent."""
    if not m.member.rejoin_needed:
        m.member.request_rejoin("another member joins")
    client.script("join", JoinResult(generation, "m1", "leader", "stream", []))
    info = AssignmentInfo({TaskId(0, 0): [("left", 0), ("right", 0)]}, version=version,
                          commonly_supported_version=common)
    client.script("sync", assignment([("left", 0), ("right", 0)], info.encode()))
    polled = m.poll()
    assert polled is not None and polled[1].active_tasks == info.active_tasks  # the older assignment is applied
    _, sub = decode_subscription(client.called("join")[-1]["protocols"][0][1])
    return kafka_subscription(sub["user_data"]).version


def test_an_older_leader_makes_the_member_downgrade_once_and_then_stay(tmp_path):
    m, client = _member(tmp_path)
    assert _round(m, client, 1, OLD, OLD) == LATEST_SUPPORTED_VERSION  # a future version to the old leader
    assert m.member.rejoin_needed  # version probing: rejoin at once ...
    assert m.subscription_version == OLD
    sent = kafka_subscription(m.user_data())
    assert (sent.version, sent.latest_supported_version) == (OLD, LATEST_SUPPORTED_VERSION)
    assert sent.client_tags == {}  # v10 has no client tags: the old leader reads every field it knows
    assert SubscriptionInfo.decode(m.user_data()).process_id == "p1"  # ... and pystreams' extension still follows
    for generation in (2, 3, 4):  # ... with v10, and from then on no more rejoins
        assert _round(m, client, generation, OLD, OLD) == OLD
        assert not m.member.rejoin_needed
    # the older instance left: the leader's commonly supported version is ours again
    assert _round(m, client, 5, OLD, LATEST_SUPPORTED_VERSION) == OLD
    assert m.member.rejoin_needed and m.subscription_version == LATEST_SUPPORTED_VERSION
    assert kafka_subscription(m.user_data()).client_tags == {"zone": "z1"}
    assert _round(m, client, 6, LATEST_SUPPORTED_VERSION, LATEST_SUPPORTED_VERSION) == LATEST_SUPPORTED_VERSION
    assert not m.member.rejoin_needed


def test_an_assignment_newer_than_the_subscription_is_refused(tmp_path):
    m, client = _member(tmp_path)
    _round(m, client, 1, OLD, OLD)
    with pytest.raises(PystreamsError, match="Sent a version 10 subscription but got an assignment with higher "
                                             "version 11"):
        _round(m, client, 2, LATEST_SUPPORTED_VERSION, LATEST_SUPPORTED_VERSION)


def test_a_pystreams_leader_answers_a_downgraded_member_in_its_version_and_both_come_back_up():
    """The leader side of the same dance: a member that downgraded (v10, latest 11) makes the assignment v10 with
    commonly supported 11; the downgraded member then upgrades, the others rejoin once (Kafka does), and the next
    round is v11 for all."""
    from pystreams.runtime.assignment import MemberSubscription
    from pystreams.runtime.assignment.kafka_info import next_subscription_version

    p = plan(2)
    assignor = StreamsPartitionAssignor(p, 0)
    versions = {"a": LATEST_SUPPORTED_VERSION, "b": OLD}
    for _ in range(3):
        members = {m: MemberSubscription(["in"], SubscriptionInfo(m.upper(), None, version=v)) for m, v in
                   versions.items()}
        result = assignor.assign(p.topic_partitions, members, ends(p, 0))
        decoded = {m: AssignmentInfo.decode(a.info.encode(), a.partitions) for m, a in result.items()}
        steps = {m: next_subscription_version(versions[m], d.version, d.commonly_supported_version)
                 for m, d in decoded.items()}
        versions = {m: v for m, (v, _) in steps.items()}
        if not any(rejoin for _, rejoin in steps.values()):
            break
    assert versions == {"a": LATEST_SUPPORTED_VERSION, "b": LATEST_SUPPORTED_VERSION}
    assert {d.version for d in decoded.values()} == {LATEST_SUPPORTED_VERSION}
