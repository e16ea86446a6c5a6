"""ensure.explicit.internal.resource.naming (Kafka 4.1, KIP-1111): with the key true, build(props) fails with
Kafka's TopologyException text listing every generated changelog topic, state store and repartition topic; with
every name given it passes; with the key false the topology is the same and Kafka's warning is logged."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pystreams import (
    BufferConfig,
    Grouped,
    JoinWindows,
    Materialized,
    Repartitioned,
    SessionWindows,
    StreamJoined,
    StreamsBuilder,
    Suppressed,
    TimeWindows,
)
from pystreams.compiler import TopologyException
from pystreams.compiler.naming import implicit_internal_names, is_generated
from pystreams.dsl.joins import Joined, TableJoined
from pystreams.errors import ConfigError

pytestmark = pytest.mark.unit

KEY = "ensure.explicit.internal.resource.naming"
ON = {KEY: "true"}
WARNING = ("Explicit naming for internal resources is currently disabled. If you want to enforce user-defined "
           "names for all internal resources, set ensure.explicit.internal.resource.naming to true. Note: "
           "Changing internal resource names may require a full streams application reset for an already "
           "deployed application. Consult the documentation on naming operators for more details. ")
FIVE = timedelta(seconds=5)


def _lines(changelogs: str = "", stores: str = "", repartitions: str = "") -> str:
    """Kafka's checkUnprovidedNames text for these lists (a kind without names has no line)."""
    return "".join(f"Following {kind} has not been named: {names}\n" for kind, names in
                   (("changelog topic(s)", changelogs), ("state store(s)", stores),
                    ("repartition topic(s)", repartitions)) if names)


# --------------------------------------------------------------------------- one topology per kind
def aggregate(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").group_by_key().count(Materialized.as_("counts") if named else None).to_stream().to("out")
    return b


def group_by(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").group_by(lambda k, v: v, Grouped.as_("by-value") if named else None).count(
        Materialized.as_("counts") if named else None)
    return b


def stream_table_join(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    table = b.table("items", None, Materialized.as_("items") if named else None)
    b.stream("in").map(lambda k, v: (v, v)).join(table, lambda v, t: v,
                                                  Joined().with_name("enrich") if named else None).to("out")
    return b


def repartition(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").repartition(Repartitioned.as_("spread") if named else None).to("out")
    return b


def stream_stream_join(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    joined = StreamJoined().with_store_name("pairs") if named else None
    b.stream("a").join(b.stream("b"), lambda x, y: x, JoinWindows.of_time_difference_with_no_grace(FIVE),
                       joined).to("out")
    return b


def windowed(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(FIVE)).count(
        Materialized.as_("per-window") if named else None)
    return b


def session(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(FIVE)).count(
        Materialized.as_("per-session") if named else None)
    return b


def suppress(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    until = Suppressed.until_window_closes(BufferConfig.unbounded())
    b.stream("in").group_by_key().windowed_by(TimeWindows.of_size_and_grace(FIVE, FIVE)).count(
        Materialized.as_("per-window")).suppress(until.with_name("final") if named else until)
    return b


def global_table(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    b.global_table("countries", None, Materialized.as_("countries") if named else None)
    return b


def foreign_key_join(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    orders = b.table("orders", None, Materialized.as_("orders"))
    customers = b.table("customers", None, Materialized.as_("customers"))
    if named:
        orders.join(customers, lambda v: v, lambda o, c: o, TableJoined.as_("order-customer"))
    else:
        orders.join(customers, lambda v: v, lambda o, c: o)
    return b


def unlogged_aggregate(named: bool) -> StreamsBuilder:
    b = StreamsBuilder()
    materialized = Materialized.as_("counts") if named else Materialized()
    b.stream("in").group_by_key().count(materialized.with_logging_disabled())
    return b


KINDS: dict[str, tuple[Callable[[bool], StreamsBuilder], str]] = {
    "aggregate store (Materialized)": (aggregate, _lines(
        "KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog", "KSTREAM-AGGREGATE-STATE-STORE-0000000001")),
    "group_by repartition (Grouped)": (group_by, _lines(
        "KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog", "KSTREAM-AGGREGATE-STATE-STORE-0000000002",
        "KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition")),
    "stream-table join repartition (Joined) and table store": (stream_table_join, _lines(
        "items-STATE-STORE-0000000000-changelog", "items-STATE-STORE-0000000000",
        "KSTREAM-MAP-0000000004-repartition")),
    "repartition() (Repartitioned)": (repartition, _lines(repartitions="KSTREAM-REPARTITION-0000000001-repartition")),
    "stream-stream join stores (StreamJoined)": (stream_stream_join, _lines(
        "KSTREAM-JOINTHIS-0000000004-store-changelog, KSTREAM-JOINOTHER-0000000005-store-changelog",
        "KSTREAM-JOINTHIS-0000000004-store, KSTREAM-JOINOTHER-0000000005-store")),
    "window store": (windowed, _lines(
        "KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog", "KSTREAM-AGGREGATE-STATE-STORE-0000000001")),
    "session store": (session, _lines(
        "KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog", "KSTREAM-AGGREGATE-STATE-STORE-0000000001")),
    "suppress buffer (Suppressed name)": (suppress, _lines(
        "KTABLE-SUPPRESS-STATE-STORE-0000000003-changelog", "KTABLE-SUPPRESS-STATE-STORE-0000000003")),
    "global table store (no changelog)": (global_table, _lines(stores="countries-STATE-STORE-0000000000")),
    "foreign-key join (TableJoined)": (foreign_key_join, _lines(
        "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000008-changelog",
        "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000008",
        "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000004-topic, "
        "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic")),
    "store with logging disabled (no changelog)": (unlogged_aggregate, _lines(
        stores="KSTREAM-AGGREGATE-STATE-STORE-0000000002")),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_generated_name_fails_the_build_with_kafkas_list(kind):
    make, expected = KINDS[kind]
    with pytest.raises(TopologyException) as failure:
        make(False).build(ON)
    assert str(failure.value) == f"Invalid topology: {expected}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_with_every_name_given_the_build_passes_and_nothing_is_logged(kind, caplog):
    make, _ = KINDS[kind]
    with caplog.at_level(logging.WARNING, logger="pystreams.compiler.naming"):
        topology = make(True).build(ON)
    assert not implicit_internal_names(topology)
    assert not [r for r in caplog.records if r.name == "pystreams.compiler.naming"]


def test_all_three_kinds_in_kafkas_order_and_format():
    """KIP-1111's example shape: changelogs, then stores, then repartition topics, in DSL order."""
    b = StreamsBuilder()
    deliveries = b.stream("delivery_booked_topic").map(lambda k, v: (v, v))
    joined = deliveries.join(b.table("item_ref_topic"), lambda d, i: d)
    joined.group_by(lambda k, v: v).count().to_stream().to("delivery_booked_by_item_topic")
    with pytest.raises(TopologyException) as failure:
        b.build(ON)
    assert str(failure.value) == (
        "Invalid topology: Following changelog topic(s) has not been named: "
        "item_ref_topic-STATE-STORE-0000000002-changelog, KSTREAM-AGGREGATE-STATE-STORE-0000000010-changelog\n"
        "Following state store(s) has not been named: item_ref_topic-STATE-STORE-0000000002, "
        "KSTREAM-AGGREGATE-STATE-STORE-0000000010\n"
        "Following repartition topic(s) has not been named: KSTREAM-MAP-0000000001-repartition, "
        "KSTREAM-AGGREGATE-STATE-STORE-0000000010-repartition\n")


def test_a_repartition_topic_named_after_the_users_store_is_not_generated():
    """group_by without a Grouped name repartitions through "<store>-repartition": with Materialized.as_ that is
    the user's name, stable across topology changes."""
    b = StreamsBuilder()
    b.stream("in").group_by(lambda k, v: v).count(Materialized.as_("counts"))
    assert b.build(ON).internal_topics()["repartition"] == ["counts-repartition"]


@pytest.mark.parametrize("props", [None, {}, {KEY: "false"}, {KEY: False}, {KEY: " FALSE "}])
def test_with_the_key_false_the_topology_is_unchanged_and_kafkas_warning_logged(props, caplog):
    with caplog.at_level(logging.WARNING, logger="pystreams.compiler.naming"):
        topology = aggregate(False).build(props)
    assert str(topology.describe()) == str(aggregate(False).build({KEY: "false"}).describe())
    assert topology.internal_topics()["changelog"] == {
        "KSTREAM-AGGREGATE-STATE-STORE-0000000001": "KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog"}
    warned = [r.getMessage() for r in caplog.records if r.name == "pystreams.compiler.naming"]
    assert warned[0] == WARNING + KINDS["aggregate store (Materialized)"][1]


@pytest.mark.parametrize("value", [True, "true", " True "])
def test_the_key_is_read_as_kafkas_boolean(value):
    with pytest.raises(TopologyException, match="Invalid topology: Following changelog topic"):
        aggregate(False).build({KEY: value})


def test_a_value_that_is_not_a_boolean_is_a_config_error():
    with pytest.raises(ConfigError, match=f"Invalid value yes for configuration {KEY}: Expected value to be "
                                          "either true or false"):
        aggregate(False).build({KEY: "yes"})


def test_a_processor_api_topology_has_no_generated_names():
    """Kafka checks what the DSL generated; in the Processor API every name is the user's own."""
    from pystreams.compiler import Topology
    from pystreams.state import Stores

    class Noop:
        def init(self, context: Any) -> None: ...
        def process(self, record: Any) -> None: ...
        def close(self) -> None: ...

    topology = Topology().add_source("KSTREAM-SOURCE-0000000000", "in")
    topology.add_processor("p", Noop, "KSTREAM-SOURCE-0000000000")
    topology.add_state_store(Stores.key_value_store_builder(
        Stores.in_memory_key_value_store("KSTREAM-AGGREGATE-STATE-STORE-0000000001"), None, None), "p")
    assert not implicit_internal_names(topology)


@pytest.mark.parametrize(("name", "generated"), [
    ("KSTREAM-AGGREGATE-STATE-STORE-0000000003", True),
    ("KSTREAM-MAP-0000000001-repartition", True),
    ("items-STATE-STORE-0000000000-changelog", True),
    ("KSTREAM-JOINTHIS-0000000004-store", True),
    ("counts", False),
    ("counts-2024-repartition", False),  # digits, but not the DSL counter's ten
    ("orders-00000000001", False),  # eleven digits
    ("v0000000001", False),  # no dash before the counter
])
def test_a_generated_name_is_one_carrying_the_dsl_counter(name, generated):
    assert is_generated(name) is generated


def test_a_join_named_without_a_store_name_still_has_generated_stores():
    """StreamJoined.with_name names the join's processors; its stores keep generated names (as in Kafka, where
    only with_store_name names them), so the check still lists them."""
    b = StreamsBuilder()
    b.stream("a").join(b.stream("b"), lambda x, y: x, JoinWindows.of_time_difference_with_no_grace(FIVE),
                       StreamJoined().with_name("pairs")).to("out")
    with pytest.raises(TopologyException) as failure:
        b.build(ON)
    assert str(failure.value) == "Invalid topology: " + KINDS["stream-stream join stores (StreamJoined)"][1]
