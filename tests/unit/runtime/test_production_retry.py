"""production.exception.handler RETRY (Kafka 4.x, KIP-1065: TaskCorruptedException) without a broker: the collector
marks the failure task_corrupted also for a record produce() refuses at once; the stream thread does not fail on
it: under at_least_once it closes its tasks dirty (no commit, no checkpoint), forgets the failure, and creates the
tasks again with their input partitions assigned at the last committed offsets; under exactly_once_v2 it takes the
task-migration path (abort, close dirty, rejoin), also when the failure first shows as a transaction that cannot
commit."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException

from pystreams.processor import TaskId
from pystreams.processor.handlers import ProductionHandlerResponse
from pystreams.processor.internals import StreamsException
from pystreams.runtime import collector as collector_module
from pystreams.runtime import task_manager as task_manager_module
from pystreams.runtime import thread_commit as thread_commit_module
from pystreams.runtime.collector import (
    KafkaRecordCollector,
    ProductionError,
    task_corrupted,
)
from tests.unit.runtime.support import NothingToRestore, bare_stream_thread
from tests.unit.runtime.test_send_failures import FakeProducer, Task

pytestmark = pytest.mark.unit


class Retry:
    def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
        return ProductionHandlerResponse.RETRY


def _collector(monkeypatch: pytest.MonkeyPatch, **config: Any) -> KafkaRecordCollector:
    monkeypatch.setattr(collector_module, "Producer", FakeProducer)
    c = KafkaRecordCollector(dict(config))
    c.register_sink("out", "sink", Task(0, Retry()))
    return c


def test_a_record_refused_at_once_with_retry_is_task_corrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _collector(monkeypatch)
    c.producer.refuse = KafkaException(KafkaError(KafkaError._UNKNOWN_TOPIC))
    with pytest.raises(ProductionError, match="returned RETRY") as e:
        c.send("out", b"k", b"v", (), 1, None)
    assert e.value.task_corrupted and c.error is None  # raised at once, not kept
    c.producer.refuse = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))  # not retriable: FAIL
    with pytest.raises(ProductionError, match="returned FAIL") as e:
        c.send("out", b"k", b"v", (), 1, None)
    assert not e.value.task_corrupted


def test_task_corrupted_looks_along_the_cause_chain_and_clear_error_forgets() -> None:
    corrupted = ProductionError("send failed", KafkaError(KafkaError._MSG_TIMED_OUT), task_corrupted=True)
    try:
        try:
            raise corrupted
        except ProductionError as inner:
            raise StreamsException("in processor X") from inner
    except StreamsException as outer:
        assert task_corrupted(outer)
    assert not task_corrupted(ProductionError("send failed", None))
    assert not task_corrupted(KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT)))


def test_the_kept_retry_failure_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _collector(monkeypatch)
    c.producer.fail[0] = KafkaError._MSG_TIMED_OUT
    c.send("out", b"k", b"v", (), 1, None)
    c.poll()
    assert c.error is not None and c.error_retry
    c.clear_error()
    c.check()  # nothing kept
    assert c.error is None and not c.error_retry and c.errored_topic is None


# ---------------------------------------------------------------------------------------------- the stream thread
class FakeConsumer:
    def __init__(self, assigned: list[tuple[str, int]]) -> None:
        self.assigned = set(assigned)
        self.unassigned: list[tuple[str, int]] = []
        self.assigns: list[list[tuple[str, int, int]]] = []

    def assignment(self) -> list[Any]:
        return [SimpleNamespace(topic=t, partition=p) for t, p in sorted(self.assigned)]

    def incremental_unassign(self, partitions: list[Any]) -> None:
        for tp in partitions:
            self.unassigned.append((tp.topic, tp.partition))
            self.assigned.discard((tp.topic, tp.partition))

    def incremental_assign(self, partitions: list[Any]) -> None:
        self.assigns.append([(tp.topic, tp.partition, tp.offset) for tp in partitions])
        self.assigned.update((tp.topic, tp.partition) for tp in partitions)

    def list_topics(self, topic: str, timeout: float) -> None:
        return None

    def pause(self, partitions: list[Any]) -> None:
        pass

    def resume(self, partitions: list[Any]) -> None:
        pass


class FakeGroup:
    def __init__(self, committed: dict[tuple[str, int], int]) -> None:
        self._committed = committed
        self.commits: list[Any] = []
        self.member = SimpleNamespace(drop_partitions=lambda why: None)

    def committed(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        return {tp: self._committed.get(tp, -1) for tp in partitions}

    def commit(self, offsets: Any) -> None:
        self.commits.append(offsets)


def _thread(monkeypatch: pytest.MonkeyPatch, eos: bool = False) -> tuple[Any, list[Any], list[Any]]:
    """A thread with two running tasks on in-0 and in-1 (in-0 committed at 7, in-1 never), a collector keeping a
    RETRY failure; returns it with the log of close_task calls and of created tasks."""
    thread = bare_stream_thread(eos=eos)
    thread.running = True
    thread.streams = SimpleNamespace(app_configs={}, global_state=None, _thread_rebalancing=lambda: None)
    sub = SimpleNamespace(id=0, source_topics=["in"])
    thread.plan = SimpleNamespace(subtopology_of=lambda topic: sub if topic == "in" else None, subtopologies=[sub])
    thread.topology = None
    thread._cache = None
    thread._restorer = NothingToRestore()
    thread._consumer = FakeConsumer([("in", 0), ("in", 1)])
    thread._group = FakeGroup({("in", 0): 7})
    thread._collector = _collector(monkeypatch)
    thread._collector.producer.fail[0] = KafkaError.UNKNOWN_TOPIC_OR_PART
    thread._collector.send("out", b"k", b"v", (), 1, None)
    thread._collector.poll()
    closed: list[Any] = []
    created: list[Any] = []
    thread.tasks, thread.by_partition = {}, {}
    for p in (0, 1):
        at = SimpleNamespace(id=TaskId(0, p), generation=0)
        thread.tasks[at.id] = at
        thread.by_partition[("in", p)] = at

    def create_task(topology: Any, task_id: TaskId, *args: Any, **kwargs: Any) -> Any:
        at = SimpleNamespace(id=task_id, generation=1, task_dir="")
        created.append(at)
        return at

    monkeypatch.setattr(task_manager_module, "create_task", create_task)
    monkeypatch.setattr(task_manager_module, "close_task", lambda at, clean, eos: closed.append((at, clean)))
    monkeypatch.setattr(thread_commit_module, "checkpoint_task",
                        lambda *a, **k: pytest.fail("a corrupted task must not be checkpointed"))
    return thread, closed, created


def test_at_least_once_revives_the_tasks_from_the_committed_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    thread, closed, created = _thread(monkeypatch)
    old = dict(thread.tasks)
    with pytest.raises(ProductionError) as e:
        thread._collector.check()
    assert e.value.task_corrupted
    thread._handle_task_corrupted(e.value)
    assert [(at.id, clean) for at, clean in closed] == [(TaskId(0, 0), False), (TaskId(0, 1), False)]
    assert all(at is old[at.id] for at, _clean in closed)
    assert thread._group.commits == []  # no commit of the corrupted tasks' offsets
    assert thread._consumer.unassigned == [("in", 0), ("in", 1)]
    # in-0 resumes at its committed offset, in-1 (nothing committed) at auto.offset.reset (earliest)
    assert thread._consumer.assigns == [[("in", 0, 7), ("in", 1, OFFSET_BEGINNING)]]
    assert sorted(thread.tasks) == [TaskId(0, 0), TaskId(0, 1)] and all(at.generation == 1
                                                                          for at in thread.tasks.values())
    assert thread.by_partition[("in", 1)] is thread.tasks[TaskId(0, 1)] and len(created) == 2
    assert thread._collector.error is None and thread.revived == 1
    thread._collector.check()  # the failure is handled: the next check passes


def test_under_eos_retry_is_a_task_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    thread, closed, created = _thread(monkeypatch, eos=True)
    migrated: list[BaseException] = []
    monkeypatch.setattr(thread, "_handle_task_migration", migrated.append)
    error = ProductionError("send failed", KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART), task_corrupted=True)
    thread._handle_task_corrupted(error)
    assert migrated == [error] and closed == [] and created == [] and thread.revived == 0


@pytest.mark.parametrize("raised", [
    ProductionError("send failed", KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART), task_corrupted=True),
    # exactly_once_v2: the commit fails first (abortable transaction); its cause is the kept RETRY failure
    KafkaException(KafkaError(KafkaError._INCONSISTENT, "200 message(s) failed delivery", txn_requires_abort=True)),
])
def test_the_loop_hands_retry_to_the_corruption_handling_and_goes_on(monkeypatch: pytest.MonkeyPatch,
                                                                       raised: BaseException) -> None:
    thread, _closed, _created = _thread(monkeypatch)
    handled: list[BaseException] = []
    calls = iter([raised])

    def iteration(last_commit: list[float]) -> None:
        try:
            raise next(calls)
        except StopIteration:
            thread.running = False

    monkeypatch.setattr(thread, "_iteration", iteration)
    monkeypatch.setattr(thread, "_handle_task_corrupted", handled.append)
    thread._loop()
    assert handled == [raised]


def test_a_failure_that_is_not_retry_still_fails_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    thread, _closed, _created = _thread(monkeypatch)
    thread._collector.clear_error()
    error = ProductionError("send failed", KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    monkeypatch.setattr(thread, "_iteration", lambda last_commit: (_ for _ in ()).throw(error))
    with pytest.raises(ProductionError):
        thread._loop()


def test_a_migration_while_reviving_takes_the_migration_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from pystreams.runtime.group.errors import GroupError

    thread, _closed, _created = _thread(monkeypatch)
    fenced = GroupError("OffsetFetch", 22, "the generation moved on")  # ILLEGAL_GENERATION
    migrated: list[BaseException] = []
    calls = iter([ProductionError("send failed", KafkaError(KafkaError._MSG_TIMED_OUT), task_corrupted=True)])

    def iteration(last_commit: list[float]) -> None:
        try:
            raise next(calls)
        except StopIteration:
            thread.running = False

    def committed(partitions: Any) -> Any:
        raise fenced

    thread._group.committed = committed
    monkeypatch.setattr(thread, "_iteration", iteration)
    monkeypatch.setattr(thread, "_handle_task_migration", migrated.append)
    thread._loop()
    assert migrated == [fenced] and thread.tasks == {}
