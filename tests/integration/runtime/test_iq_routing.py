"""Interactive-query routing on a real broker (both brokers): a source table filled by confluent-kafka's default
producer (librdkafka consistent_random, CRC32) is found with a StreamPartitioner (Kafka's queryMetadataForKey
overload) from either instance; the plain JSON endpoint answers 503 with Retry-After, not 200 null, for a key whose
partition the asked instance does not hold; the application.server endpoint binds to the advertised host and can be
switched off (advertised only)."""
from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.partitioning import default_partition
from pystreams.runtime.queries import (
    HostInfo,
    InvalidStateStoreError,
    producer_partitioner,
)
from tests.integration.runtime.helpers import create_topics, free_port, unique

pytestmark = pytest.mark.integration

KEYS = [f"user-{i}" for i in range(40)]


def _table_app(bootstrap: str, app_id: str, source: str, state_dir: Any, **extra: Any) -> KafkaStreams:
    builder = StreamsBuilder()
    builder.table(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()),
                  Materialized(name="users-store"))
    return KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                          "state.dir": str(state_dir), "commit.interval.ms": 100,
                                          "consumer.session.timeout.ms": 10000, **extra})


def _entries(apps: list[KafkaStreams]) -> int:
    try:
        return sum(app.store("users-store").approximate_num_entries() for app in apps)
    except InvalidStateStoreError:  # a store mid-rebalance: look again
        return -1


def _wait_loaded(apps: list[KafkaStreams], tasks: int, entries: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        held = [sum(len(t.tasks) for t in app.threads) for app in apps]
        running = all(app.state is State.RUNNING for app in apps) and sum(held) == tasks and min(held) >= 1
        if running and _entries(apps) >= entries:
            return
        assert time.monotonic() < deadline, ([a.state for a in apps], held)
        time.sleep(0.1)


def _get(url: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


def _placements(bootstrap: str, topic: str, **config: Any) -> dict[str, int]:
    """Partition of each of KEYS as a confluent-kafka producer with that config placed it."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    placed: dict[str, int] = {}

    def delivered(err: Any, msg: Any) -> None:
        assert err is None
        placed[msg.key().decode()] = msg.partition()

    for key in KEYS:
        producer.produce(topic, key=key.encode(), value=f"v-{key}".encode(), on_delivery=delivered)
    assert producer.flush(30) == 0
    return placed


def test_producer_partitioner_matches_librdkafka_for_each_keyed_partitioner(kafka_broker):
    bootstrap = kafka_broker.bootstrap_servers
    topic = unique("placed")
    create_topics(bootstrap, 7, topic)
    for name in ("consistent_random", "murmur2_random", "fnv1a_random"):
        ours = producer_partitioner(Serdes.String(), name)
        assert _placements(bootstrap, topic, partitioner=name) == {k: ours(topic, k, None, 7) for k in KEYS}, name


def test_keys_of_a_default_confluent_kafka_producer_are_found_with_a_stream_partitioner(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("iqp"), unique("users")
    create_topics(bootstrap, 4, source)
    placed = _placements(bootstrap, source)  # librdkafka's default partitioner
    crc = producer_partitioner(Serdes.String())  # consistent_random
    assert placed == {k: crc(source, k, None, 4) for k in KEYS}  # librdkafka placed them by CRC32, as we compute
    misplaced = [k for k in KEYS if placed[k] != default_partition(k.encode(), 4)]
    assert misplaced  # murmur2 would look elsewhere for these

    hosts = [HostInfo("127.0.0.1", free_port()) for _ in range(2)]
    apps = [_table_app(bootstrap, app_id, source, tmp_path / f"s{i}", **{"application.server": str(h)})
            for i, h in enumerate(hosts)]
    try:
        for app in apps:
            app.start()
        _wait_loaded(apps, 4, len(KEYS))
        for key in KEYS:
            meta = apps[0].query_metadata_for_key("users-store", key, Serdes.String(), crc)
            assert meta.partition == placed[key] and meta.active_host in hosts
            for app in apps:  # locally or over HTTP, pinned to the producer's partition
                assert app.query("users-store", key, Serdes.String(), partitioner=crc) == f"v-{key}"
        # without the partitioner a misplaced key is looked up in its murmur2 partition, where it is not
        assert apps[0].query("users-store", misplaced[0], Serdes.String()) is None

        # the plain JSON endpoint: a key asked of the instance that does not hold its partition is 503, not null
        key = next(k for k in KEYS if k not in misplaced)  # placed by CRC32 where murmur2 would place it too
        owner = apps[0].query_metadata_for_key("users-store", key, Serdes.String()).active_host  # murmur2
        other = hosts[1 - hosts.index(owner)]
        quoted = urllib.parse.quote(json.dumps(key))
        status, body, headers = _get(f"http://{other}/v1/stores/users-store?key={quoted}")
        assert (status, body["code"], headers.get("Retry-After")) == (503, "UNAVAILABLE", "1"), body
        status, body, _ = _get(f"http://{owner}/v1/stores/users-store?key={quoted}")
        assert (status, body["value"]) == (200, f"v-{key}")
        pinned = f"http://{{}}/v1/stores/users-store?key={quoted}&partition={placed[key]}"
        crc_owner = apps[0].query_metadata_for_key("users-store", key, Serdes.String(), crc).active_host
        assert _get(pinned.format(crc_owner))[:2] == (200, {"store": "users-store", "key": key,
                                                            "value": f"v-{key}", "host": str(crc_owner)})
        raw_key = base64.urlsafe_b64encode(key.encode()).decode()
        murmur = default_partition(key.encode(), 4)
        status, body, headers = _get(f"http://{other}/v1/raw/users-store?key={raw_key}&partition={murmur}")
        assert (status, body["code"], headers.get("Retry-After")) == (503, "UNAVAILABLE", "1")  # pinned: not held
        assert _get(f"http://{owner}/v1/raw/users-store?key={raw_key}&partition={murmur}")[:2] == (
            200, {"value": base64.urlsafe_b64encode(f"v-{key}".encode()).decode()})
        assert _get(f"http://{owner}/v1/stores/nope?key={quoted}")[0] == 404
        assert _get(f"http://{owner}/v1/stores/users-store?key=%5B1%5D")[0] == 400
        assert _get(f"http://{owner}/v1/raw/users-store?key=%25%25%25")[0] == 400  # not base64url
    finally:
        for app in apps:
            app.close(60)


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def test_the_endpoint_binds_to_the_advertised_host_and_can_be_switched_off(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("iqh"), unique("users")
    create_topics(bootstrap, 1, source)
    port = free_port()
    app = _table_app(bootstrap, app_id, source, tmp_path / "a", **{"application.server": f"127.0.0.2:{port}"})
    try:
        app.start()
        assert _listening("127.0.0.2", port)      # the advertised address
        assert not _listening("127.0.0.1", port)  # not every interface (it was 0.0.0.0)
    finally:
        app.close(30)
    off_port = free_port()
    app = _table_app(bootstrap, unique("iqh"), source, tmp_path / "b", **{
        "application.server": f"127.0.0.1:{off_port}", "pystreams.iq.http.enabled": "false"})
    try:
        app.start()
        deadline = time.monotonic() + 60
        while not app.metadata_for_all_streams_clients():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [m.host_info for m in app.metadata_for_all_streams_clients()] == [HostInfo("127.0.0.1", off_port)]
        assert not _listening("127.0.0.1", off_port)  # advertised only: the app may serve its own REST layer there
    finally:
        app.close(30)
