"""Window specs (Kafka's validation and window assignment), Windowed serde bytes, and late/None-key records
dropped and counted in dropped-records-total."""
from __future__ import annotations

import struct

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windowed import suppress, windowed_by
from pystreams.dsl.windows import BufferConfig, JoinWindows, SessionWindows, Suppressed, TimeWindows
from pystreams.errors import TopologyError
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import SessionWindow, TimeWindow, Windowed, WindowedSerdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


def test_hopping_windows_for_a_timestamp():
    w = TimeWindows.of_size_and_grace(100, 10).advance_by(30)
    assert list(w.windows_for(95)) == [0, 30, 60, 90]
    assert list(TimeWindows.of_size_with_no_grace(100).windows_for(250)) == [200]
    with pytest.raises(TopologyError, match="advancement interval"):
        TimeWindows.of_size_with_no_grace(100).advance_by(101)
    with pytest.raises(TopologyError, match="larger than zero"):
        TimeWindows.of_size_with_no_grace(0)
    with pytest.raises(TopologyError, match="must not be negative"):
        JoinWindows.of_time_difference_and_grace(10, -1)
    assert JoinWindows.of_time_difference_with_no_grace(10).before(5).after(20).size() == 25
    with pytest.raises(TopologyError, match="strict buffer"):
        Suppressed.until_window_closes(BufferConfig.max_records(3))


def test_windowed_serde_bytes_are_kafkas():
    s = Serdes.String()
    tw = WindowedSerdes.time_windowed_serde_from(s, 100)
    raw = tw.serialize("t", Windowed("ab", TimeWindow(200, 300)))
    assert raw == b"ab" + struct.pack(">q", 200)
    assert tw.deserialize("t", raw) == Windowed("ab", TimeWindow(200, 300))
    sw = WindowedSerdes.session_windowed_serde_from(s)
    raw = sw.serialize("t", Windowed("ab", SessionWindow(5, 9)))
    assert raw == b"ab" + struct.pack(">qq", 9, 5)
    assert sw.deserialize("t", raw) == Windowed("ab", SessionWindow(5, 9))
    assert str(Windowed("ab", SessionWindow(5, 9))) == "[ab@5/9]"
    unsized = WindowedSerdes.time_windowed_serde_from(s, 100)
    unsized.window_size_ms = None
    unsized.configure({"window.size.ms": "50"}, True)
    assert unsized.deserialize("t", b"x" + struct.pack(">q", 0)).window.end == 50


def test_late_and_null_key_records_are_dropped_and_counted():
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    counts = windowed_by(grouped, TimeWindows.of_size_and_grace(100, 10)).count(Materialized.with_(s, lng))
    suppress(counts, Suppressed.until_window_closes(BufferConfig.unbounded())).to_stream() \
        .to("out", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, 100), lng))
    with TopologyTestDriver(b.build(), {"application.id": "late"}) as d:
        src = d.create_input_topic("in", s, lng)
        out = d.create_output_topic("out", WindowedSerdes.time_windowed_serde_from(s, 100), lng)
        src.pipe_input("a", 1, 50)
        src.pipe_input("a", 1, 60)
        src.pipe_input("a", 1, 105)   # stream time 105: window [0,100) still open (grace 10)
        assert out.is_empty()
        src.pipe_input("a", 1, 110)   # closes [0,100): final count emitted once
        assert out.read_key_value() == (Windowed("a", TimeWindow(0, 100)), 2)
        src.pipe_input("a", 1, 20)    # late: dropped
        src.pipe_input(None, 1, 120)  # None key: dropped
        src.pipe_input("b", 1, 500)
        assert [tuple(kv) for kv in out.read_key_values_to_list()] == [(Windowed("a", TimeWindow(100, 200)), 2)]
        assert d.metrics()["dropped-records-total"] == 2


def test_windowed_source_serde_takes_default_inner_and_window_size_ms():
    from pystreams.serdes.windowed import TimeWindowedSerde

    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    b.stream("wk", Consumed.with_(TimeWindowedSerde(), lng)).to(
        "o", Produced.with_(WindowedSerdes.time_windowed_serde_from(s, 100), lng))
    config = {"application.id": "w", "window.size.ms": 100, "default.key.serde": s}
    with TopologyTestDriver(b.build(), config) as d:
        d.create_input_topic("wk", WindowedSerdes.time_windowed_serde_from(s, 100), lng) \
            .pipe_input(Windowed("a", TimeWindow(200, 300)), 5, 3)
        out = d.create_output_topic("o", WindowedSerdes.time_windowed_serde_from(s, 100), lng)
        assert tuple(out.read_key_value()) == (Windowed("a", TimeWindow(200, 300)), 5)
