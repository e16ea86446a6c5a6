"""metrics.recording.level DEBUG/TRACE measure the stores (instance-level measured operations, the aggregates' plain
get/put and fetch/put paths instead of their cache fast paths) without changing any result: the same outputs and
store contents as INFO for a count, a windowed count and a session count, with and without the record cache."""
from __future__ import annotations

from typing import Any

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windowed import windowed_by
from pystreams.dsl.windows import SessionWindows, TimeWindows
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

RECORDS = [(f"k{i % 5}", i, 1_000 * i + (37 * i) % 900) for i in range(60)]  # key, value, timestamp


def _topology() -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    grouped.count(Materialized.as_("counts").with_key_serde(s).with_value_serde(lng)).to_stream().to("counts", Produced.with_(s, lng))
    windowed = windowed_by(grouped, TimeWindows.of_size_and_grace(10_000, 5_000))
    windowed.count(Materialized.as_("windows").with_key_serde(s).with_value_serde(lng)).to_stream().to(
        "windows", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, 10_000), lng))
    sessions = windowed_by(grouped, SessionWindows.of_inactivity_gap_and_grace(4_000, 2_000))
    sessions.count(Materialized.as_("sessions").with_key_serde(s).with_value_serde(lng)).to_stream().to(
        "sessions", Produced.with_(WindowedSerdes.session_windowed_serde_from(s), lng))
    return b.build()


def _run(tmp_path: Any, level: str, cache_bytes: int) -> tuple[dict[str, list[Any]], dict[str, Any], list[Any]]:
    config = {"application.id": "dbg", "state.dir": str(tmp_path / level / str(cache_bytes)),
              "metrics.recording.level": level, "statestore.cache.max.bytes": cache_bytes}
    with TopologyTestDriver(_topology(), config) as driver:
        source = driver.create_input_topic("in", Serdes.String(), Serdes.Long())
        for key, value, ts in RECORDS:
            source.pipe_input(key, value, ts)
        s, lng = Serdes.String(), Serdes.Long()
        outputs = {
            "counts": driver.create_output_topic("counts", s, lng).read_key_values_to_list(),
            "windows": driver.create_output_topic(
                "windows", WindowedSerdes.time_windowed_serde_from(s, 10_000), lng).read_key_values_to_list(),
            "sessions": driver.create_output_topic(
                "sessions", WindowedSerdes.session_windowed_serde_from(s), lng).read_key_values_to_list(),
        }
        counts = driver.get_key_value_store("counts")
        stored = {kv.key: kv.value for kv in counts.all()}
        sensors = [getattr(store, "sensors", None) for store in driver.task.stores.values()]
    return outputs, stored, sensors


@pytest.mark.parametrize("cache_bytes", [0, 10 * 1024 * 1024])
def test_debug_and_trace_measure_the_stores_and_change_no_result(tmp_path, cache_bytes):
    info = _run(tmp_path, "INFO", cache_bytes)
    assert all(s is None for s in info[2]) and len(info[2]) == 3  # nothing installed at INFO
    assert all(info[0].values()) and len(info[1]) == 5  # every output has records
    for level in ("DEBUG", "TRACE"):
        outputs, stored, sensors = _run(tmp_path, level, cache_bytes)
        assert outputs == info[0], level
        assert stored == info[1], level
        assert sensors and all(s is not None for s in sensors), level
        for s in sensors:
            values = s.values()
            assert values["put-rate"] > 0, level
            assert ("record-e2e-latency-avg" in values) == (level == "TRACE")
