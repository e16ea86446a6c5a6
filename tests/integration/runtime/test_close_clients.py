"""What a KafkaStreams leaves after close(): no live Kafka client (a librdkafka instance kept alive reconnects and logs,
e.g. `pystreams run` printed "Connection refused" from the app's AdminClient after "closed cleanly" once its embedded
broker stopped), and the client id it ran with: Kafka's `<application.id>-<processId>` with the process id kept in
the state directory, the same after a restart."""
from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration


def _reachable(root: Any) -> Iterator[Any]:
    """Objects reachable from root through pystreams objects and containers (not modules, classes or functions,
    which would lead to everything else in the process)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, (dict, list, tuple, set, frozenset)) or type(obj).__module__.startswith("pystreams"):
            todo.extend(gc.get_referents(obj))


def _live_clients(streams: KafkaStreams) -> list[str]:
    live = []
    for obj in _reachable(streams):
        if isinstance(obj, AdminClient):  # no close(): alive while referenced
            live.append("AdminClient")
        elif isinstance(obj, (Producer, Consumer)):
            try:
                obj.poll(0) if isinstance(obj, Producer) else obj.assignment()
                live.append(type(obj).__name__)
            except RuntimeError:  # "Producer has been closed" / "Consumer closed"
                pass
    return live


def _app(bootstrap: str, tmp_path: Any, app_id: str, source: str, sink: str) -> KafkaStreams:
    return KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 100, "repartition.purge.interval.ms": 0})  # purging: the admin is used


def test_a_closed_app_holds_no_live_kafka_client(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-close"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    lines = random_lines(8, 50)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    streams = _app(bootstrap, tmp_path, app_id, source, sink)
    try:
        streams.start()
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        assert "AdminClient" in _live_clients(streams)  # the check sees the clients of a running app
    finally:
        assert streams.close(60)
    assert streams.state is State.NOT_RUNNING
    assert _live_clients(streams) == []


def test_close_then_broker_stop_logs_nothing_from_the_app(pystreams_broker_factory, tmp_path, capfd):
    broker = pystreams_broker_factory()
    bootstrap = broker.bootstrap_servers
    app_id, source, sink = unique("wc-quiet"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    streams = _app(bootstrap, tmp_path, app_id, source, sink)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
    finally:
        assert streams.close(60)
    capfd.readouterr()
    broker.close()  # as `pystreams run` stops its embedded broker after closing the app
    time.sleep(1.5)  # a client still alive would log its disconnect and then its failed reconnects here
    err = capfd.readouterr().err
    assert "Disconnected" not in err and "Connection refused" not in err, err


def test_client_id_carries_the_persisted_process_id(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-cid"), unique("text"), unique("counts")
    create_topics(bootstrap, 1, source, sink)
    ids, took, admins = [], [], set()
    for _ in range(2):
        streams = _app(bootstrap, tmp_path, app_id, source, sink)
        try:
            started = time.monotonic()
            streams.start()
            assert streams.wait_for_state(State.RUNNING, timeout=60)
            took.append(time.monotonic() - started)
            ids.append((streams.client_id, [t.name for t in streams.threads]))
            admins.update(m.admin_client_id for m in streams.metadata_for_local_threads())
        finally:
            assert streams.close(60)
    # the first close left the group (LeaveGroup): the restart does not wait session.timeout.ms (45 s) for it
    assert took[1] < 20, took
    with open(tmp_path / app_id / "kafka-streams-process-metadata", encoding="utf-8") as f:
        process_id = json.load(f)["processId"]
    client_id = f"{app_id}-{process_id}"
    assert ids == [(client_id, [f"{client_id}-StreamThread-1"])] * 2  # the same after the restart
    assert admins == {f"{client_id}-admin"}  # Kafka's ClientUtils.adminClientId, not librdkafka's "rdkafka"
    configured = KafkaStreams(wordcount_topology(source, sink), {"application.id": app_id, "client.id": "mine",
                                                                 "bootstrap.servers": bootstrap})
    assert configured.client_id == "mine"  # a configured client.id is kept as given
