"""GlobalStateManager's corruption paths with a scripted global consumer (no broker): the consumer's position
going out of range while start() bootstraps (auto.offset.reset=error's _AUTO_OFFSET_RESET) wipes the global state
and reads every partition again from the beginning; out of range after start() fails the global thread with
Kafka's "Updating global state failed" and wipes the global state when it closes."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from pystreams import Serdes, Stores, Topology
from pystreams.processor import Processor
from pystreams.runtime import KafkaStreams, global_state

pytestmark = pytest.mark.unit

TOPIC = "customers"


class PutCustomer(Processor):
    def init(self, context):
        self.store = context.get_state_store("customers")

    def process(self, record):
        self.store.put(record.key, record.value)


class Msg:
    def __init__(self, offset: int, key: bytes | None = None, value: bytes | None = None,
                 err: KafkaError | None = None) -> None:
        self._offset, self._key, self._value, self._err = offset, key, value, err

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def error(self) -> KafkaError | None:
        return self._err

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return (1, 1000 + self._offset)

    def headers(self) -> None:
        return None


class ScriptedConsumer:
    """One partition; each assign() starts the next script: a list of consume() answers."""

    def __init__(self, scripts: list[list[list[Msg]]]) -> None:
        self.scripts = scripts
        self.assigned: list[list[tuple[str, int, int]]] = []
        self.batches: list[list[Msg]] = []
        self.pos = 0

    def __call__(self, config: dict[str, Any]) -> ScriptedConsumer:
        assert config["auto.offset.reset"] == "error"  # Kafka's "none": out of range is an error, not a jump
        return self

    def list_topics(self, timeout: float = 0) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(topics={TOPIC: SimpleNamespace(error=None, partitions={0: None})})

    def assign(self, tps: list[TopicPartition]) -> None:
        self.assigned.append([(tp.topic, tp.partition, tp.offset) for tp in tps])
        self.batches = self.scripts.pop(0)

    def unassign(self) -> None:
        pass

    def consume(self, num_messages: int = 1, timeout: float = 0) -> list[Msg]:
        batch = self.batches.pop(0) if self.batches else []
        for m in batch:
            if m.error() is None:
                self.pos = m.offset() + 1
        return batch

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.pos) for tp in tps]

    def close(self) -> None:
        pass


def _records(offsets: range, prefix: str) -> list[Msg]:
    return [Msg(o, f"{prefix}{o}".encode(), b"name") for o in offsets]


def _out_of_range(offset: int) -> Msg:
    return Msg(offset, err=KafkaError(KafkaError._AUTO_OFFSET_RESET, "fetch failed due to requested offset not "
                                      "available on the broker: Broker: Offset out of range"))


def _streams(tmp_path: Any) -> KafkaStreams:
    topology = Topology()
    builder = Stores.key_value_store_builder(Stores.persistent_key_value_store("customers"), Serdes.String(),
                                             Serdes.String()).with_logging_disabled()
    topology.add_global_store(builder, "customers-source", TOPIC, "customers-processor", PutCustomer,
                              key_serde=Serdes.String(), value_serde=Serdes.String())
    return KafkaStreams(topology, {"application.id": "global-unit", "bootstrap.servers": "127.0.0.1:1",
                                   "state.dir": str(tmp_path)})


def _keys(manager: global_state.GlobalStateManager) -> set[str]:
    return {k for k, _ in manager.stores["customers"].all()}


def test_out_of_range_while_bootstrapping_wipes_and_reads_again_from_the_beginning(tmp_path, monkeypatch):
    # first assignment: c0-c4 arrive, then the position is out of range (the topic was re-created meanwhile);
    # after the wipe, the beginning of the new topic: d0-d2
    consumer = ScriptedConsumer([[_records(range(5), "c"), [_out_of_range(5)]], [_records(range(3), "d")]])
    marks = iter([(0, 10), (0, 3)])
    monkeypatch.setattr(global_state, "Consumer", consumer)
    monkeypatch.setattr(global_state, "watermarks", lambda c, tp, **kw: next(marks))
    manager = global_state.GlobalStateManager(_streams(tmp_path))
    monkeypatch.setattr(manager, "_run", manager._stop.wait)  # no updates after the bootstrap in this test
    try:
        manager.start(timeout=10)
        assert _keys(manager) == {"d0", "d1", "d2"}  # none of c0-c4: the old state was wiped
        assert manager.corrupted == 1 and manager.records == 3
        assert consumer.assigned == [[(TOPIC, 0, OFFSET_BEGINNING)], [(TOPIC, 0, OFFSET_BEGINNING)]]
    finally:
        manager.close()


def test_out_of_range_while_running_fails_like_kafka_and_wipes_on_close(tmp_path, monkeypatch):
    consumer = ScriptedConsumer([[_records(range(3), "c"), [], [_out_of_range(3)]]])
    monkeypatch.setattr(global_state, "Consumer", consumer)
    monkeypatch.setattr(global_state, "watermarks", lambda c, tp, **kw: (0, 3))
    streams = _streams(tmp_path)
    failures: list[tuple[Any, BaseException]] = []
    monkeypatch.setattr(streams, "_thread_failed", lambda thread, error: failures.append((thread, error)))
    manager = global_state.GlobalStateManager(streams)
    try:
        manager.start(timeout=10)
        assert manager._thread is not None
        manager._thread.join(10)
        assert not manager._thread.is_alive()
        assert [t for t, _ in failures] == [manager]
        assert "Updating global state failed" in str(failures[0][1])
        assert "restart KafkaStreams" in str(failures[0][1])
    finally:
        manager.close()
    task_dir = tmp_path / "global-unit" / "global"
    assert sorted(p.name for p in task_dir.iterdir()) == [".lock"]  # the global state is wiped on close
