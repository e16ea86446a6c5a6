"""Client overrides that would break the processing guarantee are ignored with Kafka Streams' message (its
StreamsConfig.NON_CONFIGURABLE_*_CONFIGS): enable.auto.commit and group.protocol always, isolation.level and the
producer's enable.idempotence / transactional.id under exactly_once_v2; max.in.flight above 5 is refused."""
from __future__ import annotations

import logging

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime import StreamsConfig

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}
EOS = {**BASE, "processing.guarantee": "exactly_once_v2"}


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pystreams.runtime.config"]


def test_auto_commit_is_never_taken_with_kafkas_error(caplog):
    cfg = StreamsConfig({**BASE, "consumer.enable.auto.commit": "true", "restore.consumer.group.protocol": "consumer"})
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        main, restore = cfg.main_consumer_config("c"), cfg.restore_consumer_config("r")
        cfg.main_consumer_config("c2")  # logged once, not per client
    assert main["enable.auto.commit"] is False and restore["enable.auto.commit"] is False
    assert "group.protocol" not in restore
    assert messages(caplog) == [
        ("Unexpected user-specified consumer config 'enable.auto.commit' found. User setting (true) will be ignored "
         "and the Streams default setting (false) will be used."),
        ("Unexpected user-specified consumer config 'group.protocol' found. User setting (consumer) will be ignored "
         "and the Streams default setting (classic) will be used.")]
    assert caplog.records[0].levelno == logging.ERROR


def test_a_value_equal_to_the_streams_setting_is_kept_silently(caplog):
    cfg = StreamsConfig({**EOS, "consumer.enable.auto.commit": False, "consumer.isolation.level": "read_committed",
                         "producer.enable.idempotence": "true"})
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        cfg.main_consumer_config("c")
        cfg.producer_config("p", "app-1-0")
    assert messages(caplog) == []


def test_eos_keeps_read_committed_idempotence_and_its_own_transactional_id(caplog):
    cfg = StreamsConfig({**EOS, "consumer.isolation.level": "read_uncommitted", "producer.transactional.id": "mine",
                         "producer.enable.idempotence": False})
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        main, restore = cfg.main_consumer_config("c"), cfg.restore_consumer_config("r")
        producer = cfg.producer_config("p", "app-pid-0")
    assert main["isolation.level"] == restore["isolation.level"] == "read_committed"
    assert producer["transactional.id"] == "app-pid-0" and producer["enable.idempotence"] is True
    eos = "'processing.guarantee' is set to \"exactly_once_v2\". Hence, user setting"
    assert f"Unexpected user-specified producer config 'transactional.id' found. {eos} (mine) will be ignored and " \
           "the Streams default setting (<appId>-<generatedSuffix>) will be used." in messages(caplog)
    assert any("'isolation.level' found" in m and "(read_uncommitted)" in m for m in messages(caplog))
    assert any("'enable.idempotence' found" in m for m in messages(caplog))


def test_at_least_once_lets_isolation_level_through():
    cfg = StreamsConfig({**BASE, "consumer.isolation.level": "read_committed"})
    assert cfg.main_consumer_config("c")["isolation.level"] == "read_committed"


@pytest.mark.parametrize("key", ["producer.max.in.flight.requests.per.connection", "producer.max.in.flight",
                                 "max.in.flight"])
def test_more_than_five_in_flight_is_refused_under_eos(key):
    with pytest.raises(ConfigError, match="can't exceed 5 when exactly-once"):
        StreamsConfig({**EOS, key: 6})
    assert StreamsConfig({**EOS, key: 5}).producer_config("p", "t")[key.removeprefix("producer.")] == 5
    StreamsConfig({**BASE, key: 6})  # at_least_once: librdkafka's own limits apply
