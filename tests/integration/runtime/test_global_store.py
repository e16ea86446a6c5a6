"""A global store is read to the end before processing starts and kept current while the app runs."""
from __future__ import annotations

import time

import pytest

from pystreams import Serdes
from pystreams.processor import Processor, Record
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    customers_and_orders,
    global_customers_topology,
    produce_pairs,
    read_all,
    unique,
)

pytestmark = pytest.mark.integration


class Enrich(Processor):
    def init(self, context):
        self.context = context
        self.customers = context.get_state_store("customers")

    def process(self, record):
        name = self.customers.get(record.key)
        self.context.forward(Record(record.key, f"{record.value} for {name}", record.timestamp))


def test_global_store_feeds_every_task(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    out = unique("enriched")
    customers, orders = customers_and_orders(bootstrap, 2, 20, out)
    topology = global_customers_topology(customers, orders)
    topology.add_processor("enrich", Enrich, "orders-source")
    topology.add_sink("sink", out, "enrich", key_serde=Serdes.String(), value_serde=Serdes.String())
    streams = KafkaStreams(topology, {"application.id": unique("global"), "bootstrap.servers": bootstrap,
                                      "state.dir": str(tmp_path), "commit.interval.ms": 200})
    try:
        streams.start()  # returns once the global store holds all 20 customers
        assert streams.global_state.records == 20
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        produce_pairs(bootstrap, orders, [(f"c{i}", f"order-{i}") for i in range(20)])
        first = read_all(bootstrap, out, 20, timeout=60)
        assert sorted(first) == sorted((f"c{i}".encode(), f"order-{i} for name-{i}".encode()) for i in range(20))
        produce_pairs(bootstrap, customers, [("c0", "renamed")])  # picked up by the global thread while running
        # wait for the store itself: the global thread counts the records it read before it puts them
        deadline = time.monotonic() + 30
        while streams.store("customers").get("c0") != "renamed":
            assert time.monotonic() < deadline, (streams.global_state.records, streams.store("customers").get("c0"))
            time.sleep(0.05)
        produce_pairs(bootstrap, orders, [("c0", "order-x")])
        assert (b"c0", b"order-x for renamed") in read_all(bootstrap, out, 21, timeout=60)
    finally:
        assert streams.close(60)
    assert (tmp_path / streams.config.application_id / "global" / ".checkpoint").exists()
