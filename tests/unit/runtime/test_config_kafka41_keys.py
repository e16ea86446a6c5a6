"""StreamsConfig against Kafka 4.1.1's StreamsConfig keys (audit s6 F8): every key is classified (read or passed to the
clients, or accepted with a "not implemented" warning, never "isn't a known config" with a misleading prefix hint);
Kafka 4's processing.guarantee values and group.protocol; the Java socket buffer keys in librdkafka's terms."""
from __future__ import annotations

import logging

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime import StreamsConfig
from pystreams.runtime import config as config_module
from pystreams.runtime.config import key_status

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}

#: StreamsConfig.configDef().names() of Kafka 4.1.1 (the 68 keys the audit's probe printed, keys411.txt)
KAFKA_411_KEYS = [
    "acceptable.recovery.lag",
    "application.id",
    "application.server",
    "bootstrap.servers",
    "buffered.records.per.partition",
    "built.in.metrics.version",
    "cache.max.bytes.buffering",
    "client.id",
    "commit.interval.ms",
    "connections.max.idle.ms",
    "default.client.supplier",
    "default.deserialization.exception.handler",
    "default.dsl.store",
    "default.key.serde",
    "default.list.key.serde.inner",
    "default.list.key.serde.type",
    "default.list.value.serde.inner",
    "default.list.value.serde.type",
    "default.production.exception.handler",
    "default.timestamp.extractor",
    "default.value.serde",
    "deserialization.exception.handler",
    "dsl.store.suppliers.class",
    "enable.metrics.push",
    "ensure.explicit.internal.resource.naming",
    "group.protocol",
    "log.summary.interval.ms",
    "max.task.idle.ms",
    "max.warmup.replicas",
    "metadata.max.age.ms",
    "metadata.recovery.rebootstrap.trigger.ms",
    "metadata.recovery.strategy",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.recording.level",
    "metrics.sample.window.ms",
    "num.standby.replicas",
    "num.stream.threads",
    "poll.ms",
    "probing.rebalance.interval.ms",
    "processing.exception.handler",
    "processing.guarantee",
    "processor.wrapper.class",
    "production.exception.handler",
    "rack.aware.assignment.non_overlap_cost",
    "rack.aware.assignment.strategy",
    "rack.aware.assignment.tags",
    "rack.aware.assignment.traffic_cost",
    "receive.buffer.bytes",
    "reconnect.backoff.max.ms",
    "reconnect.backoff.ms",
    "repartition.purge.interval.ms",
    "replication.factor",
    "request.timeout.ms",
    "retry.backoff.ms",
    "rocksdb.config.setter",
    "security.protocol",
    "send.buffer.bytes",
    "state.cleanup.delay.ms",
    "state.dir",
    "statestore.cache.max.bytes",
    "task.assignor.class",
    "task.timeout.ms",
    "topology.optimization",
    "upgrade.from",
    "window.size.ms",
    "windowed.inner.class.serde",
    "windowstore.changelog.additional.retention.ms",
]

#: what pystreams does not implement among them (accepted with a warning)
NOT_IMPLEMENTED = {
    "built.in.metrics.version", "default.client.supplier", "default.list.key.serde.inner",
    "default.list.key.serde.type", "default.list.value.serde.inner", "default.list.value.serde.type",
    "dsl.store.suppliers.class", "log.summary.interval.ms", "metric.reporters", "processor.wrapper.class",
    "rack.aware.assignment.non_overlap_cost", "rack.aware.assignment.strategy",
    "rack.aware.assignment.traffic_cost", "task.assignor.class",
}


def test_the_list_is_kafka_411s():
    assert len(KAFKA_411_KEYS) == len(set(KAFKA_411_KEYS)) == 68


@pytest.mark.parametrize("key", KAFKA_411_KEYS)
def test_every_kafka_411_key_is_classified(key):
    assert key_status(key) == ("not implemented" if key in NOT_IMPLEMENTED else "supported")


def test_unknown_keys_stay_unknown():
    assert key_status("num.stream.thread") == "unknown"
    assert key_status("exactly.once") == "unknown"


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Unknown keys are reported once per process: forget the earlier reports."""
    monkeypatch.setattr(config_module, "_warned_keys", set())


@pytest.mark.parametrize("key, value", [
    ("group.protocol", "classic"), ("processor.wrapper.class", "x.Wrapper"),
    ("default.list.key.serde.type", "java.util.ArrayList"), ("metadata.recovery.rebootstrap.trigger.ms", "300000"),
    ("ensure.explicit.internal.resource.naming", "false"),
])
def test_kafka_41_keys_get_no_prefix_hint(key, value, caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="pystreams.runtime.config")
    StreamsConfig({**BASE, key: value})
    assert "isn't a known config" not in caplog.text and "prefix" not in caplog.text, caplog.text


def test_a_not_implemented_key_says_so(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="pystreams.runtime.config")
    StreamsConfig({**BASE, "processor.wrapper.class": "x.Wrapper"})
    assert "'processor.wrapper.class' is a Kafka Streams config that pystreams does not implement" in caplog.text


def test_explicit_naming_true_is_accepted_without_a_warning(caplog, fresh_warnings):
    # enforced by the compiler (pystreams/compiler/naming.py, KIP-1111); the config only checks true/false
    caplog.set_level(logging.WARNING, logger="pystreams.runtime.config")
    StreamsConfig({**BASE, "ensure.explicit.internal.resource.naming": "true"})
    assert "ensure.explicit.internal.resource.naming" not in caplog.text, caplog.text
    with pytest.raises(ConfigError, match="ensure.explicit.internal.resource.naming: Expected value to be either"):
        StreamsConfig({**BASE, "ensure.explicit.internal.resource.naming": "yes"})


@pytest.mark.parametrize("value", ["exactly_once_beta", "exactly_once", "EXACTLY_ONCE_V2", "At_Least_Once",
                                   " exactly_once_v2"])
def test_kafka_4_refuses_other_guarantee_spellings(value):
    with pytest.raises(ConfigError) as raised:
        StreamsConfig({**BASE, "processing.guarantee": value})
    message = str(raised.value)
    assert (f"Invalid value {value} for configuration processing.guarantee: String must be one of: at_least_once, "
            f"exactly_once_v2") in message
    assert ("removed in Kafka 4.0" in message) == (value in ("exactly_once_beta", "exactly_once"))


@pytest.mark.parametrize("value, eos", [("at_least_once", False), ("exactly_once_v2", True)])
def test_kafka_4_guarantees(value, eos):
    cfg = StreamsConfig({**BASE, "processing.guarantee": value})
    assert cfg.processing_guarantee == value and cfg.eos is eos


def test_group_protocol_classic_runs_streams_is_refused():
    assert StreamsConfig({**BASE, "group.protocol": "CLASSIC"}).application_id == "app"
    with pytest.raises(ConfigError, match=r"group.protocol=streams \(KIP-1071.*is not supported.*classic"):
        StreamsConfig({**BASE, "group.protocol": "streams"})
    with pytest.raises(ConfigError, match="Invalid value consumer for configuration group.protocol"):
        StreamsConfig({**BASE, "group.protocol": "consumer"})
    # the Streams key is not a client key: the consumers keep the classic protocol they are fixed to
    assert "group.protocol" not in StreamsConfig({**BASE, "group.protocol": "classic"}).main_consumer_config("c")


def test_socket_buffer_keys_in_librdkafkas_terms():
    cfg = StreamsConfig({**BASE, "receive.buffer.bytes": 65536, "send.buffer.bytes": "-1",
                         "producer.send.buffer.bytes": 262144})
    consumer, producer, admin = (cfg.main_consumer_config("c"), cfg.producer_config("p"), cfg.admin_config())
    for client in (consumer, producer, admin):
        assert "receive.buffer.bytes" not in client and "send.buffer.bytes" not in client
        assert client["socket.receive.buffer.bytes"] == 65536
    assert consumer["socket.send.buffer.bytes"] == 0 and admin["socket.send.buffer.bytes"] == 0  # Java -1: OS default
    assert producer["socket.send.buffer.bytes"] == 262144  # the prefixed key wins for its client


def test_rebootstrap_trigger_reaches_the_clients():
    cfg = StreamsConfig({**BASE, "metadata.recovery.rebootstrap.trigger.ms": 120000})
    assert cfg.main_consumer_config("c")["metadata.recovery.rebootstrap.trigger.ms"] == 120000
    assert cfg.producer_config("p")["metadata.recovery.rebootstrap.trigger.ms"] == 120000
