"""Interactive queries on a window store, on both brokers: a windowed count over 2 partitions queried through the
composite read-only window view (fetch, backward_fetch, fetch_all, all, key ranges), plain and timestamped."""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder, TimeWindows
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.queries import (
    InvalidStateStoreError,
    query_remote_window,
)
from pystreams.state.api import ValueAndTimestamp
from pystreams.state.queryable import QueryableStoreTypes
from tests.integration.runtime.helpers import create_topics, served_instances, unique

pytestmark = pytest.mark.integration

WINDOW_STORE = QueryableStoreTypes.window_store()
TIMESTAMPED_WINDOW_STORE = QueryableStoreTypes.timestamped_window_store()

# Event times of the last hours, a whole hour (so window starts are multiples of the window size): a window
# store's changelog is compact,delete with retention.ms = store retention + 1 day, as Kafka creates it, so a
# broker's retention check deletes changelog records with timestamps from long ago (a fixed 2023 BASE lost
# windows on Apache Kafka whenever its 5-minute retention check ran during the test).
BASE = (int(time.time()) // 3600 - 2) * 3_600_000
SIZE = 10_000


def _topology(source: str):
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
     .group_by_key()
     # grace keeps all 3 windows within the store's retention (size + grace) for the queries
     .windowed_by(TimeWindows.of_size_and_grace(timedelta(milliseconds=SIZE), timedelta(minutes=1)))
     .count(Materialized(name="win-counts")))
    return builder.build()


def test_window_store_queries_across_local_tasks(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("wiq"), unique("clicks")
    create_topics(bootstrap, 2, source)
    events = [(f"k{i % 5}", BASE + (i % 3) * SIZE + i) for i in range(60)]  # 5 keys x 3 windows, out of order
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, ts in events:
        producer.produce(source, key=key.encode(), value=b"x", timestamp=ts)
    producer.flush(30)
    expected = Counter((key, BASE + (ts - BASE) // SIZE * SIZE) for key, ts in events)
    app = KafkaStreams(_topology(source), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                           "state.dir": str(tmp_path), "commit.interval.ms": 100,
                                           "statestore.cache.max.bytes": 0})
    try:
        app.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                if app.state is State.RUNNING:
                    view = app.store("win-counts", WINDOW_STORE)
                    got = {(w.key, w.window.start): c for w, c in view.fetch_all(BASE, BASE + 10 * SIZE)}
                    if got == expected:
                        break
            except InvalidStateStoreError:
                pass
            assert time.monotonic() < deadline, app.state
            time.sleep(0.2)
        assert sum(len(t.tasks) for t in app.threads) == 2  # the view spans both partitions' tasks
        starts = [BASE, BASE + SIZE, BASE + 2 * SIZE]
        for key in ("k0", "k3"):
            assert list(view.fetch(key, BASE, BASE + 2 * SIZE)) == [(s, expected[(key, s)]) for s in starts]
            assert list(view.backward_fetch(key, BASE, BASE + 2 * SIZE)) == [(s, expected[(key, s)])
                                                                               for s in reversed(starts)]
            assert list(view.fetch(key, BASE + SIZE, BASE + SIZE)) == [(BASE + SIZE, expected[(key, BASE + SIZE)])]
            assert view.fetch(key, BASE + SIZE) == expected[(key, BASE + SIZE)]  # one window by its start
        assert view.fetch("nobody", BASE) is None and list(view.fetch("nobody", BASE, BASE + SIZE)) == []
        assert len(list(view.all())) == len(expected) == len(list(view.backward_all()))
        one_window = {(w.key, w.window.start): c for w, c in view.backward_fetch_all(BASE + SIZE, BASE + SIZE)}
        assert one_window == {k: c for k, c in expected.items() if k[1] == BASE + SIZE}
        ranged = {(w.key, w.window.start) for w, _ in view.fetch_key_range("k1", "k2", BASE, BASE + 2 * SIZE)}
        assert ranged == {k for k in expected if k[0] in ("k1", "k2")}
        stamped = list(app.store("win-counts", TIMESTAMPED_WINDOW_STORE).fetch("k1", BASE, BASE))
        assert len(stamped) == 1 and isinstance(stamped[0][1], ValueAndTimestamp)
        assert stamped[0][1].value == expected[("k1", BASE)]
        assert BASE <= stamped[0][1].timestamp < BASE + SIZE  # the latest record's timestamp in that window
        with pytest.raises(InvalidStateStoreError, match="window store"):
            app.store("win-counts", QueryableStoreTypes.key_value_store())
    finally:
        app.close(60)


def test_window_queries_reach_the_instance_holding_the_key(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("wiq2"), unique("clicks")
    create_topics(bootstrap, 4, source)
    events = [(f"user-{i % 12}", BASE + (i % 2) * SIZE + i) for i in range(96)]
    # Java's partitioner (murmur2), which query_metadata_for_key assumes; librdkafka's default is CRC32
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for key, ts in events:
        producer.produce(source, key=key.encode(), value=b"x", timestamp=ts)
    producer.flush(30)
    expected = Counter((key, BASE + (ts - BASE) // SIZE * SIZE) for key, ts in events)
    hosts, apps = served_instances(lambda: _topology(source), 2, app_id, bootstrap, tmp_path,
                                   **{"statestore.cache.max.bytes": 0})
    try:
        for app in apps:
            app.start()
        deadline = time.monotonic() + 60
        while True:
            got: dict = {}
            try:
                held = [sum(len(t.tasks) for t in a.threads) for a in apps]
                # both hold tasks (not necessarily 2 + 2: a 3 + 1 split is a valid assignment too)
                if all(a.state is State.RUNNING for a in apps) and min(held) >= 1 and sum(held) == 4:
                    for a in apps:
                        got.update({(w.key, w.window.start): c for w, c in a.store("win-counts", WINDOW_STORE).all()})
            except InvalidStateStoreError:
                pass
            if got == expected:
                break
            assert time.monotonic() < deadline, ([a.state for a in apps], [sorted(t.tasks for t in a.threads)
                                                                           for a in apps], len(got), len(expected))
            time.sleep(0.2)
        holders = set()
        for key in sorted({k for k, _ in events}):
            want = [(s, expected[(key, s)]) for s in (BASE, BASE + SIZE) if (key, s) in expected]
            assert want
            meta = apps[0].query_metadata_for_key("win-counts", key, Serdes.String())
            holders.add(meta.active_host)
            for app in apps:  # locally on the holder, over HTTP on the other one
                assert app.query_window("win-counts", key, BASE, BASE + SIZE, Serdes.String()) == want, key
            later = [(s, c) for s, c in want if s == BASE + SIZE]
            assert query_remote_window(meta.active_host, "win-counts", key, BASE + SIZE, BASE + SIZE) == later
        assert holders == set(hosts)
        bad = f"http://{hosts[0]}/v1/stores/win-counts?key=%22user-1%22&from=soon"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=10)
        assert err.value.code == 400
    finally:
        for app in apps:
            app.close(60)
