"""A sink with Kafka's Long value serde packs int values itself (SinkRuntime.value_long): the bytes are the
serde's for every int, and what the serde refuses (a bool, a float, an int outside a Java long) still fails with
the serde's error, as before."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.errors import PystreamsError
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

LONG_MAX = (1 << 63) - 1
VALUES: list[Any] = [0, 1, -1, 42, LONG_MAX, -LONG_MAX - 1, 1 << 40, None]


def _driver(values: list[Any]) -> TopologyTestDriver:
    builder = StreamsBuilder()
    (builder.stream("in", Consumed(Serdes.String(), Serdes.String()))
        .map_values(lambda v: values[int(v)])
        .to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return TopologyTestDriver(builder.build(), {"application.id": "sink-long"})


def test_int_values_are_the_serdes_bytes() -> None:
    with _driver(VALUES) as driver:
        source = driver.create_input_topic("in", Serdes.String(), Serdes.String())
        out = driver.create_output_topic("out", Serdes.String(), Serdes.ByteArray())
        for i in range(len(VALUES)):
            source.pipe_input(f"k{i}", str(i))
        got = out.read_values_to_list()
    assert got == [Serdes.Long().serialize("out", v) for v in VALUES]
    assert got[4] == b"\x7f" + b"\xff" * 7


@pytest.mark.parametrize("bad", [True, 1.5, LONG_MAX + 1, -LONG_MAX - 2], ids=["bool", "float", "above", "below"])
def test_what_the_serde_refuses_still_fails(bad: Any) -> None:
    with pytest.raises(Exception) as expected:
        Serdes.Long().serialize("out", bad)
    with _driver([bad]) as driver:
        source = driver.create_input_topic("in", Serdes.String(), Serdes.String())
        with pytest.raises(PystreamsError) as failed:
            source.pipe_input("k", "0")
    assert str(expected.value) in str(failed.value)
