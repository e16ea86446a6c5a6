"""A client pointed at a port nothing listens on: librdkafka's connect failures reach Python logging
(pystreams.librdkafka) rate-limited, not one stderr line per reconnect.backoff.ms (audit s5 gap 8)."""
from __future__ import annotations

import logging
import time

import pytest
from confluent_kafka import Consumer

from pystreams.runtime import StreamsConfig
from tests.reference.kafka import free_port

pytestmark = pytest.mark.integration


def test_connect_failures_are_logged_through_python_logging_rate_limited(caplog, capfd):
    bootstrap = f"127.0.0.1:{free_port()}"  # free now: connections are refused
    config = StreamsConfig({"application.id": "unreachable", "bootstrap.servers": bootstrap})
    consumer = Consumer(config.main_consumer_config("unreachable-consumer"))
    try:
        with caplog.at_level(logging.INFO, logger="pystreams.librdkafka"):
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                consumer.poll(0.2)  # serves librdkafka's log queue
    finally:
        consumer.close()
    failures = [r.getMessage() for r in caplog.records
                if r.name == "pystreams.librdkafka" and "Connection refused" in r.getMessage()]
    assert 1 <= len(failures) <= 2, failures  # librdkafka retries every 50-1000 ms: several per second unlimited
    assert bootstrap in failures[0]
    assert "Connection refused" not in capfd.readouterr().err  # nothing straight to stderr
