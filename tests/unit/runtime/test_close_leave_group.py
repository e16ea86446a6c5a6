"""Which close path sends LeaveGroup, and with which group.instance.id (docs/adr/0005-close-leaves-the-group.md):
GroupMember.close applies Kafka's consumer rule (KIP-1092), StreamsMember.close makes a failed thread leave, and
KafkaStreams.close / remove_stream_thread / the error shutdown hand their operation to each thread. No sockets:
the group clients are recording fakes and the stream threads fakes that close their member as thread_commit does."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.errors import BrokerConnectionError
from pystreams.runtime.group.member_types import sends_leave_group
from pystreams.runtime.group.membership import GroupMember, MemberConfig, MemberState
from pystreams.runtime.group.streams_member import StreamsMember
from pystreams.runtime.kafka_streams import KafkaStreams, State
from pystreams.runtime.thread_admin import CloseOptions, GroupMembershipOperation
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.unit.runtime.group.fakes import FakeClient

pytestmark = pytest.mark.unit

LEAVE, REMAIN, DEFAULT = (GroupMembershipOperation.LEAVE_GROUP, GroupMembershipOperation.REMAIN_IN_GROUP,
                          GroupMembershipOperation.DEFAULT)


class LeaveRecorder(FakeClient):
    """Records every LeaveGroup with the instance id and reason it carries; `fail` makes it raise."""

    def __init__(self, fail: Exception | None = None) -> None:
        super().__init__()
        self.leaves: list[tuple[str, str | None, str]] = []
        self.fail = fail

    def leave_group(self, member_id: str, group_instance_id: str | None, reason: str = "") -> None:
        self.leaves.append((member_id, group_instance_id, reason))
        if self.fail is not None:
            raise self.fail


def _member(instance_id: str | None, client: LeaveRecorder | None = None) -> tuple[GroupMember, LeaveRecorder]:
    client = client or LeaveRecorder()
    member = GroupMember(MemberConfig("app", group_instance_id=instance_id, heartbeat_thread=False), client,
                         FakeClient(), lambda: ["in"], lambda: None, lambda members: {})
    member.member_id = "m-1"
    member.generation_id, member.state = 3, MemberState.STABLE
    return member, client


@pytest.mark.parametrize("leave, dynamic_leaves, static_leaves", [
    (True, True, False),  # pystreams' plain close(): the consumer's DEFAULT
    (DEFAULT, True, False),
    (LEAVE, True, True),
    (False, False, False),
    (REMAIN, False, False),
])
def test_group_member_close_follows_kafkas_consumer_rule(leave: Any, dynamic_leaves: bool, static_leaves: bool
                                                          ) -> None:
    dynamic, d_client = _member(None)
    dynamic.close(leave)
    assert d_client.leaves == ([("m-1", None, "the consumer is closing")] if dynamic_leaves else [])
    static, s_client = _member("node-a-1")
    static.close(leave)
    # a static member's LeaveGroup names its member id AND its instance id: the coordinator removes exactly this
    # incarnation (a newer one with the same instance id answers FENCED_INSTANCE_ID instead of being removed)
    assert [(m, i) for m, i, _ in s_client.leaves] == ([("m-1", "node-a-1")] if static_leaves else [])
    for member, client in ((dynamic, d_client), (static, s_client)):
        assert member.state is MemberState.UNJOINED and member.owned == frozenset() and client.closed


def test_the_rule_itself() -> None:
    assert [sends_leave_group(op, static=False) for op in (True, False, LEAVE, REMAIN, DEFAULT)] == \
        [True, False, True, False, True]
    assert [sends_leave_group(op, static=True) for op in (True, False, LEAVE, REMAIN, DEFAULT)] == \
        [False, False, True, False, False]


def test_a_member_that_never_joined_sends_nothing() -> None:
    member, client = _member("node-a-1")
    member.member_id = ""
    member.close(LEAVE)
    assert client.leaves == [] and client.closed


def test_a_failing_leave_group_still_closes_the_member() -> None:
    member, client = _member("node-a-1", LeaveRecorder(fail=BrokerConnectionError("connection refused")))
    member.close(LEAVE)
    assert len(client.leaves) == 1 and client.closed and member.state is MemberState.UNJOINED


# ---------------------------------------------------------------------------------------------- StreamsMember
def _streams_member(tmp_path: Any, instance_id: str | None, error: BaseException | None = None
                    ) -> tuple[StreamsMember, LeaveRecorder]:
    plan = TopologyPlan("app", [SubtopologyPlan(0, ("a",), ["in"], [], 1, {})], {"in": 1}, {}, {})
    extra = {"group.instance.id": instance_id} if instance_id else {}
    config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                            **extra})
    thread = SimpleNamespace(name="c-StreamThread-1", index=1, plan=plan, config=config, tasks={}, _standby=None,
                             streams=SimpleNamespace(process_id="p1", shutdown_requested=0), error=error)
    client = LeaveRecorder()
    member = StreamsMember(thread, (client, FakeClient()))
    member.member.member_id = "m-1"
    return member, client


@pytest.mark.parametrize("leave", [True, False, REMAIN])
def test_a_thread_that_died_of_an_exception_leaves_also_as_a_static_member(tmp_path: Any, leave: Any) -> None:
    member, client = _streams_member(tmp_path, "node-a", error=RuntimeError("boom"))
    member.close(leave)
    assert [(m, i) for m, i, _ in client.leaves] == [("m-1", "node-a-1")]


def test_a_healthy_static_thread_closed_plainly_stays(tmp_path: Any) -> None:
    member, client = _streams_member(tmp_path, "node-a")
    member.close(True)
    assert client.leaves == []
    member, client = _streams_member(tmp_path, "node-a")
    member.close(LEAVE)
    assert [(m, i) for m, i, _ in client.leaves] == [("m-1", "node-a-1")]


# ---------------------------------------------------------------------------------------------- KafkaStreams paths
class ClosingThread(threading.Thread):
    """A stream thread stand-in whose close does what thread_commit._close does with its group member:
    member.close(leave=self.leave_group_on_close), after setting `error` when it dies of an exception."""

    def __init__(self, tmp_path: Any, index: int, instance_id: str | None) -> None:
        super().__init__(name=f"c-StreamThread-{index}", daemon=True)
        self.index = index
        self.running = True
        self.assigned_once = True
        self.rebalancing = False
        self.error: BaseException | None = None
        self._stop_event = threading.Event()
        self.fail_with: BaseException | None = None
        self.member, self.client = _streams_member(tmp_path, instance_id)
        self.member.thread = self
        self.member.member.config.group_instance_id = f"{instance_id}-{index}" if instance_id else None

    def shutdown(self) -> None:
        self.running = False
        self._stop_event.set()

    def run(self) -> None:
        self._stop_event.wait(30)
        if self.fail_with is not None:
            self.error = self.fail_with
        self.member.close(leave=getattr(self, "leave_group_on_close", True))

    def sent(self) -> list[tuple[str, str | None]]:
        return [(m, i) for m, i, _ in self.client.leaves]


def _streams(tmp_path: Any, instance_id: str | None, threads: int = 2) -> tuple[KafkaStreams, list[ClosingThread]]:
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    config = {"application.id": "app", "client.id": "c", "state.dir": str(tmp_path)}
    streams = KafkaStreams(b.build(), config)
    streams._set_state(State.REBALANCING)
    streams._set_state(State.RUNNING)
    made = [ClosingThread(tmp_path, i, instance_id) for i in range(1, threads + 1)]
    streams.threads = list(made)
    for t in made:
        t.start()
    return streams, made


@pytest.mark.parametrize("instance_id", [None, "node-a"])
def test_plain_close_dynamic_members_leave_static_members_stay(tmp_path: Any, instance_id: str | None) -> None:
    streams, threads = _streams(tmp_path, instance_id)
    assert streams.close(10) is True
    expected = [[] if instance_id else [("m-1", None)] for _ in threads]
    assert [t.sent() for t in threads] == expected


@pytest.mark.parametrize("options", [CloseOptions(timeout=10, leave_group=True),
                                     CloseOptions(timeout=10, group_membership_operation=LEAVE)])
def test_close_with_leave_group_removes_static_members_at_once(tmp_path: Any, options: CloseOptions) -> None:
    streams, threads = _streams(tmp_path, "node-a")
    assert streams.close(options) is True
    assert [t.sent() for t in threads] == [[("m-1", "node-a-1")], [("m-1", "node-a-2")]]


@pytest.mark.parametrize("instance_id", [None, "node-a"])
def test_close_with_remain_in_group_sends_nothing(tmp_path: Any, instance_id: str | None) -> None:
    streams, threads = _streams(tmp_path, instance_id)
    assert streams.close(CloseOptions(timeout=10, group_membership_operation=REMAIN)) is True
    assert [t.sent() for t in threads] == [[], []]


def test_a_removed_static_thread_leaves_and_the_others_stay_on_close(tmp_path: Any) -> None:
    streams, threads = _streams(tmp_path, "node-a")
    assert streams.remove_stream_thread(10) == "c-StreamThread-1"
    assert threads[0].sent() == [("m-1", "node-a-1")] and threads[1].sent() == []
    assert streams.close(10) is True
    assert threads[1].sent() == []  # the plain close of the one left: a static member stays


@pytest.mark.parametrize("instance_id, survivor_leaves", [(None, [("m-1", None)]), ("node-a", [])])
def test_error_shutdown_the_failed_thread_leaves_the_others_follow_the_plain_close_rule(
        tmp_path: Any, instance_id: str | None, survivor_leaves: list[Any]) -> None:
    """SHUTDOWN_CLIENT (the default handler answer): Kafka's closeToError keeps every member in the group except
    the failed thread (StreamThread.run's catch asks LEAVE_GROUP). pystreams: the failed thread leaves as Kafka's;
    the other threads close as on a plain close() (dynamic leave, static stay: the ADR's reasoning)."""
    streams, threads = _streams(tmp_path, instance_id)
    threads[0].fail_with = RuntimeError("processing failed")
    threads[0].shutdown()  # it "dies": run() closes its member, then the client handles the failure
    threads[0].join(10)
    streams._thread_failed(threads[0], RuntimeError("processing failed"))
    assert streams.wait_for_state(State.ERROR, timeout=10)
    failed_id = f"{instance_id}-1" if instance_id else None
    assert threads[0].sent() == [("m-1", failed_id)]
    assert threads[1].sent() == survivor_leaves
