"""max.block.ms (Kafka's producer key, which librdkafka lacks) parsed once into StreamsConfig.max_block_ms: it bounds
every exactly_once_v2 commit's producer calls (streams_producer.max_block_s), which used to parse it per commit."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.streams_producer import max_block_s

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


@pytest.mark.parametrize("given, expected", [
    ({}, 60_000),  # Kafka's producer default
    ({"max.block.ms": "3000"}, 3000),
    ({"producer.max.block.ms": 2500}, 2500),
    ({"max.block.ms": 9000, "producer.max.block.ms": "1500"}, 1500),  # the producer's own key wins
    ({"max.block.ms": None, "producer.max.block.ms": None}, 60_000),  # unset
    ({"max.block.ms": 0}, 0),
])
def test_max_block_ms_is_parsed_once(given, expected):
    cfg = StreamsConfig({**BASE, **given})
    assert cfg.max_block_ms == expected
    assert max_block_s(cfg) == max(0.001, expected / 1000)


@pytest.mark.parametrize("key", ["max.block.ms", "producer.max.block.ms"])
def test_a_bad_max_block_ms_fails_at_construction_naming_the_key(key):
    with pytest.raises(ConfigError, match=rf"{key} must be an integer, got 'soon'"):
        StreamsConfig({**BASE, key: "soon"})
    with pytest.raises(ConfigError, match=rf"{key} must be >= 0, got -1"):
        StreamsConfig({**BASE, key: -1})


def test_max_block_s_reads_the_parsed_attribute_not_the_originals():
    cfg = StreamsConfig({**BASE, "max.block.ms": 4000})
    cfg.originals["max.block.ms"] = 1  # not parsed again per commit
    assert max_block_s(cfg) == 4.0


@pytest.mark.parametrize("config, expected", [
    ({"max.block.ms": "3000"}, 3.0),
    ({"max.block.ms": 3000, "producer.max.block.ms": 500}, 0.5),
    ({}, 60.0),
    (None, 60.0),
])
def test_max_block_s_still_takes_a_mapping(config, expected):
    assert max_block_s(config) == expected
