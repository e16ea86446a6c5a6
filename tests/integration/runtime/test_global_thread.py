"""The global thread owns the global state, as Kafka's GlobalStreamThread (real broker, both): a cached GlobalKTable
queried from the main thread while the global thread updates it under load raises nothing, converges, and its
record cache belongs to `<client.id>-GlobalStreamThread`; a missing global topic fails start() with Kafka's error
and leaves the client in ERROR, quickly; the restore listener's bootstrap callbacks run on the global thread."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.processor.errors import StreamsException
from pystreams.runtime import KafkaStreams, State, StateRestoreListener
from tests.integration.runtime.helpers import create_topics, unique
from tests.unit.runtime.test_global_thread_init import cache_layer_of

pytestmark = pytest.mark.integration

S = Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())
KEYS = 50


def _app(bootstrap: str, tmp_path: Any, table_topic: str, stream_topic: str, **config: Any) -> KafkaStreams:
    builder = StreamsBuilder()
    builder.global_table(table_topic, S, Materialized(name="customers").with_caching_enabled())
    builder.stream(stream_topic, S).to(unique("sink"))
    return KafkaStreams(builder.build(), {"application.id": unique("gthread"), "bootstrap.servers": bootstrap,
                                          "state.dir": str(tmp_path), "client.id": "gt", **config})


def _produce(bootstrap: str, topic: str, rounds: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for r in range(rounds):
        for k in range(KEYS):
            producer.produce(topic, key=f"k{k}".encode(), value=f"{r:05d}".encode())
        producer.poll(0)
    assert producer.flush(30) == 0


def test_a_cached_global_table_queried_while_the_global_thread_updates_it(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    table, other = unique("customers"), unique("orders")
    create_topics(bootstrap, 2, table, other)
    _produce(bootstrap, table, 1)
    streams = _app(bootstrap, tmp_path, table, other)
    errors: list[BaseException] = []
    try:
        streams.start()
        store = streams.store("customers")
        assert {store.get(f"k{k}") for k in range(KEYS)} == {"00000"}  # start() returned after the bootstrap
        global_thread = streams.global_state.thread
        assert global_thread.name == "gt-GlobalStreamThread"
        writer = threading.Thread(target=_produce, args=(bootstrap, table, 200))
        writer.start()
        seen: dict[str, str] = {}
        passes = 0
        while writer.is_alive():  # the main thread queries while the global thread writes into the cache
            try:
                for k in range(0, KEYS, 7):
                    value = store.get(f"k{k}")
                    assert value >= seen.get(f"k{k}", ""), (k, value, seen)  # never goes back
                    seen[f"k{k}"] = value
                assert len(list(store.all())) == KEYS
                passes += 1
            except Exception as e:  # noqa: BLE001 - collected, asserted below
                errors.append(e)
                break
        writer.join()
        assert passes >= 5, passes  # the queries did overlap the updates
        deadline = time.monotonic() + 60
        while any(store.get(f"k{k}") != "00199" for k in range(KEYS)):
            assert time.monotonic() < deadline, {f"k{k}": store.get(f"k{k}") for k in range(KEYS)}
            time.sleep(0.05)
        assert dict(store.all()) == {f"k{k}": "00199" for k in range(KEYS)}
        layer = cache_layer_of(streams.global_state.stores["customers"])
        assert layer._owner == global_thread.ident != threading.get_ident()
        assert layer._named is not None and len(layer._named.entries) > 0  # the table really went through a cache
        assert streams.global_state.error is None and global_thread.is_alive()
    finally:
        assert streams.close(60)
    assert errors == []


def test_a_missing_global_topic_fails_start_and_the_client_ends_in_error(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    table, other = unique("missing-global"), unique("orders")
    create_topics(bootstrap, 1, other)
    streams = _app(bootstrap, tmp_path, table, other)
    began = time.monotonic()
    try:
        with pytest.raises(StreamsException) as info:
            streams.start()
        assert time.monotonic() - began < 30
        assert f"There are no partitions available for topic {table} when initializing global store customers" \
            in str(info.value)
        assert streams.state is State.ERROR
        assert not streams.global_state.thread.is_alive()
    finally:
        assert streams.close(10)


class ThreadNames(StateRestoreListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def on_restore_start(self, tp, store, start, end):
        self.calls.append(("start", threading.current_thread().name))

    def on_batch_restored(self, tp, store, batch_end, n):
        self.calls.append(("batch", threading.current_thread().name))

    def on_restore_end(self, tp, store, total):
        self.calls.append(("end", threading.current_thread().name))


def test_global_restore_listener_callbacks_run_on_the_global_thread(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    table, other = unique("customers"), unique("orders")
    create_topics(bootstrap, 2, table, other)
    _produce(bootstrap, table, 3)
    streams = _app(bootstrap, tmp_path, table, other)
    listener = ThreadNames()
    streams.set_global_state_restore_listener(listener)
    try:
        streams.start()
        kinds = [kind for kind, _ in listener.calls]
        assert kinds.count("start") == 2 and kinds.count("end") == 2 and "batch" in kinds
        assert {name for _, name in listener.calls} == {"gt-GlobalStreamThread"}
    finally:
        assert streams.close(60)
