"""The driver's window and session store getters (Kafka's getWindowStore / getTimestampedWindowStore /
getSessionStore): a timestamped window store is seen with plain values through a WindowStoreFacade, as in Kafka; each
getter answers None for a store of another kind. The values below are what Kafka 4.1.1's driver prints for the same
topology and records (checked with a scratch Java program)."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import Materialized, Serdes, StreamsBuilder
from pystreams.compiler import Topology
from pystreams.dsl.windows import SessionWindows, TimeWindows
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.serdes.windowed import SessionWindow, TimeWindow, Windowed
from pystreams.state import Stores, ValueAndTimestamp
from pystreams.testing import TopologyTestDriver, WindowStoreFacade

pytestmark = pytest.mark.unit
CONFIG = {"default.key.serde": Serdes.String(), "default.value.serde": Serdes.String()}


@pytest.fixture
def driver() -> Any:
    """Counts per key in 100 ms windows ("win", timestamped) and in sessions with a 50 ms gap ("sess"), after
    a@0, a@10, b@20, a@150."""
    b = StreamsBuilder()
    grouped = b.stream("in").group_by_key()
    grouped.windowed_by(TimeWindows.of_size_with_no_grace(100)).count(Materialized.as_("win"))
    grouped.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(50)).count(Materialized.as_("sess"))
    with TopologyTestDriver(b.build(), CONFIG) as d:
        inp = d.create_input_topic("in")
        for key, ts in [("a", 0), ("a", 10), ("b", 20), ("a", 150)]:
            inp.pipe_input(key, "v", ts)
        yield d


def test_a_timestamped_window_store_is_read_with_plain_values(driver: Any) -> None:
    win = driver.get_window_store("win")
    assert isinstance(win, WindowStoreFacade)
    assert win.fetch("a", 0) == 2 and win.fetch("a", 50) is None
    assert list(win.fetch("a", 0, 200)) == [(0, 2), (100, 1)]
    assert list(win.backward_fetch("a", 0, 200)) == [(100, 1), (0, 2)]
    a0, a100 = Windowed("a", TimeWindow(0, 100)), Windowed("a", TimeWindow(100, 200))
    b0 = Windowed("b", TimeWindow(0, 100))
    assert list(win.all()) == [(a0, 2), (a100, 1), (b0, 1)]
    assert list(win.fetch_all(0, 50)) == [(a0, 2), (b0, 1)]
    assert list(win.fetch_key_range("b", None, 0, 200)) == [(b0, 1)]
    win.put("c", 7, 100)  # a plain write gets timestamp -1 (Kafka's ConsumerRecord.NO_TIMESTAMP)
    assert driver.get_timestamped_window_store("win").fetch("c", 100) == ValueAndTimestamp(7, -1)


def test_the_timestamped_and_session_getters(driver: Any) -> None:
    timestamped = driver.get_timestamped_window_store("win")
    assert timestamped.fetch("a", 0) == ValueAndTimestamp(2, 10)
    assert list(timestamped.fetch("a", 0, 200)) == [(0, ValueAndTimestamp(2, 10)), (100, ValueAndTimestamp(1, 150))]
    sessions = driver.get_session_store("sess")
    assert list(sessions.fetch("a")) == [(Windowed("a", SessionWindow(0, 10)), 2),
                                         (Windowed("a", SessionWindow(150, 150)), 1)]
    # the wrong kind, or no such store: None, as Kafka's getters answer null
    assert driver.get_window_store("sess") is None and driver.get_timestamped_window_store("sess") is None
    assert driver.get_session_store("win") is None and driver.get_key_value_store("win") is None
    assert driver.get_window_store("missing") is None and driver.get_session_store("missing") is None


def test_a_plain_window_store_is_returned_as_it_is() -> None:
    class PutInWindow(Processor[str, str, None, None]):
        def init(self, context: ProcessorContext[None, None]) -> None:
            self.store = context.get_state_store("plain-win")

        def process(self, record: Record[str, str]) -> None:
            self.store.put(record.key, record.value, record.timestamp // 100 * 100)

    t = Topology()
    t.add_source("src", "in", key_serde=Serdes.String(), value_serde=Serdes.String())
    t.add_processor("put", PutInWindow, "src")
    t.add_state_store(Stores.window_store_builder(Stores.persistent_window_store("plain-win", 3_600_000, 100),
                                                  Serdes.String(), Serdes.String()), "put")
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", Serdes.String(), Serdes.String()).pipe_input("k", "v", 120)
        store = d.get_window_store("plain-win")
        assert store is d.get_state_store("plain-win") and store.fetch("k", 100) == "v"
        assert d.get_timestamped_window_store("plain-win") is None
