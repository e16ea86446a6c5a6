"""Windowed key bytes against Kafka Streams 4.1.1 itself: Kafka's TimeWindowedSerializer/Deserializer and
SessionWindowedSerializer/Deserializer, built with their no-arg constructors and configured from config maps only
(as default.key.serde = WindowedSerdes$TimeWindowedSerde is), and our serde resolved from the same class name and
config keys, produce the same bytes and read each other's (one JVM per case, tests/reference/java/pystreams/interop/
WindowedBytes.java)."""
from __future__ import annotations

import subprocess

import pytest

from pystreams.serdes import resolve_serde
from pystreams.serdes.windowed import LONG_MAX, SessionWindow, TimeWindow, Windowed

pytestmark = [pytest.mark.integration, pytest.mark.reference]

STRING = "org.apache.kafka.common.serialization.Serdes$StringSerde"
LONG = "org.apache.kafka.common.serialization.Serdes$LongSerde"
SIZE = 5000
CASES = {
    # kind, serde class name, inner serde, config key naming it, windows (key, start, end)
    "time-string-kafka4-keys": ("time", "org.apache.kafka.streams.kstream.WindowedSerdes$TimeWindowedSerde", STRING,
                                "windowed.inner.serializer.class",
                                [("word", 5000, 10000), ("", 0, SIZE), ("a b", 1_764_000_000_000, 1_764_000_005_000),
                                 ("max", LONG_MAX - 100, LONG_MAX)]),  # end capped at Long.MAX_VALUE when read
    "session-long-deprecated-key": ("session", "org.apache.kafka.streams.kstream.WindowedSerdes$SessionWindowedSerde",
                                    LONG, "windowed.inner.class.serde",
                                    [(42, 10, 20), (-1, 7, 7), (0, 0, LONG_MAX)]),
}


def _java(args: list[str]) -> list[str]:
    from tests.reference import jvm
    from tests.reference.streams_oracle import compile_oracle

    try:
        argv = jvm.java_command("pystreams.interop.WindowedBytes", *args, extra_classpath=[compile_oracle()])
    except jvm.ReferenceSetupError as e:
        pytest.skip(str(e))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


@pytest.mark.parametrize("case", list(CASES))
def test_windowed_key_bytes_match_kafka_both_ways(case):
    kind, class_name, inner, inner_key, windows = CASES[case]
    configs = {inner_key: inner}
    if kind == "time":
        configs["window.size.ms"] = str(SIZE)
    ours = resolve_serde(class_name, configs, is_key=True)
    window = TimeWindow if kind == "time" else SessionWindow
    expected = [Windowed(key, window(start, min(end, LONG_MAX))) for key, start, end in windows]
    our_bytes = [ours.serialize("topic", w) for w in expected]

    commands = [f"ser:{key}:{start}:{end}" for key, start, end in windows] + [f"de:{b.hex()}" for b in our_bytes]
    lines = _java([inner, inner_key, kind, *([str(SIZE)] if kind == "time" else []), *commands])
    assert len(lines) == 2 * len(windows), lines
    java_bytes = [bytes.fromhex(line.split(" ", 1)[1]) for line in lines[:len(windows)]]
    assert java_bytes == our_bytes  # Kafka's serializer and ours: the same bytes
    assert [ours.deserialize("topic", b) for b in java_bytes] == expected  # Kafka's bytes read by us
    java_read = [line.split(" ", 1)[1] for line in lines[len(windows):]]  # our bytes read by Kafka
    assert java_read == [f"{w.key}|{w.window.start}|{w.window.end}" for w in expected]
