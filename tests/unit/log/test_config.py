"""LogConfig: Kafka's keys, defaults and broker-level synonyms."""
from __future__ import annotations

import pytest

from pystreams.broker.log import InvalidConfigError, LogConfig

pytestmark = pytest.mark.unit


def test_defaults_are_kafkas() -> None:
    c = LogConfig.from_props({})
    assert c.segment_bytes == 1 << 30 and c.segment_ms == 604_800_000
    assert c.retention_ms == 604_800_000 and c.retention_bytes == -1
    assert c.index_interval_bytes == 4096 and c.segment_index_bytes == 10 << 20
    assert c.max_message_bytes == 1_048_588 and c.cleanup_policy == "delete"
    assert c.flush_messages == c.flush_ms == 2**63 - 1
    assert c.message_timestamp_type == "CreateTime"


def test_topic_keys_and_broker_synonyms() -> None:
    c = LogConfig.from_props({"segment.bytes": "1000", "cleanup.policy": "compact, delete",
                              "message.timestamp.type": "LogAppendTime", "unknown.key": "x"})
    assert c.segment_bytes == 1000 and c.compact and c.delete and c.log_append_time
    b = LogConfig.from_broker_props({"log.retention.hours": "2", "log.retention.minutes": "3",
                                     "log.segment.bytes": "4096", "message.max.bytes": "77"})
    assert b.retention_ms == 180_000 and b.segment_bytes == 4096 and b.max_message_bytes == 77
    assert LogConfig.from_broker_props({"log.retention.ms": "9",
                                        "log.retention.hours": "1"}).retention_ms == 9


@pytest.mark.parametrize("key,value", [("segment.bytes", "abc"), ("segment.bytes", "1"),
                                       ("cleanup.policy", "shred"),
                                       ("message.timestamp.type", "Now")])
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(InvalidConfigError) as e:
        LogConfig.from_props({key: value})
    assert key in str(e.value) and e.value.code == 40
