"""Co-partitioning enforced when the runtime plans its topics (before tasks and internal topics exist):
joined source topics with different partition counts fail naming both, a join group's repartition topics
take the group's count, and a join after a foreign-key join is not blamed on the foreign table."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import Consumed, StreamsBuilder
from pystreams.compiler.copartition import CopartitionError
from pystreams.dsl.joins import StreamJoined, TableJoined, stream_stream_join
from pystreams.dsl.windows import JoinWindows
from pystreams.runtime.topics import plan_topology
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit
S, L = Serdes.String(), Serdes.Long()


class _Admin:
    def __init__(self, topics: dict[str, int]) -> None:
        self.topics = topics

    def list_topics(self, timeout: float = 0):
        return SimpleNamespace(topics={name: SimpleNamespace(partitions=dict.fromkeys(range(n)), error=None)
                                       for name, n in self.topics.items()})


def test_joined_source_topics_with_different_counts_fail_at_start_naming_both():
    b = StreamsBuilder()
    orders, payments = b.stream("orders", Consumed.with_(S, L)), b.stream("payments", Consumed.with_(S, L))
    stream_stream_join(orders, payments, lambda a, c: a, JoinWindows.of_time_difference_with_no_grace(10),
                       StreamJoined.with_(S, L, L), False, False)
    with pytest.raises(CopartitionError, match=r"orders=4, payments=3"):
        plan_topology(b.build(), "app", _Admin({"orders": 4, "payments": 3}))
    plan = plan_topology(b.build(), "app", _Admin({"orders": 3, "payments": 3}))
    assert [s.partitions for s in plan.subtopologies] == [3]


def test_a_join_groups_repartition_topic_takes_the_groups_count():
    b = StreamsBuilder()
    clicks = b.stream("clicks", Consumed.with_(S, S))
    users = b.table("users", Consumed.with_(S, S))
    clicks.select_key(lambda k, v: v).join(users, lambda c, u: c).to("out")
    plan = plan_topology(b.build(), "app", _Admin({"clicks": 6, "users": 2, "out": 1}))
    # without the group, the repartition topic would take its upstream's 6 and tasks would not line up
    assert list(plan.repartition_topics.values()) == [2]
    assert sorted(s.partitions for s in plan.subtopologies) == [2, 6]


def test_a_key_join_after_a_foreign_key_join_groups_the_left_tables_sources():
    b = StreamsBuilder()
    orders = b.table("orders", Consumed.with_(S, S))
    customers = b.table("customers", Consumed.with_(S, S))
    shipments = b.table("shipments", Consumed.with_(S, S))
    enriched = orders.join(customers, lambda v: v, lambda o, c: o + c, TableJoined.as_("fk"))
    enriched.join(shipments, lambda e, s: e + s)  # key-on-key: orders' keys, co-partitioned with orders
    topology = b.build()
    # customers (3) is the foreign side: it must not be in the key join's group
    plan = plan_topology(topology, "app", _Admin({"orders": 2, "customers": 3, "shipments": 2}))
    assert plan.topic_partitions["app-fk-subscription-response-topic"] == 2
    assert plan.topic_partitions["app-fk-subscription-registration-topic"] == 3
    topic_of = {n.name: n for n in topology.nodes()}
    groups = [sorted(t for s in g for t in (getattr(topic_of[s], "topics", ()) or ()))
              for g in topology.copartition_groups()]
    assert ["fk-subscription-response-topic", "orders", "shipments"] in groups
    assert not any("customers" in g and "shipments" in g for g in groups)
    with pytest.raises(CopartitionError, match=r"orders=2, shipments=5"):
        plan_topology(topology, "app", _Admin({"orders": 2, "customers": 3, "shipments": 5}))



def test_a_group_of_repartition_topics_only_takes_the_largest_count():
    b = StreamsBuilder()
    left = b.stream("left", Consumed.with_(S, L)).select_key(lambda k, v: str(v))
    right = b.stream("right", Consumed.with_(S, L)).select_key(lambda k, v: str(v))
    stream_stream_join(left, right, lambda a, c: a, JoinWindows.of_time_difference_with_no_grace(10),
                       StreamJoined.with_(S, L, L), False, False)
    plan = plan_topology(b.build(), "app", _Admin({"left": 2, "right": 5}))
    assert sorted(plan.repartition_topics.values()) == [5, 5]  # from their upstreams alone: 2 and 5
