"""The engine's stores: changelog records produced while processing rebuild the store in a fresh task, and a
RocksDB store survives a task restart in the same state directory."""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.processor import Processor, ProcessorContext, Record, TaskId
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import ListRecordCollector
from pystreams.serdes import Serdes
from pystreams.state import Stores

pytestmark = pytest.mark.unit


class Latest(Processor[str, str, None, None]):
    """Keeps the latest value per key; the value "-" deletes."""

    def init(self, context: ProcessorContext[None, None]) -> None:
        self.store = context.get_state_store("latest")

    def process(self, record: Record[str, str]) -> None:
        self.store.put(record.key, None if record.value == "-" else record.value)


def topology(persistent: bool, caching: bool) -> Topology:
    supplier = Stores.persistent_key_value_store("latest") if persistent else Stores.in_memory_key_value_store("latest")
    builder = Stores.key_value_store_builder(supplier, Serdes.String(), Serdes.String())
    if caching:
        builder.with_caching_enabled()
    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("latest-proc", Latest, "src")
    t.add_state_store(builder, "latest-proc")
    return t


def new_task(tmp: Any, persistent: bool, caching: bool, collector: Any = None) -> StreamTask:
    task = StreamTask(topology(persistent, caching), TaskId(0, 3), {"application.id": "rs"},
                      collector or ListRecordCollector(), state_dir=str(tmp))
    task.initialize()
    return task


@pytest.mark.parametrize("persistent", [True, False])
@pytest.mark.parametrize("caching", [True, False])
def test_changelog_replay_rebuilds_the_store(tmp_path: Any, persistent: bool, caching: bool) -> None:
    collector = ListRecordCollector()
    task = new_task(tmp_path / "a", persistent, caching, collector)
    assert task.changelog_topics() == {"latest": "rs-latest-changelog"}
    rnd = random.Random(3)
    raw = [(i, 1000 + i, f"k{rnd.randrange(20)}".encode(), rnd.choice([b"-", b"x", b"y", b"z"]), ())
           for i in range(200)]
    for chunk in range(0, 200, 25):
        task.add_records("in", 3, raw[chunk:chunk + 25])
        while task.process():
            pass
        task.commit()
    expected = list(task.stores["latest"].all())
    assert task.committable_offsets() == {("in", 3): 200}
    task.close()
    log = [r for r in collector.records if r.topic == "rs-latest-changelog"]
    assert log and all(r.partition == 3 for r in log)  # the task's partition
    fresh = new_task(tmp_path / "b", persistent, caching)
    assert fresh.checkpointed_offsets() == {}
    fresh.restore("latest", [(r.key, r.value, r.timestamp, i) for i, r in enumerate(log)])
    assert list(fresh.stores["latest"].all()) == expected
    # RocksDB keeps the last restored offset with the data; in-memory stores keep nothing across restarts
    assert fresh.checkpointed_offsets() == ({"latest": len(log) - 1} if persistent else {})
    fresh.checkpoint({"latest": 1234})
    assert fresh.checkpointed_offsets() == ({"latest": 1234} if persistent else {})
    fresh.close()


def test_rocksdb_state_survives_task_restart(tmp_path: Any) -> None:
    task = new_task(tmp_path, True, True)
    task.add_records("in", 3, [(0, 5, b"a", b"1", ()), (1, 6, b"b", b"2", ())])
    while task.process():
        pass
    task.commit()
    task.close()
    again = new_task(tmp_path, True, True)
    assert list(again.stores["latest"].all()) == [("a", "1"), ("b", "2")]
    assert (tmp_path / "rs" / "0_3" / "rocksdb" / "latest").is_dir()  # <state.dir>/<app>/<task>/rocksdb/<store>
    again.close()
