"""Kafka Streams' committed-offset metadata (TopicPartitionMetadata) and seeding a task's partition times from it."""
from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from pystreams.runtime.offset_metadata import UNKNOWN, decode, encode
from tests.unit.processor.test_engine_paths import new_task

pytestmark = pytest.mark.unit


def test_encode_matches_kafka_streams_bytes() -> None:
    # observed from Kafka Streams 4.1.1: 02 000001a220ccdad0
    assert encode(0x000001A220CCDAD0) == "AgAAAaIgzNrQ"
    assert decode("AgAAAaIgzNrQ").partition_time == 0x000001A220CCDAD0
    assert decode("AgAAAaIgzNrQ").processor_metadata == {}


def test_processor_metadata_round_trips_in_kafka_layout() -> None:
    text = encode(5, {"emit-close": 42})
    raw = base64.b64decode(text)
    assert raw == (b"\x02" + (5).to_bytes(8, "big") + (1).to_bytes(4, "big") + (10).to_bytes(4, "big")
                   + b"emit-close" + (42).to_bytes(8, "big"))
    md = decode(text)
    assert (md.partition_time, md.processor_metadata) == (5, {"emit-close": 42})


def test_magic_one_negative_time_and_unknowns(caplog: Any) -> None:
    assert decode(base64.b64encode(b"\x01" + (77).to_bytes(8, "big"))).partition_time == 77
    assert decode(encode(-1)).partition_time == -1
    assert decode("").partition_time == UNKNOWN and decode(None).partition_time == UNKNOWN
    with caplog.at_level(logging.WARNING):
        assert decode("not base64!").partition_time == UNKNOWN
        assert decode(base64.b64encode(b"\x07" + bytes(8))).partition_time == UNKNOWN
        assert decode(base64.b64encode(b"\x02\x00")).partition_time == UNKNOWN
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 3


def test_task_seeds_partition_and_stream_time_from_metadata(tmp_path: Any) -> None:
    task, _ = new_task(tmp_path, "seed")
    assert task.partition_time("a", 0) == -1
    task.initialize_partition_times({("a", 0): "AgAAAaIgzNrQ", ("c", 0): "", ("zz", 0): "garbage"})
    assert task.partition_time("a", 0) == 0x000001A220CCDAD0
    assert task.partition_time("c", 0) == -1
    assert task.stream_time == 0x000001A220CCDAD0
