"""Interactive queries that fall back to standbys, across three instances (two in this process, one a `pystreams
run` process) on both brokers, with num.standby.replicas=1: query_metadata_for_key names each key's standby host;
streams.store(StoreQueryParameters...enable_stale_stores()) reads a standby copy locally (the plain store() does
not); after the instance holding a key's active task is SIGKILLed (its group session has not expired yet, so the
metadata still names it), a query without allow_stale fails to reach it, and with allow_stale the value comes from
the standby: over HTTP from another instance, locally on the standby's own instance, and from the plain JSON
endpoint with stale=true."""
from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.queries import (
    HostInfo,
    InvalidStateStoreError,
    StoreQueryParameters,
)
from pystreams.runtime.remote_queries import RemoteQueryError, query_key
from pystreams.state.queryable import QueryableStoreTypes
from tests.integration.runtime.helpers import (
    WORDS,
    create_topics,
    free_port,
    read_counts_until,
    unique,
)
from tests.integration.runtime.instances import ROOT, Instance

pytestmark = pytest.mark.integration

STORE = "word-counts"
PARTITIONS = 6  # one sub-topology, 6 stateful tasks: each of the 3 instances runs some and keeps standbys of others
APP = '''
import os
from tests.integration.runtime.test_iq_standby import counting_topology
topology = counting_topology(os.environ["IQ_SOURCE"], os.environ["IQ_SINK"])
'''


def counting_topology(source: str, sink: str) -> object:
    """Words as keys, counted per key: every task has the store (no repartition, no stateless tasks)."""
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .count(Materialized(name=STORE))
        .to_stream()
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


def _stale(name: str = STORE) -> StoreQueryParameters:
    return StoreQueryParameters.from_name_and_type(name, QueryableStoreTypes.key_value_store()).enable_stale_stores()


def _stale_get(app: KafkaStreams, word: str) -> object:
    try:
        return app.store(_stale()).get(word)
    except InvalidStateStoreError:  # no local copy yet (rebalancing)
        return None


def _active_get(app: KafkaStreams, word: str) -> object:
    try:
        return app.query(STORE, word, Serdes.String())
    except InvalidStateStoreError:  # the active task is still restoring there (rebalancing)
        return None


def test_queries_fall_back_to_a_standby_when_the_active_instance_is_down(kafka_broker, tmp_path: Path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("iq-standby"), unique("words"), unique("counts")
    create_topics(bootstrap, PARTITIONS, source, sink)
    rng = random.Random(21)
    words = [rng.choice(WORDS) + str(rng.randint(0, 9)) for _ in range(600)]
    # murmur2 as Kafka's (and pystreams') default partitioner: the key's partition is the one the metadata computes
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random"})
    for word in words:
        producer.produce(source, key=word.encode(), value=b"1")
    assert producer.flush(30) == 0
    expected = dict(Counter(words))
    script = tmp_path / "iq_app.py"
    script.write_text(APP)
    env = {**os.environ, "IQ_SOURCE": source, "IQ_SINK": sink, "PYTHONPATH": str(ROOT)}
    hosts = [HostInfo("127.0.0.1", free_port()) for _ in range(3)]  # [A, C] here, B the process
    local_hosts, dead_host = hosts[:2], hosts[2]
    apps = [KafkaStreams(counting_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
        "commit.interval.ms": 100, "application.server": str(host), "num.standby.replicas": 1,
        "consumer.session.timeout.ms": 10000}) for i, host in enumerate(local_hosts)]
    other = Instance(script, bootstrap, app_id, tmp_path / "s2", env,
                     {"application.server": str(dead_host), "num.standby.replicas": "1", "commit.interval.ms": "100",
                      "consumer.session.timeout.ms": "45000"})  # its tasks stay assigned to it for 45 s after a kill
    try:
        for app in apps:
            app.start()
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
        by_host = dict(zip(local_hosts, apps))
        deadline = time.monotonic() + 90
        while True:  # settled: every key has an active and a standby host, the local standbys are caught up
            metas = {w: apps[0].query_metadata_for_key(STORE, w, Serdes.String()) for w in expected}
            settled = all(app.state is State.RUNNING for app in apps) and all(
                m.active_host in hosts and len(m.standby_hosts) == 1 and m.active_host not in m.standby_hosts
                for m in metas.values())
            if settled:
                caught_up = all(_stale_get(by_host[h], w) == expected[w]
                                for w, m in metas.items() for h in m.standby_hosts if h in by_host)
                if caught_up and any(m.active_host == dead_host for m in metas.values()) and all(
                        _active_get(apps[0], w) == expected[w] for w in expected):  # every active task running
                    break
            assert time.monotonic() < deadline, ({w: (str(m.active_host), sorted(map(str, m.standby_hosts)))
                                                  for w, m in metas.items()}, [a.state for a in apps],
                                                 other.output())
            time.sleep(0.3)
        assert metas == {w: apps[1].query_metadata_for_key(STORE, w, Serdes.String()) for w in expected}
        on_dead = {w: m for w, m in metas.items() if m.active_host == dead_host}
        for word, meta in on_dead.items():  # before the kill: the plain store() has no standby copy, stale has
            (standby_host,) = meta.standby_hosts
            standby = by_host[standby_host]
            assert standby.store(STORE).get(word) is None
            assert standby.store(_stale().with_partition(meta.partition)).get(word) == expected[word]
            assert standby.query(STORE, word, Serdes.String()) == expected[word]  # the active over HTTP
        other.kill()
        started = time.monotonic()
        for word, meta in on_dead.items():
            (standby_host,) = meta.standby_hosts
            standby = by_host[standby_host]
            caller = by_host[next(h for h in local_hosts if h != standby_host)]
            if word == next(iter(on_dead)):
                # the active host is unreachable and the metadata keeps naming it: a clear error once the call's
                # time budget is spent (the helper waits for new metadata meanwhile; once is enough)
                with pytest.raises(RemoteQueryError, match="cannot query store .* still names only"):
                    caller.query(STORE, word, Serdes.String(), timeout=0.5)
            assert query_key(caller, STORE, word, Serdes.String(), allow_stale=True) == expected[word]  # HTTP
            assert query_key(standby, STORE, word, Serdes.String(), allow_stale=True) == expected[word]  # local
            # curl-style plain JSON endpoint on the standby: stale=true reads its copy; the plain read does not hold
            # the key's partition: 503 (retryable), not a 200 null that would look like an absent key
            url = f"http://{standby_host}/v1/stores/{STORE}?key={urllib.parse.quote(json.dumps(word))}"
            assert json.loads(urllib.request.urlopen(url + "&stale=true", timeout=10).read())["value"] == expected[word]
            with pytest.raises(urllib.error.HTTPError) as unavailable:
                urllib.request.urlopen(url, timeout=10)
            assert unavailable.value.code == 503 and unavailable.value.headers["Retry-After"] == "1"
        # all of it happened while the dead instance still held its tasks (no rebalance moved them yet)
        assert time.monotonic() - started < 40
        assert apps[0].query_metadata_for_key(STORE, next(iter(on_dead)), Serdes.String()).active_host == dead_host
    finally:
        other.kill()
        for app in apps:
            app.close(60)
