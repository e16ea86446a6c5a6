"""The time-window aggregate assigns each record to exactly the windows TimeWindows.windows_for names (it walks
the window starts itself instead of building them per record), for tumbling and hopping windows, caching on or off."""
from __future__ import annotations

import random
from collections import Counter

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windowed import windowed_by
from pystreams.dsl.windows import TimeWindows
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("size,advance", [(100, 100), (100, 30), (100, 1), (7, 3), (50, 50)])
@pytest.mark.parametrize("cache", [0, 1 << 20])
def test_counts_per_window_equal_windows_for(size: int, advance: int, cache: int) -> None:
    s, lng = Serdes.String(), Serdes.Long()
    windows = TimeWindows.of_size_and_grace(size, 10_000).advance_by(advance)
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    (windowed_by(grouped, windows).count(Materialized.with_(s, lng)).to_stream()
        .to("out", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, size), lng)))
    rng = random.Random(size * 1000 + advance)
    expected: Counter[tuple[str, int, int]] = Counter()
    with TopologyTestDriver(b.build(), {"application.id": "assign", "statestore.cache.max.bytes": cache}) as d:
        src = d.create_input_topic("in", s, lng)
        out = d.create_output_topic("out", WindowedSerdes.time_windowed_serde_from(s, size), lng)
        for _ in range(300):
            key, ts = f"k{rng.randrange(3)}", rng.randrange(0, 1_000)
            src.pipe_input(key, 1, ts)
            for start, window in windows.windows_for(ts).items():
                expected[(key, start, window.end)] += 1
        got = {(w.key, w.window.start, w.window.end): n for w, n in out.read_key_values_to_map().items()}
    assert got == dict(expected)
