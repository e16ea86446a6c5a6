"""Joins register their inputs' sources as co-partition groups; different partition counts fail naming both."""
from __future__ import annotations

import pytest

import pystreams.compiler.extensions  # noqa: F401
from pystreams import StreamsBuilder
from pystreams.compiler.copartition import CopartitionError, copartition_counts
from pystreams.dsl.joins import StreamJoined, stream_stream_join, stream_table_join
from pystreams.dsl.options import Consumed
from pystreams.dsl.windows import JoinWindows
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit


def _topology():
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    left = b.stream("orders", Consumed.with_(s, lng))
    right = b.stream("payments", Consumed.with_(s, lng))
    table = b.table("customers", Consumed.with_(s, lng))
    stream_stream_join(left, right, lambda a, c: a, JoinWindows.of_time_difference_with_no_grace(10),
                       StreamJoined.with_(s, lng, lng), False, False)
    stream_table_join(left.select_key(lambda k, v: v), table, lambda a, c: a, None, False)
    return b.build()


def test_join_inputs_form_copartition_groups():
    groups = _topology().copartition_groups()
    assert ["KSTREAM-SOURCE-0000000000", "KSTREAM-SOURCE-0000000001"] in groups
    assert len(groups) == 2 and any(g[0].endswith("-source") or "SOURCE" in g[0] for g in groups)


def test_different_partition_counts_name_both_topics():
    counts = {"orders": 4, "payments": 3, "customers": 4}
    with pytest.raises(CopartitionError, match=r"orders=4, payments=3"):
        copartition_counts(_topology(), counts.get)


def test_repartition_topics_take_the_groups_count():
    needed = copartition_counts(_topology(), {"orders": 6, "payments": 6, "customers": 6}.get)
    assert list(needed.values()) == [6] and all(t.endswith("-repartition") for t in needed)
