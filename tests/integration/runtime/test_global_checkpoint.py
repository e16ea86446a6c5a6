"""The global .checkpoint on a real broker (both): it holds the next offset to read per partition (Kafka's form:
the end offsets after a run that read everything), a clean restart reads 0 records, a restart after new records
reads exactly those; the global bootstrap is reported to the StateRestoreListener as such; the global consumer
takes `global.consumer.` keys (a bad one fails start() naming it)."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.checkpoint import read_checkpoint
from tests.integration.runtime.helpers import (
    customers_and_orders,
    end_offsets,
    global_customers_topology,
    produce_customers,
    unique,
)
from tests.integration.runtime.test_restore_listener import Recorder

pytestmark = pytest.mark.integration

STORE = "customers"


def _run(topology: Any, config: dict[str, Any]) -> tuple[int, Recorder, set[str]]:
    """Start (the global store bootstraps in start()), close; (records read by the bootstrap, listener, keys)."""
    listener = Recorder()
    streams = KafkaStreams(topology, config)
    streams.set_global_state_restore_listener(listener)
    try:
        streams.start()
        records = streams.global_state.records
        keys = {k for k, _v in streams.global_state.stores[STORE].all()}
        assert streams.wait_for_state(State.RUNNING, timeout=60)
    finally:
        assert streams.close(60)
    return records, listener, keys


def test_global_checkpoint_holds_next_offsets_and_restarts_read_only_new_records(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders = customers_and_orders(bootstrap, 2, 20)
    topology = global_customers_topology(customers, orders)
    app_id = unique("global-cp")
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path)}
    global_dir = str(tmp_path / app_id / "global")

    records, first, keys = _run(topology, config)
    ends = end_offsets(bootstrap, customers, 2)
    assert records == 20 and keys == {f"c{i}" for i in range(20)}
    assert read_checkpoint(global_dir) == ends  # Kafka's form: the next offset to read, i.e. each end offset
    assert sum(e[3] for e in first.events if e[0] == "end") == 20

    records, clean, _keys = _run(topology, config)  # clean restart
    assert records == 0
    assert sorted(clean.events) == sorted(event for tp, end in ends.items()
                                          for event in (("start", tp, STORE, end, end), ("end", tp, STORE, 0)))

    produce_customers(bootstrap, customers, range(20, 25))
    records, after, keys = _run(topology, config)  # restart after 5 new records: exactly those are read
    assert records == 5 and keys == {f"c{i}" for i in range(25)}
    assert sum(e[3] for e in after.events if e[0] == "end") == 5
    assert read_checkpoint(global_dir) == end_offsets(bootstrap, customers, 2)


def test_global_consumer_reads_global_consumer_prefixed_keys(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    customers, orders = customers_and_orders(bootstrap, 1, 3)
    topology = global_customers_topology(customers, orders)
    config = {"application.id": unique("global-cfg"), "bootstrap.servers": bootstrap, "state.dir": str(tmp_path)}
    # a value librdkafka refuses, for the restore consumer only: the global bootstrap in start() does not see it
    # (the stream thread's restore consumer does, and fails afterwards)
    streams = KafkaStreams(topology, {**config, "restore.consumer.fetch.wait.max.ms": "not-a-number"})
    try:
        streams.start()
        assert streams.global_state.records == 3
    finally:
        streams.close(60)
    # the same value with the global consumer's prefix: the global consumer is refused, start() fails
    streams = KafkaStreams(topology, {**config, "application.id": unique("global-cfg"),
                                      "global.consumer.fetch.wait.max.ms": "not-a-number"})
    with pytest.raises(Exception, match="fetch.wait.max.ms"):
        streams.start()
    assert streams.state is State.ERROR
