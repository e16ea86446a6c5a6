"""Our consumer-group metadata bytes against what the installed librdkafka writes (Consumer created without
bootstrap servers: no socket is opened)."""
from __future__ import annotations

import pytest
from confluent_kafka import Consumer

from pystreams.errors import PystreamsError
from pystreams.runtime.group.metadata import consumer_group_metadata, parse_consumer_group_metadata

pytestmark = pytest.mark.unit


def _librdkafka(config: dict) -> bytes:
    consumer = Consumer({"group.id": "grp-x", "log_level": 0, **config})
    try:
        return consumer.consumer_group_metadata()
    finally:
        consumer.close()


def test_bytes_equal_librdkafkas_for_an_unjoined_member() -> None:
    assert consumer_group_metadata("grp-x", -1, "") == _librdkafka({})


def test_bytes_equal_librdkafkas_with_a_group_instance_id() -> None:
    assert consumer_group_metadata("grp-x", -1, "", "inst-1") == _librdkafka({"group.instance.id": "inst-1"})


@pytest.mark.parametrize("generation", [0, 1, 7, 2**31 - 1, -1])
def test_round_trip(generation: int) -> None:
    data = consumer_group_metadata("app", generation, "member-1", None)
    assert parse_consumer_group_metadata(data) == ("app", generation, "member-1", None)
    assert parse_consumer_group_metadata(consumer_group_metadata("app", generation, "m", "i")) == (
        "app", generation, "m", "i")


def test_bad_input_is_refused() -> None:
    with pytest.raises(PystreamsError):
        consumer_group_metadata("a\0b", 1, "m")
    with pytest.raises(PystreamsError):
        parse_consumer_group_metadata(b"nope")
