"""metadata_for_local_threads() (Kafka's ThreadMetadata), pause()/resume()/is_paused() and close(CloseOptions)
on a KafkaStreams whose stream threads are fakes (no broker, no sockets)."""
from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest

from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.errors import ConfigError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.kafka_streams import KafkaStreams, State
from pystreams.runtime.thread_admin import (
    CloseOptions,
    GroupMembershipOperation,
    TaskMetadata,
    thread_state,
)

pytestmark = pytest.mark.unit


class FakeThread(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.running = True
        self.assigned_once = False
        self.rebalancing = False
        self.stop = threading.Event()
        self.resumed = 0
        self.tasks: dict = {}
        self.by_partition: dict = {}
        self._restorer = None
        self._standby = None

    def shutdown(self) -> None:
        self.running = False
        self.stop.set()

    def signal_resume(self) -> None:
        self.resumed += 1

    def run(self) -> None:
        self.stop.wait(30)


def _client(tmp_path, **extra) -> KafkaStreams:
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    return KafkaStreams(b.build(), {"application.id": "meta", "client.id": "c", "state.dir": str(tmp_path), **extra})


def test_thread_states_follow_kafkas_stream_thread_states():
    t = FakeThread("c-StreamThread-1")
    assert thread_state(t) == "CREATED"
    t.start()
    try:
        assert thread_state(t) == "STARTING"
        t.assigned_once, t.rebalancing = True, True
        assert thread_state(t) == "PARTITIONS_ASSIGNED"
        t.rebalancing = False
        assert thread_state(t) == "RUNNING"
        t.running = False
        assert thread_state(t) == "PENDING_SHUTDOWN"
    finally:
        t.shutdown()
        t.join(5)
    assert thread_state(t) == "DEAD"


def test_metadata_names_the_threads_tasks_and_clients(tmp_path):
    streams = _client(tmp_path, **{"admin.client.id": "ops-admin"})
    a, b, dead = FakeThread("c-StreamThread-1"), FakeThread("c-StreamThread-2"), FakeThread("c-StreamThread-3")
    t00, t01, t10 = TaskId(0, 0), TaskId(0, 1), TaskId(1, 0)
    a.assigned_once = True
    a.tasks = {t00: SimpleNamespace(id=t00, committed_offsets={("in", 0): 7})}
    a.by_partition = {("in", 0): a.tasks[t00]}
    a._restorer = SimpleNamespace(restoring={t10: SimpleNamespace(partitions=[("rep", 0)])})
    a._standby = SimpleNamespace(running_standbys=lambda: frozenset({t01}), _wanted={t01: [("in", 1)]})
    streams.threads = [a, b, dead]
    for t in streams.threads:
        t.start()
    dead.shutdown()
    dead.join(5)
    try:
        meta = {m.thread_name: m for m in streams.metadata_for_local_threads()}
        assert set(meta) == {"c-StreamThread-1", "c-StreamThread-2"}  # a finished thread is left out
        m = meta["c-StreamThread-1"]
        assert m.thread_state == "RUNNING" and meta["c-StreamThread-2"].thread_state == "STARTING"
        assert m.consumer_client_id == "c-StreamThread-1-consumer"
        assert m.restore_consumer_client_id == "c-StreamThread-1-restore-consumer"
        assert m.producer_client_ids == frozenset({"c-StreamThread-1-producer"})
        assert m.admin_client_id == "c-admin"  # Kafka: <client.id>-admin, its getAdminConfigs ignores admin.client.id
        active = {t.task_id: t for t in m.active_tasks}
        assert set(active) == {t00, t10}  # a restoring task is an active task
        assert active[t00].topic_partitions == frozenset({("in", 0)})
        assert active[t00].committed_offsets == {("in", 0): 7}
        assert active[t10].topic_partitions == frozenset({("rep", 0)})
        assert m.standby_tasks == frozenset({TaskMetadata(t01, frozenset({("in", 1)}))})
        assert meta["c-StreamThread-2"].active_tasks == frozenset()
    finally:
        for t in streams.threads:
            t.shutdown()
            t.join(5)


def test_pause_and_resume_flip_the_flag_and_wake_the_threads(tmp_path):
    streams = _client(tmp_path)
    assert streams.is_paused() is False
    streams.pause()  # allowed before start(), as in Kafka
    assert streams.is_paused() is True
    t = FakeThread("c-StreamThread-1")
    streams.threads = [t]
    streams.resume()
    assert streams.is_paused() is False and t.resumed == 1


def test_close_options_translate_kafkas_two_apis():
    assert CloseOptions().operation is GroupMembershipOperation.DEFAULT
    assert CloseOptions(leave_group=True).operation is GroupMembershipOperation.LEAVE_GROUP
    assert CloseOptions(leave_group=False).operation is GroupMembershipOperation.REMAIN_IN_GROUP
    opts = CloseOptions(leave_group=True).with_group_membership_operation(GroupMembershipOperation.REMAIN_IN_GROUP)
    assert opts.operation is GroupMembershipOperation.REMAIN_IN_GROUP
    assert CloseOptions().with_timeout(timedelta(seconds=3)).seconds == 3.0
    assert CloseOptions().seconds == float("inf")
    assert KafkaStreams.CloseOptions is CloseOptions  # Kafka's nested KafkaStreams.CloseOptions
    with pytest.raises(ConfigError, match="not both"):
        CloseOptions(leave_group=True, group_membership_operation=GroupMembershipOperation.LEAVE_GROUP)
    with pytest.raises(ConfigError, match="can't be negative"):
        CloseOptions(timeout=-1)
    with pytest.raises(ConfigError, match="GroupMembershipOperation"):
        CloseOptions(group_membership_operation="LEAVE_GROUP")  # type: ignore[arg-type]


def test_close_takes_close_options(tmp_path):
    streams = _client(tmp_path)
    assert streams.close(CloseOptions(timeout=timedelta(seconds=5), leave_group=True)) is True
    assert streams.state is State.NOT_RUNNING
    with pytest.raises(ConfigError, match="can't be negative"):
        _client(tmp_path).close(-0.5)


def test_remain_in_group_is_handed_to_every_thread_before_it_closes(tmp_path):
    streams = _client(tmp_path)
    streams._set_state(State.REBALANCING)
    threads = [FakeThread("c-StreamThread-1"), FakeThread("c-StreamThread-2")]
    streams.threads = threads
    for t in threads:
        t.start()
    assert streams.close(CloseOptions(timeout=10, leave_group=False)) is True
    assert [getattr(t, "leave_group_on_close", True) for t in threads] == [False, False]
    assert streams.state is State.NOT_RUNNING


def test_a_plain_close_leaves_the_threads_default(tmp_path):
    streams = _client(tmp_path)
    streams._set_state(State.REBALANCING)
    t = FakeThread("c-StreamThread-1")
    streams.threads = [t]
    t.start()
    assert streams.close(10) is True
    assert not hasattr(t, "leave_group_on_close")
