"""The time-window aggregate asks its store for the counting update only for count() (windowed_by().count()), and
for the per-key window memo only for tumbling windows; the results equal the plain fetch-then-put path
(tests/unit/windows/test_window_aggregate_fused.py runs the same topologies, with late records and evictions)."""
from __future__ import annotations

from typing import Any

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams.dsl.windows import TimeWindows
from pystreams.serdes import Serdes
from pystreams.state.window import metered
from pystreams.testing import TopologyTestDriver
from tests.unit.windows.test_window_aggregate_fused import SIZE, _run, _topology

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("windows", "how", "expected"), [
    (TimeWindows.of_size_and_grace(SIZE, 20), "count", (True, True)),
    (TimeWindows.of_size_and_grace(SIZE, 20).advance_by(40), "count", (True, False)),
    (TimeWindows.of_size_and_grace(SIZE, 20), "aggregate", (False, True)),
], ids=["tumbling_count", "hopping_count", "tumbling_aggregate"])
def test_flags_passed_to_the_store(windows: TimeWindows, how: str, expected: tuple[bool, bool],
                                   monkeypatch: Any) -> None:
    asked: list[tuple[bool, bool]] = []
    original = metered.cached_window_update

    def recording(store: Any, initializer: Any, aggregator: Any, counting: bool = False,
                  tumbling: bool = False) -> Any:
        asked.append((counting, tumbling))
        return original(store, initializer, aggregator, counting, tumbling)
    monkeypatch.setattr(metered, "cached_window_update", recording)
    with TopologyTestDriver(_topology(windows, how), {"application.id": "flags"}) as d:
        src = d.create_input_topic("in", Serdes.String(), Serdes.Long())
        for i in range(20):
            src.pipe_input(f"k{i % 3}", 1, i * 30)
        stored = [(w.key, w.window.start, v) for w, v in d.get_state_store("w").all()]
    assert asked and set(asked) == {expected}
    # window [0, 100): the records at 0, 30, 60, 90, each counted (or summed: value 1) once
    assert sum(vat.value for _key, start, vat in stored if start == 0) == 4


@pytest.mark.parametrize("windows", [TimeWindows.of_size_and_grace(SIZE, 20),
                                     TimeWindows.of_size_and_grace(SIZE, 30).advance_by(40)],
                         ids=["tumbling", "hopping"])
def test_counting_paths_equal_the_plain_path(windows: TimeWindows, monkeypatch: Any) -> None:
    fused = _run(windows, "count", True, monkeypatch)
    assert fused == _run(windows, "count", False, monkeypatch)
    assert fused[0] and fused[1] and fused[3] > 10
