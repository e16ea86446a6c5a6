"""StreamsConfig: Kafka Streams' keys and defaults, and the client configs derived from them."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime import StreamsConfig

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


def test_commit_interval_defaults_like_kafka():
    assert StreamsConfig(BASE).commit_interval_ms == 30_000
    eos = StreamsConfig({**BASE, "processing.guarantee": "exactly_once_v2"})
    assert eos.eos and eos.commit_interval_ms == 100
    assert StreamsConfig({**BASE, "commit.interval.ms": "250"}).commit_interval_ms == 250


@pytest.mark.parametrize("bad, message", [
    ({"application.id": ""}, "application.id is required"),
    ({"processing.guarantee": "exactly_twice"}, "processing.guarantee must be one of"),
    ({"num.stream.threads": "0"}, "num.stream.threads must be >= 1"),
    ({"commit.interval.ms": "soon"}, "commit.interval.ms must be an integer"),
])
def test_bad_values_name_the_key(bad, message):
    with pytest.raises(ConfigError, match=message):
        StreamsConfig({**BASE, **bad})


def test_bootstrap_servers_are_checked_at_start_not_construction():
    cfg = StreamsConfig({"application.id": "app"})
    with pytest.raises(ConfigError, match="bootstrap.servers is required"):
        cfg.require_bootstrap()


def test_client_configs():
    cfg = StreamsConfig({**BASE, "processing.guarantee": "exactly_once_v2", "consumer.session.timeout.ms": 6000,
                         "producer.linger.ms": 5})
    consumer = cfg.main_consumer_config("c")
    assert consumer["group.id"] == "app" and consumer["enable.auto.commit"] is False
    assert consumer["isolation.level"] == "read_committed"
    assert "partition.assignment.strategy" not in consumer  # it never subscribes: our membership assigns it
    assert consumer["session.timeout.ms"] == 6000  # consumer.-prefixed keys reach the consumer
    producer = cfg.producer_config("p", "app-x-0")
    assert producer["partitioner"] == "murmur2_random"  # Java's default partitioner for keyed records
    assert producer["transactional.id"] == "app-x-0" and producer["linger.ms"] == 5
    assert StreamsConfig(BASE).main_consumer_config("c")["isolation.level"] == "read_uncommitted"


def test_the_removed_librdkafka_assignor_is_refused_with_why():
    with pytest.raises(ConfigError, match="pystreams.assignor=librdkafka was removed: pystreams runs the consumer "
                                          "group itself"):
        StreamsConfig({**BASE, "pystreams.assignor": "librdkafka"})
    with pytest.raises(ConfigError, match="must be 'streams'"):
        StreamsConfig({**BASE, "pystreams.assignor": "range"})
    assert StreamsConfig({**BASE, "pystreams.assignor": "Streams"}).assignor == "streams"
    assert StreamsConfig(BASE).assignor == "streams"


def test_consumers_default_a_short_fetch_queue_backoff_that_user_keys_override():
    # librdkafka's 1000 ms wait after a full prefetch queue capped 1M stateless at ~112k rec/s (Java has no such wait)
    cfg = StreamsConfig(BASE)
    assert cfg.main_consumer_config("c")["fetch.queue.backoff.ms"] == 50
    assert cfg.restore_consumer_config("r")["fetch.queue.backoff.ms"] == 50
    consumer_wide = StreamsConfig({**BASE, "consumer.fetch.queue.backoff.ms": 200})
    assert consumer_wide.main_consumer_config("c")["fetch.queue.backoff.ms"] == 200
    assert consumer_wide.restore_consumer_config("r")["fetch.queue.backoff.ms"] == 200
    main_only = StreamsConfig({**BASE, "main.consumer.fetch.queue.backoff.ms": 1000})
    assert main_only.main_consumer_config("c")["fetch.queue.backoff.ms"] == 1000
    assert main_only.restore_consumer_config("r")["fetch.queue.backoff.ms"] == 50
    restore_only = StreamsConfig({**BASE, "restore.consumer.fetch.queue.backoff.ms": 10})
    assert restore_only.restore_consumer_config("r")["fetch.queue.backoff.ms"] == 10
    assert restore_only.main_consumer_config("c")["fetch.queue.backoff.ms"] == 50
