"""Unknown config keys are reported once (Kafka's "was supplied but isn't a known config"), with the closest known
key for a typo; Kafka Streams keys pystreams does not implement say so; the deprecated
default.production.exception.handler is honoured as in Kafka 4.x."""
from __future__ import annotations

import logging

import pytest

from pystreams.errors import ConfigError
from pystreams.processor import handlers
from pystreams.processor.handlers import (
    DefaultProductionExceptionHandler,
    resolve_production_handler,
)
from pystreams.runtime import StreamsConfig
from pystreams.runtime import config as config_module

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(config_module, "_warned_keys", set())
    monkeypatch.setattr(handlers, "_warned_both_production_keys", [])


def warnings(caplog, logger="pystreams.runtime.config") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


def test_a_typo_is_reported_once_with_the_key_it_resembles(caplog):
    with caplog.at_level(logging.WARNING):
        cfg = StreamsConfig({**BASE, "num.stream.thread": 4})
        StreamsConfig({**BASE, "num.stream.thread": 4})  # pystreams run builds the config twice: one message
    assert cfg.num_stream_threads == 1
    assert warnings(caplog) == [("The configuration 'num.stream.thread' was supplied but isn't a known config. "
                                 "Did you mean 'num.stream.threads'?")]


def test_known_and_prefixed_keys_are_not_reported(caplog):
    with caplog.at_level(logging.WARNING):
        StreamsConfig({**BASE, "num.stream.threads": 2, "commit.interval.ms": 10, "client.rack": "r",
                       "security.protocol": "PLAINTEXT", "producer.compression.type": "lz4",
                       "main.consumer.fetch.max.bytes": 10_000_000, "topic.min.insync.replicas": 2,
                       "default.production.exception.handler": f"{__name__}:Skip", "metrics.http.port": 0})
    assert warnings(caplog) == []


def test_client_keys_without_a_prefix_and_unimplemented_kafka_keys(caplog):
    with caplog.at_level(logging.WARNING):
        StreamsConfig({**BASE, "linger.ms.typo": 1, "buffer.memory": 1048576, "client.tag.zone": "a",
                       "rack.aware.assignment.strategy": "min_traffic", "global.consumer.fetch.max.bytes": 10_000_000})
    # global.consumer. keys reach the global consumer (StreamsConfig.GLOBAL_CONSUMER_PREFIX), buffer.memory the
    # producers (as queue.buffering.max.kbytes) and client.tag.* the assignor (KIP-708): no warning
    assert warnings(caplog) == [
        ("The configuration 'linger.ms.typo' was supplied but isn't a known config. Other client settings than "
         "those in docs/streams-runtime.md need a consumer., producer. or admin. prefix."),
        ("The configuration 'rack.aware.assignment.strategy' is a Kafka Streams config that pystreams does not "
         "implement; it is ignored.")]


class Skip:
    def handle(self, context, record, exception):
        return handlers.ProductionHandlerResponse.CONTINUE


def test_the_deprecated_production_handler_key_is_honoured(caplog):
    with caplog.at_level(logging.WARNING):
        assert isinstance(resolve_production_handler({"default.production.exception.handler": Skip}), Skip)
    assert warnings(caplog, "pystreams.processor.handlers") == []
    with pytest.raises(ConfigError, match="default.production.exception.handler='nope' is unknown"):
        resolve_production_handler({"default.production.exception.handler": "nope"})


def test_the_new_production_handler_key_wins_with_kafkas_warning(caplog):
    configs = {"production.exception.handler": DefaultProductionExceptionHandler,
               "default.production.exception.handler": Skip}
    with caplog.at_level(logging.WARNING):
        assert isinstance(resolve_production_handler(configs), DefaultProductionExceptionHandler)
        resolve_production_handler(configs)  # once, not per task
    assert warnings(caplog, "pystreams.processor.handlers") == [
        ("Both the deprecated and new config for production exception handler are configured. "
         "The deprecated one will be ignored.")]
