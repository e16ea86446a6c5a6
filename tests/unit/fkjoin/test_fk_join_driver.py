"""Foreign-key join behaviour in the TopologyTestDriver: subscribers found by an exact foreign-key prefix,
the subscription store's changelog keyed {fk length}{fk}{pk}, internal topics, and clear DSL errors."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import StreamsBuilder
from pystreams.dsl.joins import TableJoined
from pystreams.dsl.options import Consumed, Produced
from pystreams.errors import TopologyError
from pystreams.serdes import Serdes
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

S = Serdes.String()


def _topology(left_join: bool = False) -> Any:
    builder = StreamsBuilder()
    orders = builder.table("orders", Consumed.with_(S, S))
    customers = builder.table("customers", Consumed.with_(S, S))
    join = orders.left_join if left_join else orders.join
    join(customers, lambda v: v.split(":")[0] or None, lambda o, c: f"{o}@{c}", TableJoined.as_("oc")) \
        .to_stream().to("out", Produced.with_(S, S))
    return builder.build()


def _run(topology: Any, records: list[tuple[str, str, str | None]]) -> list[tuple[str, str | None]]:
    with TopologyTestDriver(topology, {"application.id": "fk"}) as driver:
        inputs = {t: driver.create_input_topic(t, S, S) for t in ("orders", "customers")}
        out = driver.create_output_topic("out", S, S)
        for topic, key, value in records:
            inputs[topic].pipe_input(key, value)
        return [(r.key, r.value) for r in out.read_records_to_list()]


def test_a_foreign_update_reaches_only_subscribers_of_that_exact_key() -> None:
    got = _run(_topology(), [("orders", "o1", "f:1"), ("orders", "o2", "f1:2"), ("customers", "f", "Fred"),
                             ("customers", "f1", "Fia"), ("customers", "f", "Fred2")])
    assert got == [("o1", "f:1@Fred"), ("o2", "f1:2@Fia"), ("o1", "f:1@Fred2")]


def test_foreign_key_change_and_tombstones() -> None:
    got = _run(_topology(), [("customers", "c1", "Ann"), ("customers", "c2", "Bob"), ("orders", "o1", "c1:x"),
                             ("orders", "o1", "c2:x"), ("orders", "o1", "c3:x"), ("customers", "c3", "Cy"),
                             ("customers", "c3", None), ("orders", "o1", None)])
    assert got == [("o1", "c1:x@Ann"), ("o1", "c2:x@Bob"), ("o1", None), ("o1", "c3:x@Cy"), ("o1", None),
                   ("o1", None)]


def test_left_join_keeps_rows_without_foreign_key_or_match() -> None:
    got = _run(_topology(left_join=True), [("orders", "o1", ":x"), ("orders", "o2", "c9:y"),
                                           ("customers", "c9", "Zed"), ("orders", "o2", None)])
    assert got == [("o1", ":x@None"), ("o2", "c9:y@None"), ("o2", "c9:y@Zed"), ("o2", None)]


def test_subscription_store_changelog_and_internal_topics() -> None:
    topology = _topology()
    internal = topology.internal_topics()
    names = {t if isinstance(t, str) else t.name for group in internal.values() for t in group}
    assert {"oc-subscription-registration-topic", "oc-subscription-response-topic"} <= names
    with TopologyTestDriver(topology, {"application.id": "fk"}) as driver:
        driver.create_input_topic("orders", S, S).pipe_input("o1", "c1:x")
        changelog = driver.create_output_topic("fk-oc-subscription-store-changelog", Serdes.Bytes(), Serdes.Bytes())
        records = changelog.read_records_to_list()
    assert [r.key for r in records] == [b"\x00\x00\x00\x02c1o1"]


def test_bad_options_and_foreign_builders_are_refused() -> None:
    builder = StreamsBuilder()
    left = builder.table("a", Consumed.with_(S, S))
    right = builder.table("b", Consumed.with_(S, S))
    with pytest.raises(TopologyError, match="TableJoined and Materialized"):
        left.join(right, lambda v: v, lambda a, b: a, 42)
    other = StreamsBuilder().table("c", Consumed.with_(S, S))
    with pytest.raises(TopologyError, match="same StreamsBuilder"):
        left.left_join(other, lambda v: v, lambda a, b: a)


def test_responses_go_back_to_the_subscribers_partition_unless_table_joined_says_otherwise() -> None:
    from pystreams.compiler.fk_join_extension import _back_to_subscriber, _user_partitioner
    from pystreams.compiler.processors.fkjoin import SubscriptionResponseWrapper

    assert _back_to_subscriber("t", "k", SubscriptionResponseWrapper(None, 1, 3), 4) == {3}
    assert _back_to_subscriber("t", "k", SubscriptionResponseWrapper(None, 1, None), 4) is None
    seen: list[Any] = []

    def user(topic: str, key: Any, value: Any, n: int) -> int:
        seen.append((topic, key, value, n))
        return 1

    assert _user_partitioner(user)("t", "k", SubscriptionResponseWrapper(None, 1, 3), 4) == 1
    assert seen == [("t", "k", None, 4)]
    assert _user_partitioner(None) is None


def test_copartition_groups_are_kafkas_and_tables_may_differ_in_partitions() -> None:
    from pystreams.compiler.copartition import copartition_counts

    builder = StreamsBuilder()
    left = builder.table("left", Consumed.with_(S, S))
    right = builder.table("right", Consumed.with_(S, S))
    first = left.join(right, lambda v: v, lambda a, b: a, TableJoined.as_("one"))
    first.join(right, lambda v: v, lambda a, b: a, TableJoined.as_("two"))
    topology = builder.build()
    groups = sorted(sorted(g) for g in topology.copartition_groups())
    src = {n.name: n for n in topology.nodes()}
    topics = [sorted(t for s in g for t in (getattr(src[s], "topics", ()) or ())) for g in groups]
    assert sorted(topics) == sorted([["one-subscription-registration-topic", "right"],
                                     ["left", "one-subscription-response-topic"],
                                     ["right", "two-subscription-registration-topic"],
                                     ["left", "one-subscription-response-topic", "two-subscription-response-topic"]])
    counts = copartition_counts(topology, {"left": 2, "right": 3}.get)
    assert counts["one-subscription-registration-topic"] == 3
    assert counts["one-subscription-response-topic"] == 2
    assert counts["two-subscription-response-topic"] == 2


def test_default_serdes_fill_every_internal_serde() -> None:
    builder = StreamsBuilder()
    orders = builder.table("orders")
    customers = builder.table("customers")
    orders.left_join(customers, lambda v: v.split(":")[0], lambda o, c: f"{o}@{c}").to_stream().to("out")
    config = {"application.id": "fk", "default.key.serde": Serdes.String(), "default.value.serde": Serdes.String()}
    with TopologyTestDriver(builder.build(), config) as driver:
        driver.create_input_topic("customers", S, S).pipe_input("c1", "Ann")
        driver.create_input_topic("orders", S, S).pipe_input("o1", "c1:x")
        assert driver.create_output_topic("out", S, S).read_key_values_to_list() == [("o1", "c1:x@Ann")]
