"""The DSL (windowed_by / suppress / emit_strategy) builds TimeWindowed.java's topology: describe() text equal
to Java's, and the same output records on a seeded input."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.serdes import Serdes
from tests.integration.oracle_windows.dsl_topologies import time_windowed_dsl
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records
from tests.integration.oracle_windows.topologies import time_windowed_outputs

pytestmark = [pytest.mark.integration, pytest.mark.reference]


def test_describe_equals_java(java_streams: Any) -> None:
    ours = str(time_windowed_dsl().build().describe())
    assert ours == java_streams.describe("timewindowed")


def test_dsl_outputs_equal_java(java_streams: Any, tmp_path: Any) -> None:
    records = random_records(21, 1000, ("win-in",))
    for r in records:
        if r["value"] is None:
            r["value"] = 0
    config = {"__emit.interval.ms.kstreams.windowed.aggregation__": 0}
    java = drive_java(java_streams, "timewindowed", records, config)
    ours = drive_python(time_windowed_dsl(store_type="rocks_db").build(), records,
                        {"win-in": (Serdes.String(), Serdes.Long())}, time_windowed_outputs(),
                        {**config, "state.dir": str(tmp_path)})
    assert_same(ours, java)
    for topic in ("out-final", "out-emit"):  # final results: each window exactly once
        keys = [(r["key"]["key"], r["key"]["start"]) for r in ours if r["topic"] == topic]
        assert keys and len(keys) == len(set(keys)), topic


def test_emit_final_with_caching_follows_the_wall_clock(java_streams: Any, tmp_path: Any) -> None:
    """With caching on, Java's window cache still serves windows past the store's retention to the emit-final
    scan once the wall clock allows an emit; ours does the same."""
    records: list[dict[str, Any]] = random_records(7, 400, ("win-in",))
    for r in records:
        if r["value"] is None:
            r["value"] = 0
    for i in range(50, 400, 50):
        records.insert(i, {"advance_wall_clock_ms": 700})
    config = {"__emit.interval.ms.kstreams.windowed.aggregation__": 1000}
    java = drive_java(java_streams, "timewindowed", records, config)
    ours = drive_python(time_windowed_dsl().build(), records, {"win-in": (Serdes.String(), Serdes.Long())},
                        time_windowed_outputs(), {**config, "state.dir": str(tmp_path)})
    assert_same(ours, java)


def test_rocksdb_without_caching_equals_java_rocksdb(java_streams: Any, tmp_path: Any) -> None:
    """RocksDB window stores, caching off, on both sides (Java's emit-final store is its time-ordered one)."""
    records = random_records(22, 150, ("win-in",))
    for r in records:
        if r["value"] is None:
            r["value"] = 0
    config = {"__emit.interval.ms.kstreams.windowed.aggregation__": 0}
    java = drive_java(java_streams, "timewindowed", records,
                      {**config, "oracle.caching": "false", "dsl.store.suppliers.class": None})
    assert any(r["topic"] == "out-emit" for r in java)
    ours = drive_python(time_windowed_dsl(caching=False, store_type="rocks_db").build(), records,
                        {"win-in": (Serdes.String(), Serdes.Long())}, time_windowed_outputs(),
                        {**config, "state.dir": str(tmp_path)})
    assert_same(ours, java)
