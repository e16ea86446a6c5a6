"""KafkaStreams lifecycle with a global store on a real broker (both): a close() that lands after the global thread
started and before the stream threads leaves no stream thread running once it returned (NOT_RUNNING, locks free);
add_stream_thread() / remove_stream_thread() resize the global thread's share of statestore.cache.max.bytes (Kafka's
resizeThreadCache); the global .checkpoint is written when the bootstrap ends, at close, and while running once
commit.interval.ms passed with more than 10,000 records read since the last one (Kafka 4.x's
GlobalStateUpdateTask), not in between."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.checkpoint import read_checkpoint
from pystreams.runtime.global_state import GlobalStateManager
from pystreams.runtime.state_directory import StateDirectory
from pystreams.runtime.tasks import OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT
from tests.integration.runtime.helpers import (
    customers_and_orders,
    end_offsets,
    global_customers_topology,
    produce_customers,
    unique,
)

pytestmark = pytest.mark.integration

MANY = OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT + 1
FIRST = 3  # records before start() (c0-c2 all land on one partition: the other, empty, is checkpointed at 0)


def _wait_until(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _setup(kafka_broker: Any, tmp_path: Any, records: int, **config: Any) -> tuple[str, str, dict[str, Any]]:
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders = customers_and_orders(bootstrap, 2, records)
    app_config = {"application.id": unique("lifecycle"), "bootstrap.servers": bootstrap,
                  "state.dir": str(tmp_path), "client.id": "life", **config}
    return customers, orders, app_config


def _stream_threads_alive(client_id: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"{client_id}-StreamThread-")]


def test_a_close_after_the_global_thread_started_leaves_no_stream_thread(kafka_broker, tmp_path, monkeypatch):
    customers, orders, config = _setup(kafka_broker, tmp_path, FIRST, **{"num.stream.threads": 2})
    streams = KafkaStreams(global_customers_topology(customers, orders), config)
    closed: list[bool] = []
    bootstrap_global = GlobalStateManager.start

    def start_then_close(self: GlobalStateManager, timeout: float = 300.0) -> None:
        bootstrap_global(self, timeout)  # the real bootstrap, then a close() from another thread, to its end
        closer = threading.Thread(target=lambda: closed.append(self.streams.close(30)))
        closer.start()
        closer.join(40)

    monkeypatch.setattr(GlobalStateManager, "start", start_then_close)
    try:
        streams.start()
        assert closed == [True]
        assert streams.state is State.NOT_RUNNING
        assert streams.threads == [] and _stream_threads_alive("life") == []
        assert not streams.global_state.thread.is_alive()
        directory = StateDirectory(str(tmp_path), config["application.id"])
        directory.lock()  # free: the close released it and nothing took it again
        directory.unlock()
    finally:
        for thread in list(streams.threads):  # whatever a failed assertion left running
            thread.shutdown()
            thread.join(30)
        streams.close(30)


def test_adding_and_removing_a_stream_thread_resizes_the_global_cache(kafka_broker, tmp_path):
    customers, orders, config = _setup(kafka_broker, tmp_path, FIRST, **{"statestore.cache.max.bytes": 12_000})
    streams = KafkaStreams(global_customers_topology(customers, orders), config)
    manager: Any = None

    def global_cache_is(size: int) -> Any:
        return lambda: manager.cache.max_bytes == size and manager._cache_resize is None

    try:
        streams.start()
        manager = streams.global_state
        assert manager.cache.max_bytes == 6_000  # one stream thread + the global thread
        assert streams.wait_for_state(State.RUNNING, timeout=30)
        assert streams.add_stream_thread() == "life-StreamThread-2"
        _wait_until(global_cache_is(4_000), "the global cache resized to a third")
        assert streams.remove_stream_thread(timeout=30) == "life-StreamThread-1"
        _wait_until(global_cache_is(6_000), "the global cache resized back to a half")
    finally:
        assert streams.close(60)


def test_a_short_commit_interval_checkpoints_while_running(kafka_broker, tmp_path):
    customers, orders, config = _setup(kafka_broker, tmp_path, FIRST, **{"commit.interval.ms": 200})
    global_dir = str(tmp_path / config["application.id"] / "global")
    streams = KafkaStreams(global_customers_topology(customers, orders), config)
    try:
        streams.start()
        # the bootstrap's end
        assert read_checkpoint(global_dir) == end_offsets(config["bootstrap.servers"], customers, 2)
        produce_customers(config["bootstrap.servers"], customers, range(FIRST, FIRST + MANY))
        ends = end_offsets(config["bootstrap.servers"], customers, 2)
        _wait_until(lambda: read_checkpoint(global_dir) == ends, "the checkpoint at a commit interval", 8.0)
        assert streams.state.is_running_or_rebalancing()  # written while running, not by close
    finally:
        assert streams.close(60)


def test_a_long_commit_interval_checkpoints_only_at_the_bootstrap_end_and_close(kafka_broker, tmp_path):
    customers, orders, config = _setup(kafka_broker, tmp_path, FIRST, **{"commit.interval.ms": 60_000})
    global_dir = str(tmp_path / config["application.id"] / "global")
    streams = KafkaStreams(global_customers_topology(customers, orders), config)
    try:
        streams.start()
        first = end_offsets(config["bootstrap.servers"], customers, 2)
        assert read_checkpoint(global_dir) == first
        produce_customers(config["bootstrap.servers"], customers, range(FIRST, FIRST + MANY))
        _wait_until(lambda: streams.global_state.records == FIRST + MANY, f"the global thread read {MANY} records")
        assert read_checkpoint(global_dir) == first  # more than 10,000 records, but no commit interval yet
    finally:
        assert streams.close(60)
    assert read_checkpoint(global_dir) == end_offsets(config["bootstrap.servers"], customers, 2)  # close wrote it
