"""S1's topologies through the shared Java oracle (fixture `java_streams`): describe() text and the
output records (read after every input, per output topic, as the oracle's Driver does) equal Java's."""
from __future__ import annotations

import random
import re
from typing import Any

import pytest

from pystreams import Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver
from tests.integration.oracle.harness_cases import CASES

pytestmark = [pytest.mark.integration, pytest.mark.reference]

APP = "s1-harness"
S = Serdes.String()


def records(seed: int, n: int = 300) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    words = ["a1", "b2", "c3", "ab", "ba", "a", "b11", "c", "12", "xyz", "bb-a1", "a1-b2-a1", "x9-x9"]
    out, ts = [], 1_000
    for _ in range(n):
        ts += rng.randrange(0, 30)
        out.append({"topic": "in", "key": None if rng.random() < 0.05 else f"k{rng.randrange(6)}",
                    "value": None if rng.random() < 0.1 else rng.choice(words), "timestamp": ts,
                    "headers": {"n": str(len(out))} if rng.random() < 0.3 else {}})
    return out


def ours(name: str, inputs: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    builder = StreamsBuilder()
    outputs = CASES[name](builder)
    out: list[dict[str, Any]] = []
    with TopologyTestDriver(builder.build(config), config) as driver:
        source = driver.create_input_topic("in", S, S)
        readers = [(topic, driver.create_output_topic(topic, S, serde)) for topic, serde in outputs]
        for r in inputs:
            source.pipe_input(r["key"], r["value"], r["timestamp"],
                              headers=[(k, v.encode()) for k, v in r["headers"].items()])
            for topic, reader in readers:
                out.extend({"topic": topic, "key": x.key, "value": x.value, "timestamp": x.timestamp,
                            "headers": {k: None if v is None else v.decode() for k, v in x.headers}}
                           for x in reader.read_records_to_list())
    return out


def _extractors(text: str) -> str:
    # a topic-name extractor prints as its class: Java's is a lambda's toString, ours the function's
    # qualified name; everything else must be identical
    return re.sub(r"\(extractor class: [^)]*\)", "(extractor class: <extractor>)", text)


@pytest.mark.parametrize("name", list(CASES))
def test_describe_equals_java(java_streams: Any, name: str) -> None:
    builder = StreamsBuilder()
    CASES[name](builder)
    assert _extractors(str(builder.build().describe())) == _extractors(java_streams.describe(name))


@pytest.mark.parametrize("optimize", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_outputs_equal_java(java_streams: Any, name: str, optimize: bool) -> None:
    config: dict[str, Any] = {"application.id": APP, "default.key.serde": "string",
                              "default.value.serde": "string"}
    java_config: dict[str, Any] = {"application.id": APP,
                                   "default.key.serde": "org.apache.kafka.common.serialization.Serdes$StringSerde",
                                   "default.value.serde": "org.apache.kafka.common.serialization.Serdes$StringSerde"}
    if optimize:
        config["topology.optimization"] = java_config["topology.optimization"] = "all"
    inputs = records(seed=len(name) + optimize)
    expected = [{k: r[k] for k in ("topic", "key", "value", "timestamp", "headers")}
                for r in java_streams.drive(name, inputs, java_config)]
    assert len(expected) > 100, "the case must produce output to test anything"
    got = ours(name, inputs, config)
    for i, (a, b) in enumerate(zip(got, expected)):
        assert a == b, f"record {i} differs: ours {a} java {b}"
    assert len(got) == len(expected)
