"""Kafka's windowed serde class names in config values (default.key.serde =
org.apache.kafka.streams.kstream.WindowedSerdes$TimeWindowedSerde with window.size.ms and the inner serde class in
windowed.inner.serializer.class / windowed.inner.deserializer.class, or the deprecated windowed.inner.class.serde)
resolve to our windowed serdes, in Kafka's byte layout: WindowKeySchema.toBinary = key + 8-byte big-endian start;
SessionKeySchema.toBinary = key + 8-byte end + 8-byte start. The JVM cross-check is
tests/integration/reference/test_windowed_serde_bytes.py."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.serdes import resolve_serde
from pystreams.serdes.primitives import LongSerde, StringSerde
from pystreams.serdes.windowed import (
    SessionWindow,
    SessionWindowedSerde,
    TimeWindow,
    TimeWindowedSerde,
    Windowed,
)

pytestmark = pytest.mark.unit

STRING = "org.apache.kafka.common.serialization.Serdes$StringSerde"
LONG = "org.apache.kafka.common.serialization.Serdes$LongSerde"
TIME = "org.apache.kafka.streams.kstream.WindowedSerdes$TimeWindowedSerde"
SESSION = "org.apache.kafka.streams.kstream.WindowedSerdes$SessionWindowedSerde"


@pytest.mark.parametrize("name, kind", [(TIME, TimeWindowedSerde), (SESSION, SessionWindowedSerde),
                                        ("WindowedSerdes.TimeWindowedSerde", TimeWindowedSerde),
                                        ("WindowedSerdes$SessionWindowedSerde", SessionWindowedSerde),
                                        ("TimeWindowedSerde", TimeWindowedSerde)])
def test_kafka_class_names_resolve_to_windowed_serdes(name, kind):
    assert type(resolve_serde(name)) is kind


@pytest.mark.parametrize("inner_key", ["windowed.inner.serializer.class", "windowed.inner.deserializer.class",
                                       "windowed.inner.class.serde"])
def test_time_windowed_serde_configured_from_kafka_keys(inner_key):
    serde = resolve_serde(TIME, {inner_key: STRING, "window.size.ms": "5000"}, is_key=True)
    assert isinstance(serde.inner, StringSerde) and serde.window_size_ms == 5000
    data = serde.serialize("t", Windowed("a", TimeWindow(5000, 10000)))
    assert data == b"a" + bytes.fromhex("0000000000001388")  # key + start, big-endian
    assert serde.deserialize("t", data) == Windowed("a", TimeWindow(5000, 10000))


def test_session_windowed_serde_configured_from_kafka_keys():
    serde = resolve_serde(SESSION, {"windowed.inner.class.serde": LONG}, is_key=True)
    assert isinstance(serde.inner, LongSerde)
    data = serde.serialize("t", Windowed(42, SessionWindow(10, 20)))
    assert data == (42).to_bytes(8, "big") + (20).to_bytes(8, "big") + (10).to_bytes(8, "big")  # key, end, start
    assert serde.deserialize("t", data) == Windowed(42, SessionWindow(10, 20))


def test_new_inner_keys_win_over_the_deprecated_one():
    serde = resolve_serde(TIME, {"windowed.inner.serializer.class": LONG, "windowed.inner.class.serde": STRING,
                                 "window.size.ms": 10}, is_key=True)
    assert isinstance(serde.inner, LongSerde)


def test_conflicting_inner_serializer_and_deserializer_is_a_config_error():
    with pytest.raises(ConfigError, match="differ"):
        resolve_serde(TIME, {"windowed.inner.serializer.class": LONG,
                             "windowed.inner.deserializer.class": STRING}, is_key=True)


def test_empty_bytes_deserialize_to_none_as_in_kafka():
    assert resolve_serde(TIME, {"windowed.inner.class.serde": STRING, "window.size.ms": 5}).deserialize("t", b"") \
        is None
    assert resolve_serde(SESSION, {"windowed.inner.class.serde": STRING}).deserialize("t", b"") is None


def test_unknown_kafka_class_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="no pystreams equivalent"):
        resolve_serde("org.apache.kafka.streams.kstream.WindowedSerdes$NoSuchSerde")


@pytest.mark.parametrize("name, window", [("TimeWindowedSerde", TimeWindow(5000, 10000)),
                                          ("SessionWindowedSerde", SessionWindow(1, 9))])
def test_windowed_default_key_serde_runs_a_topology(name, window):
    """default.key.serde = WindowedSerdes$...: the default serde gets its inner serde from the config (it used to
    take itself as its own inner serde and recurse forever)."""
    from pystreams import Serdes, StreamsBuilder
    from pystreams.serdes.windowed import WindowedSerdes
    from pystreams.testing import TopologyTestDriver

    builder = StreamsBuilder()
    builder.stream("in").map_values(lambda v: v + 1).to("out")
    driver = TopologyTestDriver(builder.build(), {
        "application.id": "windowed-defaults", "bootstrap.servers": "unused:9092",
        "default.key.serde": f"org.apache.kafka.streams.kstream.WindowedSerdes${name}",
        "default.value.serde": LONG, "windowed.inner.class.serde": STRING, "window.size.ms": "5000"})
    try:
        serde = (WindowedSerdes.time_windowed_serde_from(Serdes.String(), 5000) if name.startswith("Time")
                 else WindowedSerdes.session_windowed_serde_from(Serdes.String()))
        driver.create_input_topic("in", serde, Serdes.Long()).pipe_input(Windowed("k", window), 3)
        out = driver.create_output_topic("out", serde, Serdes.Long()).read_key_value()
    finally:
        driver.close()
    assert (out.key, out.value) == (Windowed("k", window), 4)
