"""A global store app without a broker, shared by the global-state unit tests (corruption, checkpoint, thread init,
lifecycle, restore listener) and, for its topology, by the integration tests' global_customers_topology: the global
store "customers" kept by PutCustomer from one topic, a scripted global consumer and its messages, and the patches
that put them under a GlobalStateManager."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from confluent_kafka import KafkaError, TopicPartition

from pystreams import Serdes, Stores, Topology
from pystreams.processor import Processor
from pystreams.runtime import KafkaStreams, global_state

TOPIC = "customers"
APP = "global-unit"


class PutCustomer(Processor):
    def init(self, context):
        self.store = context.get_state_store("customers")

    def process(self, record):
        self.store.put(record.key, record.value)


def customers_topology(topic: str = TOPIC, cached: bool = False) -> Topology:
    """A Topology with the global store "customers" (customer id -> name, Strings, no changelog: `topic` is its
    source), kept by PutCustomer; with or without a record cache."""
    topology = Topology()
    builder = Stores.key_value_store_builder(Stores.persistent_key_value_store("customers"), Serdes.String(),
                                             Serdes.String()).with_logging_disabled()
    if cached:
        builder = builder.with_caching_enabled()
    topology.add_global_store(builder, "customers-source", topic, "customers-processor", PutCustomer,
                              key_serde=Serdes.String(), value_serde=Serdes.String())
    return topology


def global_streams(tmp_path: Any, app_id: str = APP, cached: bool = False, **config: Any) -> KafkaStreams:
    """KafkaStreams over customers_topology() with its state under tmp_path, pointing at no broker."""
    return KafkaStreams(customers_topology(cached=cached), {
        "application.id": app_id, "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path), **config})


def store_keys(manager: global_state.GlobalStateManager) -> set[str]:
    return {k for k, _ in manager.stores["customers"].all()}


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


def customer_records(offsets: range, prefix: str) -> list[Msg]:
    """Records "<prefix><offset>" -> "name" at those offsets of partition 0."""
    return [Msg(o, f"{prefix}{o}".encode(), b"name") for o in offsets]


def out_of_range(offset: int) -> Msg:
    """What librdkafka hands the consumer when its position is out of range (auto.offset.reset=error)."""
    return Msg(offset, err=KafkaError(KafkaError._AUTO_OFFSET_RESET, "fetch failed due to requested offset not "
                                      "available on the broker: Broker: Offset out of range"))


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


def script_global_consumer(monkeypatch: Any, consumer: Any, *marks: tuple[int, int]) -> None:
    """The global state reads through `consumer` and sees the partition's (low, high) watermarks `marks`: one pair
    for every call, or several answered in order."""
    monkeypatch.setattr(global_state, "Consumer", consumer)
    if len(marks) == 1:
        monkeypatch.setattr(global_state, "watermarks", lambda c, tp, **kw: marks[0])
    else:
        answers = iter(marks)
        monkeypatch.setattr(global_state, "watermarks", lambda c, tp, **kw: next(answers))
