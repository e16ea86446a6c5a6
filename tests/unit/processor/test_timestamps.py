"""Timestamp extractors at the task level (real topics can hold records with negative timestamps)."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.errors import ConfigError, PystreamsError
from pystreams.processor import Processor, ProcessorContext, Record, TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit


class Pass(Processor[Any, Any, Any, Any]):
    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        self.context.forward(record)


def run(tmp: Any, config: dict[str, Any], timestamps: list[int], extractor: Any = None) -> list[tuple[bytes, int]]:
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String(), timestamp_extractor=extractor)
    t.add_processor("p", Pass, "src")
    t.add_sink("sink", "out", "p", key_serde=Serdes.String(), value_serde=Serdes.String())
    collector = ListRecordCollector()
    task = StreamTask(t, TaskId(0, 0), {"application.id": "ts", **config}, collector, state_dir=str(tmp))
    task.initialize()
    for i, ts in enumerate(timestamps):
        task.add_records("in", 0, [(i, ts, b"k", str(i).encode(), ())])
        while task.process():
            pass
    return [(r.value, r.timestamp) for r in collector.records]


def test_default_extractor_fails_on_negative_timestamps(tmp_path: Any) -> None:
    with pytest.raises(PystreamsError, match="invalid \\(negative\\) timestamp -5.*default.timestamp.extractor"):
        run(tmp_path, {}, [1, -5])


def test_log_and_skip_drops_negative_timestamps(tmp_path: Any) -> None:
    cfg = {"default.timestamp.extractor": "org.apache.kafka.streams.processor.LogAndSkipOnInvalidTimestamp"}
    assert run(tmp_path, cfg, [1, -5, 3]) == [(b"0", 1), (b"2", 3)]


def test_use_partition_time_replaces_negative_timestamps(tmp_path: Any) -> None:
    cfg = {"default.timestamp.extractor": "UsePartitionTimeOnInvalidTimestamp"}
    assert run(tmp_path, cfg, [7, -5, 3]) == [(b"0", 7), (b"1", 7), (b"2", 3)]


def test_source_extractor_callable_overrides_the_default(tmp_path: Any) -> None:
    def from_value(record: Any, partition_time: int) -> int:
        return 1000 + int(record.value)

    assert run(tmp_path, {}, [5, 6], extractor=from_value) == [(b"0", 1000), (b"1", 1001)]


def test_unknown_extractor_name_is_a_config_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="default.timestamp.extractor='Nope' is unknown"):
        run(tmp_path, {"default.timestamp.extractor": "Nope"}, [1])
