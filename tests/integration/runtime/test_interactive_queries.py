"""Interactive queries across two instances: local stores, which instance holds a key, remote queries over the
application.server HTTP endpoint, and Prometheus /metrics there; hosts come from the Streams assignment (plus
StreamsMetadata)."""
from __future__ import annotations

import time
import urllib.request

import pytest

from pystreams import Serdes
from pystreams.runtime import State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    served_instances,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration


def test_queries_find_every_key_on_either_instance(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("iq"), unique("text"), unique("counts")
    create_topics(bootstrap, 4, source, sink)
    lines = random_lines(9, 300)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    hosts, apps = served_instances(lambda: wordcount_topology(source, sink), 2, app_id, bootstrap, tmp_path)
    try:
        for app in apps:
            app.start()
        deadline = time.monotonic() + 60
        while True:  # both RUNNING, each with a task of the store: any split of the 8 (4 + 4, or e.g. 5 + 3)
            held = [sum(len(t.tasks) for t in app.threads) for app in apps]
            stateful = [sum(1 for t in app.threads for at in list(t.tasks.values()) if at.task.stores)
                        for app in apps]
            if all(app.state is State.RUNNING for app in apps) and min(stateful) >= 1 and sum(held) == 8:
                break
            assert time.monotonic() < deadline, ([a.state for a in apps], held, stateful)
            time.sleep(0.1)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        owners = set()
        for word, count in expected.items():
            meta = apps[0].query_metadata_for_key("word-counts", word, Serdes.String())
            assert meta == apps[1].query_metadata_for_key("word-counts", word, Serdes.String())
            assert meta.active_host in hosts
            owners.add(meta.active_host)
            owner = apps[hosts.index(meta.active_host)]
            other = apps[1 - hosts.index(meta.active_host)]
            assert owner.store("word-counts").get(word) == count  # local view, plain values
            assert other.store("word-counts").get(word) is None   # not held there
            assert apps[0].query("word-counts", word, Serdes.String()) == count  # local or over HTTP
            assert apps[1].query("word-counts", word, Serdes.String()) == count
        assert owners == set(hosts)
        clients = apps[0].metadata_for_all_streams_clients()
        assert clients == apps[1].metadata_for_all_streams_clients()
        assert {c.host_info for c in clients} == set(hosts)
        assert all(c.state_store_names == {"word-counts"} for c in clients)
        held = sorted(tp for c in clients for tp in c.topic_partitions)
        assert len(held) == len(set(held)) == 8  # 4 source + 4 repartition partitions, each held once
        assert apps[0].streams_metadata_for_store("word-counts") == [c for c in clients if c.state_store_names]
        processed = 0.0
        for host in hosts:  # either instance may have done all the work (it joined first): look at both
            metrics = urllib.request.urlopen(f"http://{host}/metrics", timeout=10).read().decode()
            lines = [line for line in metrics.splitlines()
                     if line.startswith("kafka_streams_stream_thread_process_total{")]
            assert lines
            processed += sum(float(line.rsplit(" ", 1)[1]) for line in lines)
            assert "kafka_consumer_records_lag" in metrics and "kafka_streams_stream_thread_commit_rate" in metrics
        assert processed > 0
    finally:
        for app in apps:
            app.close(60)
