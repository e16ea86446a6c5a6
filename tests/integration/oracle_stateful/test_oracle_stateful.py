"""Stateful topologies: our outputs equal Java Kafka Streams 4.1.1's record for record (and describe() text).

Inputs are seeded random (hundreds of records, a few keys, null keys, null values = tombstones for tables,
negative values, out-of-order timestamps). Both sides run a TopologyTestDriver (commit after every record);
after every input each output topic is read in the same order. Caching on and off are both compared with
Java's, and the final table from caching on equals the one from caching off.
"""
from __future__ import annotations

import random
from typing import Any

import pytest

from pystreams import Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver
from tests.integration.oracle_stateful.topologies import TOPOLOGIES

pytestmark = [pytest.mark.integration, pytest.mark.reference]

APP = "oracle-stateful"


def random_records(seed: int, n: int = 300, keys: int = 9, topics: tuple[str, ...] = ("in",)) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    ts = 1_000
    for _ in range(n):
        ts += rnd.randrange(0, 40)
        key = None if rnd.random() < 0.05 else f"{rnd.choice('abc')}{rnd.randrange(keys)}"
        value = None if rnd.random() < 0.15 else rnd.randrange(-30, 120)
        out.append({"topic": rnd.choice(topics), "key": key, "value": value, "timestamp": ts - rnd.randrange(0, 60),
                    "headers": {"seq": str(len(out))} if rnd.random() < 0.5 else {}})
    return out


def drive_python(name: str, records: list[dict[str, Any]], config: dict[str, Any] | None = None,
                 **params: Any) -> list[dict[str, Any]]:
    build, outputs = TOPOLOGIES[name]
    builder = StreamsBuilder()
    build(builder, **params)
    config = {"application.id": APP, **(config or {})}
    out: list[dict[str, Any]] = []
    with TopologyTestDriver(builder.build(config), config) as driver:
        sources = {t: driver.create_input_topic(t, Serdes.String(), Serdes.Long())
                   for t in sorted({r["topic"] for r in records})}
        topics = [(topic, driver.create_output_topic(topic, Serdes.String(), serde)) for topic, serde in outputs]
        for record in records:
            headers = [(k, v.encode()) for k, v in record.get("headers", {}).items()]
            sources[record["topic"]].pipe_input(record["key"], record["value"], record["timestamp"],
                                                headers=headers)
            for topic, reader in topics:
                out.extend({"topic": topic, "key": r.key, "value": r.value, "timestamp": r.timestamp,
                            "headers": {k: None if v is None else v.decode() for k, v in r.headers}}
                           for r in reader.read_records_to_list())
    return out


def drive_oracle(java_streams: Any, name: str, records: list[dict[str, Any]],
                 config: dict[str, Any]) -> list[dict[str, Any]]:
    got = java_streams.drive(name, records, {"application.id": APP, **config})
    return [{k: r[k] for k in ("topic", "key", "value", "timestamp", "headers")} for r in got]


def assert_same(ours: list[dict[str, Any]], java: list[dict[str, Any]]) -> None:
    assert java, "the Java topology produced nothing: the comparison would be empty"
    for i, (a, b) in enumerate(zip(ours, java)):
        assert a == b, f"record {i} differs: ours {a} java {b}\n(previous: {ours[max(0, i - 3):i]})"
    assert len(ours) == len(java), f"ours {len(ours)} records, java {len(java)}"


def final_tables(records: list[dict[str, Any]]) -> dict[tuple[str, Any], Any]:
    table: dict[tuple[str, Any], Any] = {}
    for r in records:
        table[(r["topic"], r["key"])] = r["value"]  # headers and timestamps differ with caching, values not
    return table


CASES = [
    ("statefulstreamaggregations", {}, {}),
    ("statefultablegroupby", {}, {}),
    ("statefultablefiltermap", {"materialize_source": False, "materialize_filter": False},
     {"oracle.materialize.source": "false", "oracle.materialize.filter": "false"}),
    ("statefultablefiltermap", {"materialize_source": True, "materialize_filter": False},
     {"oracle.materialize.source": "true", "oracle.materialize.filter": "false"}),
    ("statefultablefiltermap", {"materialize_source": False, "materialize_filter": True},
     {"oracle.materialize.source": "false", "oracle.materialize.filter": "true"}),
    ("statefultablefiltermap", {"materialize_source": False, "materialize_filter": False, "materialize_map": True},
     {"oracle.materialize.source": "false", "oracle.materialize.filter": "false", "oracle.materialize.map": "true"}),
    ("statefultablefiltermap", {"materialize_source": True, "materialize_filter": True, "materialize_map": True},
     {"oracle.materialize.source": "true", "oracle.materialize.filter": "true", "oracle.materialize.map": "true"}),
    ("statefultotable", {}, {}),
    ("statefulchains", {}, {}),
]


@pytest.mark.parametrize(("name", "params", "config"), CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items())}" for n, p, _ in CASES])
def test_outputs_equal_java_with_and_without_caching(java_streams: Any, name: str, params: dict[str, Any],
                                                     config: dict[str, Any]) -> None:
    records = random_records(seed=sum(map(ord, name)) + len(params),
                             topics=("in", "tin") if name == "statefulchains" else ("in",))
    finals = []
    for caching in (True, False):
        ours = drive_python(name, records, caching=caching, **params)
        assert_same(ours, drive_oracle(java_streams, name, records,
                                       {**config, "oracle.caching": str(caching).lower()}))
        finals.append(final_tables(ours))
    # caching changes which intermediate updates are sent, never the tables they end in
    with_cache, without_cache = finals
    assert {k: v for k, v in with_cache.items() if v not in (None, 0)} == \
        {k: v for k, v in without_cache.items() if v not in (None, 0)}


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_describe_equals_java(java_streams: Any, name: str) -> None:
    build, _ = TOPOLOGIES[name]
    builder = StreamsBuilder()
    params: dict[str, Any] = {"caching": True}
    config: dict[str, Any] = {}
    if name == "statefultablefiltermap":
        params.update(materialize_source=True, materialize_filter=True)
        config.update({"oracle.materialize.source": "true", "oracle.materialize.filter": "true"})
    build(builder, **params)
    assert str(builder.build().describe()) == java_streams.describe(name, config)


@pytest.mark.parametrize("name", ["statefultablegroupby", "statefulchains", "statefultablefiltermap"])
def test_outputs_equal_java_with_a_zero_byte_record_cache(java_streams: Any, name: str) -> None:
    # statestore.cache.max.bytes=0 strips the caching layers (Kafka's InternalTopologyBuilder.rewriteTopology)
    records = random_records(seed=7 + len(name), topics=("in", "tin") if name == "statefulchains" else ("in",))
    params: dict[str, Any] = {"caching": True}
    config: dict[str, Any] = {"statestore.cache.max.bytes": 0}
    if name == "statefultablefiltermap":
        params.update(materialize_source=True, materialize_filter=True)
        config.update({"oracle.materialize.source": "true", "oracle.materialize.filter": "true"})
    ours = drive_python(name, records, {"statestore.cache.max.bytes": 0}, **params)
    assert_same(ours, drive_oracle(java_streams, name, records, config))


@pytest.mark.parametrize("name", ["statefulstreamaggregations", "statefultablegroupby", "statefultablefiltermap",
                                  "statefultotable", "statefulchains"])
def test_optimized_topologies_equal_java(java_streams: Any, name: str) -> None:
    # topology.optimization=all: source topics reused as changelogs, repartition topics merged
    records = random_records(seed=11 + len(name), topics=("in", "tin") if name == "statefulchains" else ("in",))
    params: dict[str, Any] = {"caching": True}
    config: dict[str, Any] = {"topology.optimization": "all"}
    java_config = dict(config)
    if name == "statefultablefiltermap":
        params.update(materialize_source=True, materialize_filter=False)
        java_config.update({"oracle.materialize.source": "true", "oracle.materialize.filter": "false"})
    builder = StreamsBuilder()
    TOPOLOGIES[name][0](builder, **params)
    assert str(builder.build({**config, "application.id": APP}).describe()) == java_streams.describe(name, java_config)
    ours = drive_python(name, records, config, **params)
    assert_same(ours, drive_oracle(java_streams, name, records, java_config))


@pytest.mark.parametrize("caching", [True, False])
def test_idempotent_table_updates_are_forwarded_like_java(java_streams: Any, caching: bool) -> None:
    # Kafka 4.1's KTableSource forwards an update even when the value did not change (KIP-557's
    # emit-on-change was reverted); timestamps move on, so downstream sees every write.
    records = [{"topic": "in", "key": "a1", "value": 5, "timestamp": ts} for ts in (10, 20, 20, 15)]
    records += [{"topic": "in", "key": "a1", "value": None, "timestamp": 30}] * 2
    ours = drive_python("statefultotable", records, caching=caching)
    java = drive_oracle(java_streams, "statefultotable", records, {"oracle.caching": str(caching).lower()})
    assert_same(ours, java)
    assert [r["value"] for r in java if r["topic"] == "out"][:4] == [5, 5, 5, 5]
