"""The DSL joins build StreamJoins.java's topology: describe() text equal to Java's, and the same output records
on a seeded input (RocksDB join stores compared with Java's RocksDB stores, in-memory with in-memory)."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.serdes import Serdes
from tests.integration.oracle_joins.dsl_topologies import stream_joins_dsl
from tests.integration.oracle_joins.topologies import OUTPUTS
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records

pytestmark = [pytest.mark.integration, pytest.mark.reference]

TTD_DEFAULTS = {"__emit.interval.ms.kstreams.outer.join.spurious.results.fix__": 0}


def test_describe_equals_java(java_streams: Any) -> None:
    assert str(stream_joins_dsl().build().describe()) == java_streams.describe("streamjoins")


def test_dsl_joins_equal_java(java_streams: Any, tmp_path: Any) -> None:
    records = random_records(31, 1000, ("left", "right", "table", "gtable"), keys="abc", jitter=120, step=10)
    java = drive_java(java_streams, "streamjoins", records, TTD_DEFAULTS)
    s, lng = Serdes.String(), Serdes.Long()
    config = {**TTD_DEFAULTS, "default.dsl.store": "in_memory", "state.dir": str(tmp_path)}
    ours = drive_python(stream_joins_dsl().build(config), records,
                        {t: (s, lng) for t in ("left", "right", "table", "gtable")}, [(t, s, s) for t in OUTPUTS],
                        config)
    assert_same(ours, java)
