"""Static members (group.instance.id) and close, on both brokers (docs/adr/0005-close-leaves-the-group.md):
close(CloseOptions LEAVE_GROUP) sends LeaveGroup with the member's group.instance.id, so the other instance takes
its tasks at once instead of after session.timeout.ms (Kafka 4.2's StreamThread; 4.0 removed it through the admin
client); a plain close() keeps the static member in the group (Kafka: static members never leave on a normal close,
so a bounce under the same instance id moves no task); remove_stream_thread() and a thread dying of an exception make
that thread's static member leave; the error shutdown's other thread stays."""
from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.thread_admin import CloseOptions, GroupMembershipOperation
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    unique,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

SESSION_MS = 30_000  # a static member that does not leave stays this long
TAKEOVER_S = 10.0  # LEAVE_GROUP: the survivor holds every task well before the session timeout
PARTITIONS = 2  # word count: 2 sub-topologies x 2 partitions = 4 tasks


def _instance_ids(bootstrap: str, group: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_consumer_groups([group])[group].result(timeout=30)
    return sorted(m.group_instance_id or "" for m in described.members)


def _tasks(streams: KafkaStreams) -> set[str]:
    return {str(t.task_id) for m in streams.metadata_for_local_threads() for t in m.active_tasks}


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _start_two(bootstrap: str, tmp_path: Any, threads: int = 1) -> tuple[str, KafkaStreams, KafkaStreams]:
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, PARTITIONS, source, sink)
    app = unique("static-close")
    made = []
    for node in ("node-a", "node-b"):
        made.append(KafkaStreams(wordcount_topology(source, sink), {
            "application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / node),
            "client.id": node, "group.instance.id": node, "num.stream.threads": threads,
            "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500, "commit.interval.ms": 100}))
    for streams in made:
        streams.start()
    a, b = made
    # both instances own tasks (the cooperative protocol may need a second round to move some to the later one)
    _wait(lambda: a.state is State.RUNNING and b.state is State.RUNNING and _tasks(a) and _tasks(b)
          and len(_tasks(a) | _tasks(b)) == 2 * PARTITIONS, 90, "both instances running with tasks")
    return app, a, b


def _start_static_threads(bootstrap: str, tmp_path: Any, closing: list[KafkaStreams], app_prefix: str,
                          sink_prefix: str, topology: Any) -> tuple[str, str, KafkaStreams]:
    """(app, source topic, started client): one instance "node-a" with two static stream threads running
    topology(source, sink) on fresh topics; `closing` closes it after the test."""
    source, sink = unique("text"), unique(sink_prefix)
    create_topics(bootstrap, PARTITIONS, source, sink)
    app = unique(app_prefix)
    streams = KafkaStreams(topology(source, sink), {
        "application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path), "client.id": "node-a",
        "group.instance.id": "node-a", "num.stream.threads": 2, "session.timeout.ms": SESSION_MS,
        "heartbeat.interval.ms": 500})
    closing.append(streams)
    streams.start()
    return app, source, streams


@pytest.fixture
def closing() -> Any:
    opened: list[KafkaStreams] = []
    yield opened
    for streams in opened:  # leave: the group's next test need not wait for these static members
        streams.close(CloseOptions(timeout=60, leave_group=True))


@pytest.mark.parametrize("options", [CloseOptions(timeout=60, leave_group=True),
                                     CloseOptions(timeout=60).with_group_membership_operation(
                                         GroupMembershipOperation.LEAVE_GROUP)],
                         ids=["leave_group", "LEAVE_GROUP"])
def test_a_static_member_closed_with_leave_group_hands_its_tasks_over_at_once(kafka_broker, tmp_path, closing,
                                                                               options):
    bootstrap = kafka_broker.bootstrap_servers
    app, a, b = _start_two(bootstrap, tmp_path)
    closing.extend([a, b])
    everything = _tasks(a) | _tasks(b)
    assert _instance_ids(bootstrap, app) == ["node-a-1", "node-b-1"]
    closed = time.monotonic()
    assert a.close(options) and a.state is State.NOT_RUNNING
    assert _instance_ids(bootstrap, app) == ["node-b-1"]  # removed by its LeaveGroup, not by a session timeout
    _wait(lambda: _tasks(b) == everything and b.state is State.RUNNING, TAKEOVER_S,
          f"node-b took {sorted(_tasks(b))} of {sorted(everything)} within {TAKEOVER_S} s of the close")
    assert time.monotonic() - closed < TAKEOVER_S < SESSION_MS / 1000


def test_a_plain_close_keeps_the_static_member_in_the_group(kafka_broker, tmp_path, closing):
    bootstrap = kafka_broker.bootstrap_servers
    app, a, b = _start_two(bootstrap, tmp_path)
    closing.extend([b])
    own = _tasks(b)
    assert a.close(60) and a.state is State.NOT_RUNNING
    assert _instance_ids(bootstrap, app) == ["node-a-1", "node-b-1"]  # no LeaveGroup: still a member
    time.sleep(2)  # a LeaveGroup would have rebalanced by now (heartbeat.interval.ms 500)
    assert _tasks(b) == own and b.state is State.RUNNING
    assert _instance_ids(bootstrap, app) == ["node-a-1", "node-b-1"]


def test_remove_stream_thread_makes_its_static_member_leave(kafka_broker, tmp_path, closing):
    bootstrap = kafka_broker.bootstrap_servers
    app, _source, streams = _start_static_threads(bootstrap, tmp_path, closing, "static-remove", "counts",
                                                  wordcount_topology)
    _wait(lambda: streams.state is State.RUNNING and len(_tasks(streams)) == 2 * PARTITIONS, 90, "running")
    assert _instance_ids(bootstrap, app) == ["node-a-1", "node-a-2"]
    removed = time.monotonic()
    assert streams.remove_stream_thread(60) == "node-a-StreamThread-1"
    assert _instance_ids(bootstrap, app) == ["node-a-2"]  # its LeaveGroup carried node-a-1
    _wait(lambda: len(_tasks(streams)) == 2 * PARTITIONS and streams.state is State.RUNNING, TAKEOVER_S,
          "the remaining thread took every task")
    assert time.monotonic() - removed < TAKEOVER_S


def _failing_topology(source: str, sink: str) -> Any:
    from pystreams import Consumed, Produced, Serdes, StreamsBuilder

    def check(value: str) -> str:
        if value == "boom":
            raise ValueError("poison record")
        return value

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(check)
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


def test_a_failed_static_thread_leaves_and_the_error_shutdown_keeps_the_other(kafka_broker, tmp_path, closing):
    """SHUTDOWN_CLIENT (the default answer): the thread that died leaves at once with its instance id (Kafka's
    StreamThread.run catch: LEAVE_GROUP); the client's other static thread closes as on a plain close and stays
    (Kafka's closeToError keeps it too)."""
    bootstrap = kafka_broker.bootstrap_servers
    app, source, streams = _start_static_threads(bootstrap, tmp_path, closing, "static-fail", "out",
                                                 _failing_topology)
    _wait(lambda: streams.state is State.RUNNING and all(t.tasks for t in streams.threads), 90, "both threads run")
    assert _instance_ids(bootstrap, app) == ["node-a-1", "node-a-2"]
    produce_lines(bootstrap, source, ["boom"])
    failed = time.monotonic()
    assert streams.wait_for_state(State.ERROR, timeout=30), streams.state
    assert len(streams.errors) == 1
    left = _instance_ids(bootstrap, app)
    assert len(left) == 1 and left[0] in ("node-a-1", "node-a-2"), left  # the failed one is gone, the other stays
    assert time.monotonic() - failed < TAKEOVER_S < SESSION_MS / 1000
