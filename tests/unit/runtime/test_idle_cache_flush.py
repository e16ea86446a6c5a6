"""The record caches flushed when the stream thread's input runs dry (pystreams.cache.flush.when.idle, ADR 0006), without
sockets: the task's flush (cached updates forwarded and logged, nothing committed, suppression buffers untouched), the
thread's decision (dry poll, no buffered records, caught up) and the config key."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windows import BufferConfig, Suppressed
from pystreams.errors import ConfigError
from pystreams.processor import TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.runtime import StreamsConfig, stream_thread
from pystreams.runtime.idle_flush import IdleCacheFlush
from pystreams.runtime.stream_thread import ThreadMetrics
from pystreams.serdes import Serdes
from pystreams.state.internals.cache import ThreadCache
from tests.unit.runtime.support import bare_stream_thread

pytestmark = pytest.mark.unit
S, L = Serdes.String(), Serdes.Long()


def _count_task(tmp: Any, suppressed: bool = False) -> tuple[StreamTask, ListRecordCollector, ThreadCache]:
    """A count per key (cached, logged store) to `out`; with `suppressed`, a second count behind a suppression
    buffer to `sup`."""
    b = StreamsBuilder()
    counts = (b.stream("in", Consumed.with_(S, S)).group_by_key(Grouped.with_(S, S))
              .count(Materialized.as_("counts").with_key_serde(S).with_value_serde(L)))
    counts.to_stream().to("out", Produced.with_(S, L))
    if suppressed:
        (counts.suppress(Suppressed.until_time_limit(60_000, BufferConfig.unbounded()))
         .to_stream().to("sup", Produced.with_(S, L)))
    collector, cache = ListRecordCollector(), ThreadCache(10 * 1024 * 1024)
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "idle"}, collector, state_dir=str(tmp), cache=cache)
    task.initialize()
    return task, collector, cache


def _feed(task: StreamTask, keys: list[str]) -> None:
    task.add_records("in", 0, [(i, 1000 + i, k.encode(), b"x", ()) for i, k in enumerate(keys)])
    while task.process():
        pass


def _sent(collector: ListRecordCollector, topic: str) -> list[tuple[bytes | None, int | None]]:
    return [(r.key, L.deserialize(topic, r.value)) for r in collector.records if r.topic == topic]


def test_task_flush_forwards_the_latest_count_per_key_and_logs_it_without_committing(tmp_path: Any) -> None:
    task, collector, _cache = _count_task(tmp_path)
    _feed(task, ["a", "b", "a", "a", "b", "c"])
    assert collector.records == []  # held by the record cache
    assert task.flush_record_caches() == 1
    assert _sent(collector, "out") == [(b"a", 3), (b"b", 2), (b"c", 1)]  # order of the last update
    changelog = [r for r in collector.records if r.topic == "idle-counts-changelog"]
    assert [r.key for r in changelog] == [b"a", b"b", b"c"]
    assert task.metrics.commits == 0 and collector.flushes == 0  # no commit: no collector or store flush
    assert task.flush_record_caches() == 0  # nothing dirty any more
    _feed(task, ["c"])
    assert task.flush_record_caches() == 1 and _sent(collector, "out")[-1] == (b"c", 2)
    task.close()


def test_task_flush_leaves_the_suppression_buffer_alone(tmp_path: Any) -> None:
    task, collector, _cache = _count_task(tmp_path, suppressed=True)
    _feed(task, ["a", "b"])
    task.flush_record_caches()
    assert _sent(collector, "out") == [(b"a", 1), (b"b", 1)]
    assert _sent(collector, "sup") == []  # the buffer emits on its own time limit, not on a cache flush
    buffer_changelog = [r for r in collector.records if "SUPPRESS" in r.topic]
    assert buffer_changelog == []  # logged at commit only, as before
    task.commit()
    assert [r for r in collector.records if "SUPPRESS" in r.topic]  # the commit still logs it
    task.close()


class _Task:
    """What IdleCacheFlush reads of a task: buffered records and the flush."""

    def __init__(self, queued: bool = False, dirty: int = 1) -> None:
        self.queued, self.dirty, self.flushed = queued, dirty, 0

    def has_records_queued(self) -> bool:
        return self.queued

    def flush_record_caches(self) -> int:
        self.flushed += 1
        n, self.dirty = self.dirty, 0
        return n


class _Consumer:
    """position() and cached watermarks as librdkafka's consumer gives them."""

    def __init__(self, position: int, high: int) -> None:
        self.position_at, self.high = position, high

    def position(self, tps: list[Any]) -> list[Any]:
        return [SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=self.position_at) for tp in tps]

    def get_watermark_offsets(self, tp: Any, cached: bool = False) -> tuple[int, int]:
        assert cached, "the decision must not ask the broker"
        return 0, self.high


def _decide(tasks: list[_Task], consumer: Any) -> tuple[int, IdleCacheFlush]:
    idle = IdleCacheFlush(ThreadCache(1000))
    return idle.input_ran_dry([SimpleNamespace(task=t) for t in tasks], consumer, [("in", 0)]), idle


def test_caught_up_and_nothing_buffered_flushes_every_task() -> None:
    tasks = [_Task(), _Task(dirty=0), _Task(dirty=2)]
    flushed, idle = _decide(tasks, _Consumer(position=500, high=500))
    assert flushed == 3 and [t.flushed for t in tasks] == [1, 1, 1]
    assert (idle.flushes, idle.caches_flushed, idle.behind) == (1, 3, 0)


def test_records_still_buffered_is_not_dry() -> None:
    tasks = [_Task(), _Task(queued=True)]
    flushed, idle = _decide(tasks, _Consumer(position=500, high=500))
    assert flushed == 0 and [t.flushed for t in tasks] == [0, 0] and idle.flushes == 0


def test_prefetch_ran_empty_while_the_broker_holds_more_is_not_caught_up() -> None:
    tasks = [_Task()]
    flushed, idle = _decide(tasks, _Consumer(position=400, high=500))
    assert flushed == 0 and tasks[0].flushed == 0 and idle.behind == 1


def test_unknown_lag_counts_as_caught_up() -> None:  # no fetch answer yet: the dirty entries must not wait on it
    tasks = [_Task()]
    flushed, _idle = _decide(tasks, _Consumer(position=-1001, high=-1001))
    assert flushed == 1


def test_pending_sees_dirty_entries_of_any_named_cache(tmp_path: Any) -> None:
    task, _collector, cache = _count_task(tmp_path)
    idle = IdleCacheFlush(cache)
    assert not idle.pending()
    _feed(task, ["a"])
    assert idle.pending()
    task.flush_record_caches()
    assert not idle.pending()
    task.close()


# ---------------------------------------------------------------- the thread's poll
def _thread(monkeypatch: pytest.MonkeyPatch, props: dict[str, Any], dirty: bool, batches: list[list[Any]],
            queued: int = 0) -> Any:
    events: list[Any] = []

    def poll(consumer: Any, max_records: int, timeout: float) -> list[Any]:
        events.append(("poll", timeout))
        return batches.pop(0) if batches else []

    class Producer:
        def __len__(self) -> int:  # what the idle flushes produced, until a send delivered it
            return max(0, queued + events.count("idle flush") - events.count("send lingering"))

        def flush(self, timeout: float) -> int:
            events.append("send lingering")
            return 0

    monkeypatch.setattr(stream_thread, "poll_group", lambda thread: None)
    monkeypatch.setattr(stream_thread, "poll_records", poll)
    monkeypatch.setattr(stream_thread, "hand_over", lambda *a: [])
    monkeypatch.setattr(stream_thread, "process_tasks", lambda *a: events.append("process"))
    thread = bare_stream_thread(**{"commit.interval.ms": 60_000, "poll.ms": 100, **props})
    cache = ThreadCache(1000)
    if dirty:
        cache.named_cache("0_0-counts").dirty[b"k"] = None
    thread._cache = cache
    if thread.config.cache_flush_when_idle and not thread.eos:  # as StreamThread.__init__ decides
        thread._idle_flush = IdleCacheFlush(cache)
        monkeypatch.setattr(IdleCacheFlush, "input_ran_dry",
                            lambda self, tasks, consumer, partitions: events.append("idle flush"))
    thread.streams = SimpleNamespace(is_paused=lambda: False)
    thread._group = SimpleNamespace(member=SimpleNamespace(rejoin_needed=False))
    thread._rejoin_pending = False
    thread._in_transaction = True
    thread._consumer = SimpleNamespace()
    thread._restorer = None
    thread._standby = None
    thread._backpressure = None
    thread._max_buffered = -1
    thread._collector = SimpleNamespace(producer=Producer(), poll=lambda: None, check=lambda: None)
    thread.tasks, thread.by_partition = {}, {}
    thread.metrics = ThreadMetrics()
    monkeypatch.setattr(thread.metrics, "refresh_lag", lambda *a: None)
    monkeypatch.setattr(thread, "_commit", lambda final=False: events.append("commit"))
    thread.events = events
    return thread


def test_dirty_cache_and_dry_poll_flush_then_send_at_once_then_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, {}, dirty=True, batches=[])
    thread._iteration([time.monotonic()])
    # the flushed output is sent (streams_producer.send_lingering_while_idle: one look for input after the slice),
    # then the rest of poll.ms (100 ms) waits for input
    assert thread.events[:4] == [("poll", 0), "idle flush", "send lingering", ("poll", 0)]
    kind, rest = thread.events[4]
    assert kind == "poll" and 0.05 < rest <= 0.1
    assert "commit" not in thread.events  # offsets keep commit.interval.ms


def test_dirty_cache_under_load_polls_without_flushing(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, {}, dirty=True, batches=[[object()]])
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0), "process"] and "idle flush" not in thread.events


def test_clean_cache_and_nothing_pending_blocks_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    thread = _thread(monkeypatch, {}, dirty=False, batches=[])
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0.1), "process"]


@pytest.mark.parametrize("props", [{"pystreams.cache.flush.when.idle": "false"},
                                   {"processing.guarantee": "exactly_once_v2"}], ids=["key-false", "eos"])
def test_off_or_exactly_once_keeps_kafkas_timing(monkeypatch: pytest.MonkeyPatch, props: dict[str, Any]) -> None:
    thread = _thread(monkeypatch, props, dirty=True, batches=[])
    assert thread._idle_flush is None
    thread._iteration([time.monotonic()])
    assert thread.events[:2] == [("poll", 0.1), "process"] and "idle flush" not in thread.events


# ---------------------------------------------------------------- the key
def test_config_key_defaults_true_and_takes_booleans() -> None:
    base = {"application.id": "a"}
    assert StreamsConfig(base).cache_flush_when_idle is True
    for value, expected in ((False, False), ("false", False), ("TRUE", True), (" true ", True)):
        assert StreamsConfig({**base, "pystreams.cache.flush.when.idle": value}).cache_flush_when_idle is expected


@pytest.mark.parametrize("value", ["yes", 1, "", None])
def test_config_key_refuses_other_values(value: Any) -> None:
    with pytest.raises(ConfigError, match="pystreams.cache.flush.when.idle: Expected value to be either true or false"):
        StreamsConfig({"application.id": "a", "pystreams.cache.flush.when.idle": value})
