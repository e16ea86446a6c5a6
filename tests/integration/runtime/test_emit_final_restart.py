"""Emit-final windowed aggregations (EmitStrategy.on_window_close, KIP-825) across a restart: Kafka Streams commits
the last emitted window-close time as ProcessorMetadata (key: the store name) in every input partition's offset
metadata and restores it before the processor's first emit decision, so windows closed and emitted before the
restart are not emitted again, whether the restarted app keeps its state dir or restores the store from the
changelog. Both processing guarantees, on both brokers."""
from __future__ import annotations

import shutil
from collections import Counter
from typing import Any

import pytest

from pystreams import Consumed, Materialized, Produced, Serdes, StreamsBuilder, Stores
from pystreams.dsl.windows import EmitStrategy, TimeWindows
from pystreams.runtime.kafka_streams import KafkaStreams
from pystreams.runtime.offset_metadata import decode
from tests.integration.runtime.helpers import create_topics, read_all, unique
from tests.integration.runtime.test_committed_partition_time import BASE, committed, produce_at

pytestmark = pytest.mark.integration

WINDOW = 1000


def _app(app_id: str, bootstrap: str, state_dir: str, source: str, sink: str, guarantee: str) -> KafkaStreams:
    b = StreamsBuilder()
    (b.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).group_by_key()
     .windowed_by(TimeWindows.of_size_with_no_grace(WINDOW)).emit_strategy(EmitStrategy.on_window_close())
     .count(Materialized.as_(Stores.persistent_timestamped_window_store("final-counts", 3_600_000, WINDOW)))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.window.start - BASE}", str(v)))
     .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return KafkaStreams(b.build(), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": state_dir,
        "commit.interval.ms": 200, "processing.guarantee": guarantee, "auto.offset.reset": "earliest",
        "__emit.interval.ms.kstreams.windowed.aggregation__": 0})


def _outputs(bootstrap: str, sink: str, expected: int, timeout: float = 60) -> list[tuple[str, str]]:
    got = read_all(bootstrap, sink, expected, timeout=timeout, isolation="read_committed")
    return [(k.decode(), v.decode()) for k, v in got]


@pytest.mark.parametrize("wipe", [False, True], ids=["same-state-dir", "restored-from-changelog"])
@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_closed_windows_are_not_emitted_again_after_a_restart(kafka_broker: Any, tmp_path: Any, guarantee: str,
                                                                wipe: bool) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    source, sink, app_id = unique("in"), unique("out"), unique("emit-final")
    create_topics(bootstrap, 1, source, sink)
    state = tmp_path / "state"
    produce_at(bootstrap, source, [(0, "k", "a", BASE), (0, "k", "b", BASE + 10), (0, "j", "c", BASE + 1500)])
    app = _app(app_id, bootstrap, str(state), source, sink, guarantee)
    app.start()
    try:
        assert _outputs(bootstrap, sink, 1) == [("k@0", "2")]  # [0,1000) closed at stream time 1500
    finally:
        assert app.close(60)
    md = {p: decode(m.rstrip("\0")) for p, (_off, m) in committed(bootstrap, app_id, source).items()}
    assert md[0].partition_time == BASE + 1500
    assert md[0].processor_metadata == {"final-counts": BASE + 1500}  # Kafka's key: the store name

    if wipe:
        shutil.rmtree(state)  # the window store comes back from its changelog, [0,1000) included
    produce_at(bootstrap, source, [(0, "k", "d", BASE + 2600)])  # closes [1000,2000)
    app = _app(app_id, bootstrap, str(state), source, sink, guarantee)
    app.start()
    try:
        got = _outputs(bootstrap, sink, 2)
        # the second emit forwards every window it emits at once (one fetch, one transaction): a re-emitted
        # [0,1000) would be written before [1000,2000)
        assert ("j@1000", "1") in got, got
    finally:
        assert app.close(60)
    got = _outputs(bootstrap, sink, 3, timeout=3)  # everything the sink holds after the close
    assert Counter(got) == Counter({("k@0", "2"): 1, ("j@1000", "1"): 1}), got
