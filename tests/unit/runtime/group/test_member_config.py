"""The member timeouts come from the Streams config like the main consumer's: plain keys, then `consumer.`, then
`main.consumer.` prefixed ones override; max.poll.interval.ms is the rebalance timeout; bad values are refused."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime.config import StreamsConfig

pytestmark = pytest.mark.unit


def test_kafka_defaults() -> None:
    cfg = StreamsConfig({"application.id": "a"})
    assert cfg.assignor == "streams"
    assert cfg.group_member_config() == {"group_instance_id": None, "session_timeout_ms": 45_000,
                                         "heartbeat_interval_ms": 3_000, "rebalance_timeout_ms": 300_000,
                                         "retry_backoff_ms": 100}


def test_prefixed_keys_override_plain_ones() -> None:
    cfg = StreamsConfig({"application.id": "a", "pystreams.assignor": "Streams", "session.timeout.ms": 20_000,
                         "consumer.session.timeout.ms": "10000", "main.consumer.heartbeat.interval.ms": 500,
                         "max.poll.interval.ms": 60_000, "group.instance.id": "i-1"})
    assert cfg.assignor == "streams"
    member = cfg.group_member_config()
    assert (member["session_timeout_ms"], member["heartbeat_interval_ms"], member["rebalance_timeout_ms"],
            member["group_instance_id"]) == (10_000, 500, 60_000, "i-1")


@pytest.mark.parametrize("props", [{"session.timeout.ms": "soon"}, {"heartbeat.interval.ms": 50_000},
                                   {"max.poll.interval.ms": -1}])
def test_bad_values_are_refused(props: dict) -> None:
    with pytest.raises(ConfigError):
        StreamsConfig({"application.id": "a", **props}).group_member_config()


def test_unknown_assignor_is_refused() -> None:
    with pytest.raises(ConfigError, match="pystreams.assignor"):
        StreamsConfig({"application.id": "a", "pystreams.assignor": "sticky"})
