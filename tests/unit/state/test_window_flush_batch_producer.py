"""A window store's cache flush sends its changelog records straight into the record collector's producer
(KafkaRecordCollector.batch_producer / add_sent) and writes RocksDB in one pass over the flushed entries: the
produced records (topic, value, key, partition, timestamp, headers, order), the collector's sent and
per-partition counts, the forwarded records, the stored windows, stream time and expired counts are those of the
record-by-record path (a collector whose send() is overridden), through commits, evictions under cache pressure,
deletes, windows expiring with retention, and records the producer refuses at first."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.compiler.processors.stateful.forwarding import TimestampedCacheFlushListener
from pystreams.processor.task_id import TaskId
from pystreams.runtime import collector as collector_module
from pystreams.runtime.collector import KafkaRecordCollector
from pystreams.serdes import Serdes
from pystreams.state import ValueAndTimestamp
from pystreams.state.context import RecordContext, StateStoreContext
from pystreams.state.internals.cache import ThreadCache
from pystreams.state.window import (in_memory_window_store, persistent_timestamped_window_store,
                                    timestamped_window_store_builder)
from pystreams.state.window import logging as window_logging

pytestmark = pytest.mark.unit

SIZE = 1000


class _Producer:
    """Keeps what produce() is given; raises BufferError for the produce() calls numbered in `full`."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.records: list[tuple[Any, ...]] = []
        self.calls = 0
        self.full: set[int] = set()

    def produce(self, *args: Any) -> None:
        self.calls += 1
        if self.calls in self.full:
            raise BufferError("Local: Queue full")
        self.records.append(args)

    def poll(self, _timeout: float = 0) -> int:
        return 0

    def flush(self, _timeout: float = 0) -> int:
        return 0


class _OneByOne(KafkaRecordCollector):
    """send() overridden: the collector hands out no producer, so the store sends record by record."""

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        super().send(topic, key, value, headers, timestamp, partition)


class _Context:
    def __init__(self, sctx: StateStoreContext) -> None:
        self.sctx = sctx
        self.forwarded: list[tuple[Any, ...]] = []

    def forward(self, record: Any) -> None:
        rc = self.sctx.record_context
        self.forwarded.append((record.key.key, record.key.window.start, record.value.new_value, record.timestamp,
                               record.headers, rc.timestamp, rc.offset, rc.topic, rc.partition))


def _run(tmp_path: Any, collector_type: type, persistent: bool, cache_bytes: int, step: int, deletes: bool,
         full: set[int], monkeypatch: Any) -> Any:
    monkeypatch.setattr(collector_module, "Producer", _Producer)
    collector = collector_type({})
    collector.producer.full = full
    sctx = StateStoreContext("app", TaskId(0, 2), str(tmp_path), cache=ThreadCache(cache_bytes),
                             changelog_sender=lambda *rec: pytest.fail("the task's sender is not used"),
                             changelog_topics={"w": "app-w-changelog"}, record_sender=collector.send)
    supplier = (persistent_timestamped_window_store("w", 3 * SIZE, SIZE) if persistent
                else in_memory_window_store("w", 3 * SIZE, SIZE))
    store = timestamped_window_store_builder(supplier, Serdes.String(), Serdes.Long()).with_caching_enabled().build()
    store.init(sctx, store)
    context = _Context(sctx)
    assert store.set_flush_listener(TimestampedCacheFlushListener(context), False)
    rng = random.Random(11)
    t = 0
    for i in range(1200):
        t += rng.randrange(0, step)
        ts = max(0, t - rng.randrange(0, 40 * step)) if rng.random() < 0.3 else t
        start = ts - ts % SIZE
        sctx.record_context = RecordContext(ts, i, "in", 2, (("h", b"1"),) if i % 5 == 0 else ())
        key = f"k{rng.randrange(12)}"
        old = store.fetch(key, start)
        if deletes and old is not None and rng.random() < 0.1:
            store.put(key, None, start)
        else:
            store.put(key, ValueAndTimestamp((old.value if old is not None else 0) + 1,
                                             max(ts, old.timestamp if old is not None else ts)), start)
        if i % 150 == 149:
            store.flush()
    store.flush()
    stored = [(w.key, w.window.start, v) for w, v in store.all()]
    inner = store._innermost()
    stored.append((inner.observed_stream_time, getattr(inner, "expired_records", None)))
    store.close()
    collector.flush_producer()
    acked = collector.take_acked("app-w-changelog", 2)
    monkeypatch.undo()
    return collector.producer.records, collector.sent, acked, context.forwarded, stored


@pytest.mark.parametrize("persistent", [True, False], ids=["rocksdb", "memory"])
@pytest.mark.parametrize("cache_bytes", [10_000_000, 1_200], ids=["commits", "evictions"])
@pytest.mark.parametrize("step", [20, 300], ids=["one-segment", "expiring-segments"])
@pytest.mark.parametrize("deletes", [False, True], ids=["counts", "deletes"])
def test_batch_producer_flush_equals_record_by_record(tmp_path: Any, persistent: bool, cache_bytes: int,
                                                      step: int, deletes: bool, monkeypatch: Any) -> None:
    calls: list[Any] = []
    direct = window_logging._direct_changelog

    def spy(send: Any) -> Any:
        found = direct(send)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(window_logging, "_direct_changelog", spy)
    fast = _run(tmp_path / "fast", KafkaRecordCollector, persistent, cache_bytes, step, deletes, set(),
                monkeypatch)
    assert any(calls) or deletes, "the flush never took the producer path"  # a flush with a delete: by entry
    calls.clear()
    monkeypatch.setattr(window_logging, "_direct_changelog", spy)
    slow = _run(tmp_path / "slow", _OneByOne, persistent, cache_bytes, step, deletes, set(), monkeypatch)
    assert not any(calls)
    assert fast == slow
    records, sent, acked, forwarded, stored = fast
    assert len(records) > 100 and sent == acked == len(records)
    assert all(r[0] == "app-w-changelog" and r[3] == 2 and r[7] is None for r in records)
    assert len(forwarded) > 100
    if deletes and step < 100:
        assert any(r[1] is None for r in records)  # tombstones
    if persistent and step > 100:
        assert stored[-1][1] > 0  # some writes hit segments already expired


def test_a_record_the_producer_refuses_goes_through_send(tmp_path: Any, monkeypatch: Any) -> None:
    """BufferError on some produce() calls of the batch: send() waits for room and produces them, in order, and
    every record is counted once."""
    expected = _run(tmp_path / "a", KafkaRecordCollector, True, 10_000_000, 20, False, set(), monkeypatch)
    refused = _run(tmp_path / "b", KafkaRecordCollector, True, 10_000_000, 20, False, {3, 4, 40}, monkeypatch)
    assert refused == expected
