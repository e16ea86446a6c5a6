"""A rebalance that creates N tasks sends ONE OffsetFetch (poll_group's, for all added partitions) and its metadata
seeds the new tasks' partition times (Kafka's StreamTask.initializeTaskTimeAndProcessorMetadata) instead of a
second OffsetFetch per task. Counted on the wire of our GroupClient, below a real GroupMember, with the stream
thread's real TaskManager, create_task and StreamTask; a task created without the rebalance's answer (the revive
path) still reads its own."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING
from pystreams.broker.protocol import ApiKey

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import AssignmentInfo
from pystreams.runtime.group.client import GroupClient
from pystreams.runtime.group.membership import GroupMember, MemberConfig, Rebalance
from pystreams.runtime.group.thread_rebalance import poll_group
from pystreams.runtime.offset_metadata import encode
from pystreams.runtime.task_manager import TaskManager
from pystreams.runtime.tasks import close_task
from pystreams.runtime.topics import SubtopologyPlan
from tests.unit.runtime.support import NothingToRestore

pytestmark = pytest.mark.unit

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


class CountingClient(GroupClient):
    """A GroupClient whose coordinator is this object: OffsetFetch (v8) answers from `committed`, counted."""

    def __init__(self, committed: dict[tuple[str, int], tuple[int, str]]) -> None:
        super().__init__("127.0.0.1:1", "app", "app-StreamThread-1")
        self.committed = committed
        self.offset_fetches: list[list[tuple[str, int]]] = []

    def _group_request(self, api_key: int, body: dict[str, Any], timeout_s: float | None = None
                       ) -> tuple[int, dict[str, Any]]:
        assert api_key == ApiKey.OFFSET_FETCH, ApiKey(api_key).name
        asked = [(t["name"], p) for t in body["groups"][0]["topics"] for p in t["partition_indexes"]]
        self.offset_fetches.append(asked)
        topics: dict[str, list[dict[str, Any]]] = {}
        for t, p in asked:
            offset, metadata = self.committed.get((t, p), (-1, ""))
            topics.setdefault(t, []).append({"partition_index": p, "committed_offset": offset,
                                             "metadata": metadata, "error_code": 0})
        return 8, {"groups": [{"error_code": 0, "topics": [{"name": t, "partitions": ps}
                                                             for t, ps in topics.items()]}]}


class Consumer:
    def __init__(self) -> None:
        self.assigns: list[list[tuple[str, int, int]]] = []

    def assignment(self) -> list[Any]:
        return []

    def list_topics(self, topic: str, timeout: float) -> None:
        return None

    def incremental_assign(self, partitions: list[Any]) -> None:
        self.assigns.append([(tp.topic, tp.partition, tp.offset) for tp in partitions])


class Thread(TaskManager, threading.Thread):
    """The StreamThread fields poll_group and the TaskManager use; run() does one poll_group (tasks are created on
    their stream thread, where create_task finds the thread's group member)."""

    def __init__(self, tmp_path: Any, client: CountingClient, polled: Any, partitions: int) -> None:
        threading.Thread.__init__(self, name="app-StreamThread-1", daemon=True)
        builder = StreamsBuilder()
        builder.stream("in", Consumed(**STRINGS)).map_values(str.upper).to("out", Produced(**STRINGS))
        self.topology = builder.build()
        sub = self.topology.subtopologies()[0]
        plan_sub = SubtopologyPlan(sub.id, tuple(sub.node_names), ["in"], [], partitions)
        self.plan = SimpleNamespace(subtopologies=[plan_sub], topic_partitions={"in": partitions},
                                    subtopology_of=lambda topic: plan_sub if topic == "in" else None)
        self.name = "app-StreamThread-1"
        self.config = SimpleNamespace(state_dir=str(tmp_path), application_id="app",
                                      get=lambda key, default=None: "earliest" if key == "auto.offset.reset"
                                      else default)
        self.streams = SimpleNamespace(app_configs={"application.id": "app"}, global_state=None,
                                       _thread_rebalancing=lambda: None, _thread_running=lambda: None)
        self.eos = False
        self.tasks, self.by_partition = {}, {}
        self.rebalancing = self.assigned_once = self._rejoin_pending = False
        self._cache = self._standby = self._backpressure = None
        self._collector = ListRecordCollector()
        self._restorer = NothingToRestore()
        self._consumer = Consumer()
        member = GroupMember(MemberConfig("app", heartbeat_thread=False), client, client, topics=lambda: ["in"],
                             user_data=lambda: None, leader_assign=lambda members: {})
        self._group = SimpleNamespace(poll=lambda: polled, committed=member.committed,
                                      committed_with_metadata=member.committed_with_metadata)
        self.job: Any = lambda: poll_group(self)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.job()
        except BaseException as e:  # noqa: BLE001 - re-raised by the test
            self.error = e

    def run_here(self, job: Any) -> None:
        self.job = job
        self.start()
        self.join(30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def test_a_rebalance_creating_n_tasks_sends_one_offset_fetch(tmp_path: Any) -> None:
    n = 4
    committed = {("in", 0): (10, encode(1_000)), ("in", 1): (11, encode(2_000)),
                 ("in", 2): (12, "")}  # in-2 committed without metadata, in-3 never committed
    client = CountingClient(committed)
    added = frozenset(("in", p) for p in range(n))
    thread = Thread(tmp_path, client, (Rebalance(1, added=added, assigned=added), AssignmentInfo()), n)
    thread.run_here(lambda: poll_group(thread))
    try:
        assert client.offset_fetches == [[("in", p) for p in range(n)]]  # before: 1 + one per task = 5
        assert sorted(thread.tasks) == [TaskId(0, p) for p in range(n)]
        times = {p: thread.tasks[TaskId(0, p)].task.partition_time("in", p) for p in range(n)}
        assert times == {0: 1_000, 1: 2_000, 2: -1, 3: -1}
        assert thread.tasks[TaskId(0, 1)].committed_metadata == {("in", 1): encode(2_000)}
        assert thread.tasks[TaskId(0, 1)].task.stream_time == 2_000
        # the same answer gave the start offsets (none committed: auto.offset.reset)
        assert thread._consumer.assigns == [[("in", 0, 10), ("in", 1, 11), ("in", 2, 12),
                                             ("in", 3, OFFSET_BEGINNING)]]
    finally:
        for at in thread.tasks.values():
            close_task(at, clean=True, eos=False)


def test_a_task_created_without_the_rebalances_answer_reads_its_own(tmp_path: Any) -> None:
    """Revive after a send failure (tasks.revive_corrupted) creates tasks without the rebalance's OffsetFetch
    answer: each reads its input partitions' metadata itself; a task whose partition the answer does not cover
    does too."""
    client = CountingClient({("in", 0): (5, encode(700)), ("in", 1): (6, encode(800))})
    thread = Thread(tmp_path, client, None, 2)
    thread.run_here(lambda: (thread._create_tasks({TaskId(0, 0): [("in", 0)]}),
                             thread._create_tasks({TaskId(0, 1): [("in", 1)]}, {("in", 0): (5, encode(1))})))
    try:
        assert client.offset_fetches == [[("in", 0)], [("in", 1)]]
        assert thread.tasks[TaskId(0, 0)].task.partition_time("in", 0) == 700
        assert thread.tasks[TaskId(0, 1)].task.partition_time("in", 1) == 800
    finally:
        for at in thread.tasks.values():
            close_task(at, clean=True, eos=False)
