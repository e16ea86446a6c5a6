"""buffered.records.per.partition bookkeeping without a broker: hand_over() names the partitions whose queue passed
the bound, Backpressure pauses them in one consumer call per poll and resumes them in one call once processing
brought them back to the bound (Kafka's StreamTask.addRecords / resumePollingForPartitionsWithAvailableSpace), and
the stream thread resumes a paused partition before giving it up (task closed, revoked, lost, rejoin)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Message

from pystreams.errors import ConfigError
from pystreams.runtime.processing import Backpressure, hand_over, parse_buffered_records
from tests.unit.runtime.support import bare_stream_thread

pytestmark = pytest.mark.unit


class FakeTask:
    """A task queue that only counts: what hand_over and Backpressure look at."""

    def __init__(self) -> None:
        self.queues: dict[tuple[str, int], int] = {}
        self.closed = False

    def add_messages(self, topic: str, partition: int, messages: list[Any]) -> None:
        self.queues[(topic, partition)] = self.queues.get((topic, partition), 0) + len(messages)

    def buffered(self, topic: str, partition: int) -> int:
        return self.queues.get((topic, partition), 0)

    def drain(self, topic: str, partition: int, n: int) -> None:
        self.queues[(topic, partition)] -= n

    def close(self) -> None:
        self.closed = True


class FakeConsumer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, int]]]] = []
        self.paused: set[tuple[str, int]] = set()

    def pause(self, partitions: list[Any]) -> None:
        tps = [(tp.topic, tp.partition) for tp in partitions]
        self.calls.append(("pause", tps))
        self.paused.update(tps)

    def resume(self, partitions: list[Any]) -> None:
        tps = [(tp.topic, tp.partition) for tp in partitions]
        self.calls.append(("resume", tps))
        self.paused.difference_update(tps)

    def unassign(self) -> None:
        self.calls.append(("unassign", []))


def _active(task: FakeTask, task_id: str = "0_0") -> Any:
    return SimpleNamespace(task=task, id=task_id)


def _messages(topic: str, partition: int, n: int) -> list[Message]:
    return [Message(topic=topic, partition=partition, offset=i, key=b"k", value=b"v", error=None, timestamp=(1, i))
            for i in range(n)]


def test_hand_over_names_each_partition_past_the_bound_once_per_run() -> None:
    a, b = FakeTask(), FakeTask()
    owned = {("in", 0): _active(a), ("in", 1): _active(b, "0_1")}
    batch = _messages("in", 0, 6) + _messages("in", 1, 3) + _messages("in", 0, 2)
    assert hand_over(batch, owned, 5) == [("in", 0), ("in", 0)]  # 6 > 5 after the first run, 8 after the last
    assert a.buffered("in", 0) == 8 and b.buffered("in", 1) == 3
    assert hand_over(_messages("in", 1, 3), owned, 5) == [("in", 1)]  # 6 > 5
    assert hand_over(_messages("in", 1, 3), owned, -1) == []  # no bound
    assert hand_over(_messages("gone", 0, 50), owned, 5) == []  # not ours: dropped, never paused


def test_at_the_bound_is_not_past_it() -> None:
    a = FakeTask()
    assert hand_over(_messages("in", 0, 5), {("in", 0): _active(a)}, 5) == []
    assert hand_over(_messages("in", 0, 1), {("in", 0): _active(a)}, 0) == [("in", 0)]  # 0: pause on any record


def test_pause_is_one_call_per_poll_and_never_twice() -> None:
    consumer = FakeConsumer()
    bp = Backpressure(consumer, 5)
    bp.pause([("in", 0), ("in", 1), ("in", 0)])
    bp.pause([("in", 1)])  # already paused: no call
    bp.pause([])
    assert consumer.calls == [("pause", [("in", 0), ("in", 1)])]
    assert bp.paused == {("in", 0), ("in", 1)} and bp.pauses == 2


def test_resume_once_drained_to_the_bound_in_one_call() -> None:
    consumer = FakeConsumer()
    a, b = FakeTask(), FakeTask()
    owned = {("in", 0): _active(a), ("in", 1): _active(b, "0_1")}
    bp = Backpressure(consumer, 5)
    bp.pause(hand_over(_messages("in", 0, 8) + _messages("in", 1, 9), owned, 5))
    consumer.calls.clear()
    bp.resume_drained(owned)  # nothing processed yet
    assert consumer.calls == [] and bp.paused == {("in", 0), ("in", 1)}
    a.drain("in", 0, 2)  # 6: still past the bound
    b.drain("in", 1, 4)  # 5: at the bound, room again
    bp.resume_drained(owned)
    assert consumer.calls == [("resume", [("in", 1)])] and bp.paused == {("in", 0)}
    a.drain("in", 0, 6)
    del owned[("in", 1)]
    bp.resume_drained(owned)
    assert consumer.calls[-1] == ("resume", [("in", 0)]) and bp.paused == set() and consumer.paused == set()
    assert bp.resumes == 2


def test_a_partition_whose_task_went_away_is_resumed() -> None:
    consumer = FakeConsumer()
    bp = Backpressure(consumer, 5)
    bp.pause([("in", 0)])
    bp.resume_drained({})
    assert consumer.paused == set() and bp.paused == set()


def test_forget_resumes_what_is_given_up_and_survives_a_consumer_refusal() -> None:
    consumer = FakeConsumer()
    bp = Backpressure(consumer, 5)
    bp.pause([("in", 0), ("in", 1), ("in", 2)])
    bp.forget([("in", 1), ("other", 7)])  # not paused: nothing to do for it
    assert consumer.calls[-1] == ("resume", [("in", 1)]) and bp.paused == {("in", 0), ("in", 2)}
    bp.forget()
    assert consumer.calls[-1] == ("resume", [("in", 0), ("in", 2)]) and bp.paused == set()

    def refuse(partitions: Any) -> None:
        raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION))

    consumer.resume = refuse  # type: ignore[method-assign]
    bp.pause([("in", 3)])
    bp.forget()  # the consumer no longer has it: forgotten anyway
    assert bp.paused == set()


@pytest.mark.parametrize("value, expected", [(1000, 1000), ("20", 20), (0, 0)])
def test_config_value(value: Any, expected: int) -> None:
    assert parse_buffered_records(value) == expected


@pytest.mark.parametrize("value", [-1, "many", None, True])
def test_bad_config_value_is_a_config_error(value: Any) -> None:
    with pytest.raises(ConfigError, match="buffered.records.per.partition"):
        parse_buffered_records(value)


def _thread(consumer: FakeConsumer, tasks: dict[str, FakeTask]) -> Any:
    """A stream thread without clients, its tasks (0_0 on in-0, 0_1 on in-1) and its Backpressure."""
    thread = bare_stream_thread(eos=False, **{"buffered.records.per.partition": 5})
    thread._restorer = None
    thread._consumer = consumer
    thread._group = SimpleNamespace(member=SimpleNamespace(drop_partitions=lambda why: None))
    thread.tasks = {}
    thread.by_partition = {}
    for i, (task_id, task) in enumerate(tasks.items()):
        at = SimpleNamespace(task=task, id=task_id, lock=SimpleNamespace(unlock=lambda: None), task_dir="")
        thread.tasks[task_id] = at
        thread.by_partition[("in", i)] = at
    thread._backpressure = Backpressure(consumer, 5)
    return thread


def test_closing_a_task_resumes_its_paused_partitions_only() -> None:
    """Revocation closes the revoked tasks (cooperative): their paused partitions are resumed before the consumer
    gives them up; a kept task's paused partition stays paused."""
    consumer = FakeConsumer()
    thread = _thread(consumer, {"0_0": FakeTask(), "0_1": FakeTask()})
    thread._backpressure.pause([("in", 0), ("in", 1)])
    thread._close_tasks(clean=True, only={"0_1"})
    assert set(thread.tasks) == {"0_0"} and thread.tasks["0_0"].task.closed is False
    assert consumer.paused == {("in", 0)} and thread._backpressure.paused == {("in", 0)}
    thread._close_tasks(clean=False)  # lost / task migration / thread close: every task, dirty
    assert consumer.paused == set() and thread._backpressure.paused == set()


def test_a_rejoin_resumes_everything_before_unassigning() -> None:
    consumer = FakeConsumer()
    thread = _thread(consumer, {"0_0": FakeTask()})
    thread._backpressure.pause([("in", 0)])
    thread._rejoin_group()
    assert consumer.calls[-2:] == [("resume", [("in", 0)]), ("unassign", [])]
    assert thread._backpressure.paused == set()
