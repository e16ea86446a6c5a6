"""Store iterators a processor never closes, in a running application on both brokers: num-open-iterators (DEBUG)
counts them while the task runs, as Kafka's does (until closed); when the task closes, its RocksDB store closes them
("Closing N open iterators for store X", Kafka's RocksDBStore.closeOpenIterators), so the same process opens the
store again: here a second KafkaStreams with the same application.id and state.dir after the first closed. A leaked
iterator used to keep the RocksDB DB, and its LOCK, open: the second instance's thread failed with "Cannot open
RocksDB for store ... lock hold by current process"."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import Processor, Record
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.client_metrics import kafka_metrics
from pystreams.state import Stores
from tests.integration.runtime.helpers import create_topics, produce_lines, read_all, thread_errors, unique

pytestmark = pytest.mark.integration

STORE = "seen"
#: iterators the processors opened and never closed; kept here so they outlive their tasks (a cycle or a cache
#: in user code does the same)
LEAKED: list[Any] = []


class LeakyProcessor(Processor[Any, Any, Any, Any]):
    """Remembers each key and forwards how many keys it has seen, counting them with an iterator it never closes."""

    def init(self, context: Any) -> None:
        self.context = context
        self.store = context.get_state_store(STORE)

    def process(self, record: Record[Any, Any]) -> None:
        self.store.put(record.key, record.value)
        it = self.store.all()
        next(it)  # read part of the way, then abandoned
        LEAKED.append(it)
        self.context.forward(record.with_value(str(self.store.approximate_num_entries())))


def _topology(source: str, sink: str) -> Any:
    builder = StreamsBuilder()
    builder.add_state_store(Stores.key_value_store_builder(Stores.persistent_key_value_store(STORE),
                                                           Serdes.String(), Serdes.String()))
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .process(LeakyProcessor, STORE).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


def _open_iterators(streams: KafkaStreams) -> float:
    """num-open-iterators of the stream-state-metrics (Kafka's MetricName), over the app's stores."""
    return sum(v for name, v in kafka_metrics(streams).items() if name.name == "num-open-iterators")


def test_leaked_iterators_are_closed_with_their_store_which_opens_again(kafka_broker: Any, tmp_path: Any,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pystreams.state")
    bootstrap = kafka_broker.bootstrap_servers
    source, sink = unique("leak-in"), unique("leak-out")
    create_topics(bootstrap, 1, source, sink)
    config = {"application.id": unique("leak"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "metrics.recording.level": "DEBUG"}
    LEAKED.clear()
    try:
        with KafkaStreams(_topology(source, sink), config) as first:
            first.start()
            assert first.wait_for_state(State.RUNNING, timeout=30), first.state
            produce_lines(bootstrap, source, ["a", "b", "c"])
            assert len(read_all(bootstrap, sink, 3, timeout=30)) == 3
            assert _open_iterators(first) == 3  # counted until closed, as Kafka's
        assert first.state is State.NOT_RUNNING
        assert [r.getMessage() for r in caplog.records if "open iterators" in r.getMessage()] == [
            f"Closing 3 open iterators for store {STORE}"]
        with KafkaStreams(_topology(source, sink), config) as second:  # same process, same state dir
            errors = thread_errors(second)
            second.start()
            assert second.wait_for_state(State.RUNNING, timeout=30), second.state
            produce_lines(bootstrap, source, ["d"], start=3)
            out = read_all(bootstrap, sink, 4, timeout=30)
            assert not errors, errors
            assert len(out) == 4 and second.state is State.RUNNING
    finally:
        LEAKED.clear()
