"""A global store whose topic no longer matches its checkpoint is wiped and bootstrapped again from the beginning
(Kafka's GlobalStateManagerImpl on InvalidOffsetException), on both brokers: DeleteRecords past the checkpoint,
the topic deleted and re-created (the checkpoint is then past its end); and out of range while the app runs:
the client fails like Kafka 4.x's GlobalStreamThread, the global state is wiped, a restart bootstraps afresh."""
from __future__ import annotations

from pathlib import Path

import pytest

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    customers_and_orders,
    delete_records,
    global_customers_topology,
    produce_customers,
    recreate_topic,
    unique,
)

pytestmark = pytest.mark.integration


def _streams(bootstrap: str, customers: str, orders: str, state_dir: Path, app_id: str) -> KafkaStreams:
    return KafkaStreams(global_customers_topology(customers, orders), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(state_dir),
        "commit.interval.ms": 200})


def _keys(streams: KafkaStreams) -> set[str]:
    return {k for k, _ in streams.global_state.stores["customers"].all()}


def _first_run(bootstrap: str, tmp_path: Path) -> tuple[str, str, str]:
    customers, orders = customers_and_orders(bootstrap, 1, 20)
    app_id = unique("global-corrupt")
    streams = _streams(bootstrap, customers, orders, tmp_path, app_id)
    try:
        streams.start()
        assert _keys(streams) == {f"c{i}" for i in range(20)} and streams.global_state.corrupted == 0
    finally:
        assert streams.close(60)
    checkpoint = tmp_path / app_id / "global" / ".checkpoint"
    assert f"{customers} 0 20" in checkpoint.read_text()
    return customers, orders, app_id


def test_delete_records_past_the_global_checkpoint_wipes_and_bootstraps_from_the_log_start(kafka_broker, tmp_path,
                                                                                            caplog):
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders, app_id = _first_run(bootstrap, tmp_path)
    produce_customers(bootstrap, customers, range(20, 40))
    delete_records(bootstrap, customers, 30)
    streams = _streams(bootstrap, customers, orders, tmp_path, app_id)
    try:
        streams.start()
        # c0..c19 were in the store; the topic now holds c30..c39 only: the store holds exactly those
        assert _keys(streams) == {f"c{i}" for i in range(30, 40)}
        assert streams.global_state.corrupted == 1
        assert f"{customers}-0: checkpointed offset 20 is out of its range 30-40" in caplog.text
    finally:
        assert streams.close(60)


def test_a_recreated_global_topic_ending_below_the_checkpoint_wipes_and_bootstraps(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders, app_id = _first_run(bootstrap, tmp_path)
    recreate_topic(bootstrap, customers)
    produce_customers(bootstrap, customers, range(5), prefix="d")
    streams = _streams(bootstrap, customers, orders, tmp_path, app_id)
    try:
        streams.start()
        assert _keys(streams) == {f"d{i}" for i in range(5)} and streams.global_state.corrupted == 1
    finally:
        assert streams.close(60)


def test_out_of_range_while_running_fails_wipes_and_a_restart_bootstraps_afresh(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders = customers_and_orders(bootstrap, 1, 20)
    app_id = unique("global-corrupt")
    streams = _streams(bootstrap, customers, orders, tmp_path, app_id)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        recreate_topic(bootstrap, customers)  # the global consumer's position 20 is past the new topic's end
        produce_customers(bootstrap, customers, range(3), prefix="d")
        assert streams.wait_for_state(State.ERROR, timeout=60), streams.state
        assert "Updating global state failed" in str(streams.global_state.error)
    finally:
        streams.close(60)
    # wiped on close: only the lock file is left (the restart below finds no c* key either)
    assert [p.name for p in (tmp_path / app_id / "global").iterdir()] == [".lock"]
    streams = _streams(bootstrap, customers, orders, tmp_path, app_id)
    try:
        streams.start()
        assert _keys(streams) == {"d0", "d1", "d2"} and streams.global_state.corrupted == 0
    finally:
        assert streams.close(60)
