"""StreamJoins.java written with our DSL (KStream.join/left_join/outer_join with KStream, KTable, GlobalKTable)."""
from __future__ import annotations

from typing import Any

import pystreams.compiler.extensions  # noqa: F401  (registers the window/join writers)
from pystreams import StreamsBuilder
from pystreams.dsl.joins import Joined, StreamJoined
from pystreams.dsl.options import Consumed, Produced
from pystreams.dsl.windows import JoinWindows
from pystreams.serdes import Serdes
from tests.integration.oracle_joins.topologies import joiner


def stream_joins_dsl() -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    builder = StreamsBuilder()
    consumed = Consumed.with_(s, lng)
    left = builder.stream("left", consumed)
    right = builder.stream("right", consumed)
    table = builder.table("table", consumed)
    gtable = builder.global_table("gtable", consumed)
    joined = StreamJoined.with_(s, lng, lng)
    produced = Produced.with_(s, s)
    left.join(right, joiner, JoinWindows.of_time_difference_and_grace(50, 20), joined) \
        .to("out-inner", produced)
    left.left_join(right, joiner, JoinWindows.of_time_difference_and_grace(30, 10).after(60), joined).to("out-left", produced)
    left.outer_join(right, joiner, JoinWindows.of_time_difference_with_no_grace(25), joined) \
        .to("out-outer", produced)
    table_joined = Joined.with_(s, lng, lng)
    left.join(table, joiner, table_joined).to("out-st-inner", produced)
    left.left_join(table, joiner, table_joined).to("out-st-left", produced)

    def selector(key: Any, value: Any) -> Any:
        return None if key is None else key[0] + "0"

    left.join(gtable, selector, joiner).to("out-sg-inner", produced)
    left.left_join(gtable, selector, joiner).to("out-sg-left", produced)
    return builder
