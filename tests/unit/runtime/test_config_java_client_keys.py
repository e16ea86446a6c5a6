"""Java client keys in a Kafka Streams config (audit s7 H4): translated to librdkafka's name where it has the same
setting, dropped with one warning where it has none, and anything librdkafka refuses is a ConfigError naming the
user's key when StreamsConfig is built (the clients are validated once, without a broker), not a stream thread
that dies after start()."""
from __future__ import annotations

import logging

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime import client_config
from pystreams.runtime import config as config_module
from pystreams.runtime.config import StreamsConfig

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(client_config, "_warned_dropped", set())
    monkeypatch.setattr(config_module, "_warned_keys", set())


def consumers(cfg: StreamsConfig) -> list[dict]:
    return [cfg.main_consumer_config("c"), cfg.restore_consumer_config("c"), cfg.global_consumer_config("c")]


@pytest.mark.parametrize("key", ["producer.max.request.size", "max.request.size"])
def test_max_request_size_is_message_max_bytes_of_the_producer_only(key):
    cfg = StreamsConfig({**BASE, key: 2_000_000})
    producer = cfg.producer_config("p")
    assert producer["message.max.bytes"] == 2_000_000 and "max.request.size" not in producer
    for consumer in consumers(cfg):
        assert "message.max.bytes" not in consumer and "max.request.size" not in consumer


@pytest.mark.parametrize("key", ["consumer.fetch.max.wait.ms", "fetch.max.wait.ms"])
def test_fetch_max_wait_ms_is_fetch_wait_max_ms_of_every_consumer(key):
    cfg = StreamsConfig({**BASE, key: 321})
    for consumer in consumers(cfg):
        assert consumer["fetch.wait.max.ms"] == 321 and "fetch.max.wait.ms" not in consumer
    assert "fetch.wait.max.ms" not in cfg.producer_config("p")


def test_a_prefixed_translation_reaches_only_its_consumer():
    cfg = StreamsConfig({**BASE, "restore.consumer.fetch.max.wait.ms": 7})
    assert cfg.restore_consumer_config("c")["fetch.wait.max.ms"] == 7
    assert cfg.main_consumer_config("c").get("fetch.wait.max.ms") != 7


@pytest.mark.parametrize("key", ["producer.buffer.memory", "buffer.memory"])
def test_buffer_memory_is_queue_buffering_max_kbytes(key):
    cfg = StreamsConfig({**BASE, key: "33554432"})
    producer = cfg.producer_config("p")
    assert producer["queue.buffering.max.kbytes"] == 32_768 and "buffer.memory" not in producer
    small = StreamsConfig({**BASE, key: 100}).producer_config("p")
    assert small["queue.buffering.max.kbytes"] == 1  # librdkafka's minimum, not 0


def test_librdkafkas_own_spelling_wins_over_the_translated_java_key():
    cfg = StreamsConfig({**BASE, "producer.max.request.size": 2_000_000, "producer.message.max.bytes": 3_000_000})
    assert cfg.producer_config("p")["message.max.bytes"] == 3_000_000


def test_a_translated_key_that_is_not_a_number_is_a_config_error():
    with pytest.raises(ConfigError, match="Invalid value lots for configuration buffer.memory"):
        StreamsConfig({**BASE, "producer.buffer.memory": "lots"})


@pytest.mark.parametrize("key", ["producer.max.block.ms", "max.block.ms", "consumer.default.api.timeout.ms",
                                 "admin.default.api.timeout.ms", "main.consumer.default.api.timeout.ms",
                                 "producer.key.serializer", "consumer.value.deserializer",
                                 "producer.compression.zstd.level"])
def test_keys_librdkafka_does_not_have_are_dropped_with_one_warning(key, caplog):
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        cfg = StreamsConfig({**BASE, key: "1000"})
        StreamsConfig({**BASE, key: "1000"})
    java = key
    for prefix in ("main.consumer.", "producer.", "consumer.", "admin."):
        java = java.removeprefix(prefix)
    built = [cfg.producer_config("p"), *consumers(cfg), cfg.admin_config("a")]
    assert all(java not in conf for conf in built)
    assert cfg.get(key) == "1000"  # still readable (max.block.ms bounds the exactly_once_v2 commit)
    dropped = [r.getMessage() for r in caplog.records if "no librdkafka equivalent" in r.getMessage()]
    if key == "max.block.ms":  # unprefixed: read by pystreams, never offered to a client, so nothing to drop
        assert dropped == []
    else:
        assert len(dropped) == 1 and f"'{java}'" in dropped[0]


@pytest.mark.parametrize("key, value, named", [
    ("producer.partitioner.class", "x.Y", "producer.partitioner.class"),
    ("consumer.interceptor.classes", "x.Y", "consumer.interceptor.classes"),
    ("admin.security.providers", "x.Y", "admin.security.providers"),
    ("producer.compression.type", "brotli", "producer.compression.type"),
])
def test_what_librdkafka_refuses_is_a_config_error_naming_the_users_key(key, value, named):
    with pytest.raises(ConfigError) as info:
        StreamsConfig({**BASE, key: value})
    assert str(info.value).startswith(f"{named}: ") and "librdkafka" in str(info.value)


def test_limits_across_keys_are_left_to_the_clients_at_start():
    """fetch.max.bytes below message.max.bytes (or an ssl file that is not there yet) depends on the whole config
    or the machine: librdkafka reports it when the clients are made, as before."""
    cfg = StreamsConfig({**BASE, "consumer.fetch.max.bytes": 1})
    assert cfg.main_consumer_config("c")["fetch.max.bytes"] == 1


@pytest.mark.parametrize("key, value", [("acks", "1"), ("producer.acks", 0), ("producer.retries", 0),
                                        ("producer.max.in.flight.requests.per.connection", 10)])
def test_settings_that_conflict_with_idempotence_turn_it_off_under_at_least_once(key, value):
    """Kafka's ProducerConfig: idempotence is on by default but off when acks, in-flight or retries conflict and
    the user did not ask for it (librdkafka would refuse the producer)."""
    assert StreamsConfig({**BASE, key: value}).producer_config("p")["enable.idempotence"] is False
    assert StreamsConfig(BASE).producer_config("p")["enable.idempotence"] is True
    asked = StreamsConfig({**BASE, key: value, "producer.enable.idempotence": "true"}).producer_config("p")
    assert str(asked["enable.idempotence"]).lower() == "true"  # asked for: kept (librdkafka's limit applies)


def test_common_java_client_keys_build_every_client():
    """The keys Kafka Streams apps commonly set (audit p6's list), all at once: StreamsConfig validates the
    five clients with librdkafka, so building it is the check."""
    cfg = StreamsConfig({**BASE, "producer.batch.size": 32768, "producer.delivery.timeout.ms": 120000,
                         "producer.request.timeout.ms": 30000, "producer.retries": 5, "producer.linger.ms": 5,
                         "producer.compression.type": "lz4", "producer.acks": "all",
                         "producer.max.in.flight.requests.per.connection": 5, "producer.max.request.size": 2097152,
                         "producer.buffer.memory": 67108864, "producer.max.block.ms": 60000,
                         "consumer.fetch.max.bytes": 52428800, "consumer.max.partition.fetch.bytes": 1048576,
                         "consumer.fetch.min.bytes": 1, "consumer.fetch.max.wait.ms": 500,
                         "consumer.request.timeout.ms": 30000, "consumer.default.api.timeout.ms": 60000,
                         "consumer.max.poll.records": 500, "admin.retries": 3, "admin.request.timeout.ms": 30000,
                         "admin.default.api.timeout.ms": 60000, "retry.backoff.ms": 100,
                         "receive.buffer.bytes": -1, "send.buffer.bytes": 131072,
                         "client.dns.lookup": "use_all_dns_ips", "metadata.max.age.ms": 300000})
    producer = cfg.producer_config("p")
    assert (producer["message.max.bytes"], producer["queue.buffering.max.kbytes"]) == (2097152, 65536)
    assert cfg.main_consumer_config("c")["fetch.wait.max.ms"] == 500
