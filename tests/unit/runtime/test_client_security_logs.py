"""librdkafka's log lines go to Python logging through the clients' `logger`, rate-limited per kind (a broker
that cannot be reached logged 581 connect failures in 30 s on stderr)."""
from __future__ import annotations

import logging

import pytest

from pystreams.runtime import StreamsConfig
from pystreams.runtime.config import CLIENT_LOGGER, RateLimitedClientLogs

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


def rdkafka_record(message: str, client: str = "rdkafka#producer-1", level: int = logging.ERROR) -> logging.LogRecord:
    """A record as confluent-kafka's log callback makes it: logger.log(level, "%s [%s] %s", fac, name, message)."""
    return logging.LogRecord("pystreams.librdkafka", level, "", 0, "%s [%s] %s", ("FAIL", client, message), None)


def connect_failed(ms: int) -> logging.LogRecord:
    return rdkafka_record(f"127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused "
                          f"(after {ms}ms in state CONNECT)")


def test_a_repeated_line_passes_once_per_interval_with_the_count_held_back():
    now = [0.0]
    limit = RateLimitedClientLogs(interval_s=10, clock=lambda: now[0])
    passed = []
    for i in range(600):  # one every 50 ms for 30 s, the numbers in the text vary
        record = connect_failed(i % 7)
        if limit.filter(record):
            passed.append(record.getMessage())
        now[0] += 0.05
    assert len(passed) == 3  # at 0, 10 and 20 s
    assert passed[0].startswith("FAIL [rdkafka#producer-1] 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1")
    assert passed[1].endswith("(and 199 more like it in the last 10 s)")


def test_other_kinds_and_clients_are_not_held_back():
    limit = RateLimitedClientLogs(interval_s=10, clock=lambda: 0.0)
    assert limit.filter(connect_failed(0))
    assert limit.filter(rdkafka_record("127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection "
                                       "refused (after 0ms in state CONNECT)", client="rdkafka#consumer-2"))
    assert limit.filter(rdkafka_record("Disconnected", level=logging.INFO))
    assert not limit.filter(connect_failed(3))


def test_every_client_gets_the_logger_and_a_prefixed_one_replaces_it():
    mine = logging.getLogger("mine")
    cfg = StreamsConfig({**BASE, "producer.logger": mine})
    assert cfg.main_consumer_config("c")["logger"] is CLIENT_LOGGER
    assert cfg.restore_consumer_config("r")["logger"] is CLIENT_LOGGER
    assert cfg.admin_config()["logger"] is CLIENT_LOGGER
    assert cfg.producer_config("p")["logger"] is mine
    assert any(isinstance(f, RateLimitedClientLogs) for f in CLIENT_LOGGER.filters)
