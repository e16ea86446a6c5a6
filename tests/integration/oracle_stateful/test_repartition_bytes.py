"""The table group_by repartition topic carries Kafka's ChangedSerializer bytes, and the stores' changelogs
carry Kafka's bytes (with tombstones and record timestamps): Java's and ours are equal.

Both drivers expose the internal topic's records; we read them as raw bytes and compare them (and the
resulting counts) record for record, so a Java instance could consume our repartition topic and vice versa.
"""
from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver

pytestmark = [pytest.mark.integration, pytest.mark.reference]

NAME = "statefulrepartitionbytes"  # the oracle's default application.id is the topology's name
REPARTITION = f"{NAME}-regroup-repartition"
CHANGELOGS = [f"{NAME}-in-STATE-STORE-0000000000-changelog", f"{NAME}-regroup-count-changelog"]


def _ours(records: list[dict[str, Any]], config: dict[str, Any]) -> list[dict[str, Any]]:
    S, L = Serdes.String(), Serdes.Long()
    builder = StreamsBuilder()
    (builder.table("in", Consumed(key_serde=S, value_serde=L))
     .group_by(lambda k, v: (str(v % 3), v), Grouped(key_serde=S, value_serde=L, name="regroup"))
     .count(Materialized.as_("regroup-count")).to_stream().to("out-count", Produced(key_serde=S, value_serde=L)))
    out: list[dict[str, Any]] = []
    with TopologyTestDriver(builder.build(), {"application.id": NAME, **config}) as driver:
        source = driver.create_input_topic("in", S, L)
        raw = [(t, driver.create_output_topic(t, Serdes.ByteArray(), Serdes.ByteArray()))
               for t in [REPARTITION, *CHANGELOGS]]
        counts = driver.create_output_topic("out-count", S, L)
        for r in records:
            source.pipe_input(r["key"], r["value"], r["timestamp"])
            for topic, reader in raw:
                out.extend({"topic": topic, "key": _b64(x.key), "value": _b64(x.value), "timestamp": x.timestamp}
                           for x in reader.read_records_to_list())
            out.extend({"topic": "out-count", "key": x.key, "value": x.value, "timestamp": x.timestamp}
                       for x in counts.read_records_to_list())
    return out


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


@pytest.mark.parametrize("config", [{}, {"upgrade.from": "3.4"}], ids=["current", "upgrade-from-3.4"])
def test_repartition_bytes_equal_javas(java_streams: Any, config: dict[str, Any]) -> None:
    # upgrade.from < 3.5: a same-key update travels as a subtract and an add (no flag-2 records)
    rnd = random.Random(42)
    records = [{"topic": "in", "key": f"k{rnd.randrange(6)}",
                "value": None if rnd.random() < 0.2 else rnd.randrange(-10, 10**12), "timestamp": i * 3}
               for i in range(200)]
    java = [{k: r[k] for k in ("topic", "key", "value", "timestamp")}
            for r in java_streams.drive(NAME, records, config)]
    ours = _ours(records, config)
    assert {r["topic"] for r in java} == {REPARTITION, *CHANGELOGS, "out-count"}, "a topic to compare is empty"
    both_values = any(r["topic"] == REPARTITION and base64.b64decode(r["value"])[-1] == 2 for r in java)
    assert both_values == (not config), "flag-2 (old and new) records exactly when not upgrading from < 3.5"
    for i, (a, b) in enumerate(zip(ours, java)):
        assert a == b, f"record {i}: ours {a} java {b}"
    assert len(ours) == len(java)
