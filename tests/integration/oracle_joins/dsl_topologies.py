"""StreamJoins.java written with our DSL (through pystreams.dsl.joins until the one-line KStream methods land)."""
from __future__ import annotations

from typing import Any

import pystreams.compiler.extensions  # noqa: F401  (registers the window/join writers)
from pystreams import StreamsBuilder
from pystreams.dsl.joins import Joined, StreamJoined, stream_global_table_join, stream_stream_join, stream_table_join
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
    stream_stream_join(left, right, joiner, JoinWindows.of_time_difference_and_grace(50, 20), joined, False, False) \
        .to("out-inner", produced)
    stream_stream_join(left, right, joiner, JoinWindows.of_time_difference_and_grace(30, 10).after(60), joined,
                       True, False).to("out-left", produced)
    stream_stream_join(left, right, joiner, JoinWindows.of_time_difference_with_no_grace(25), joined, True, True) \
        .to("out-outer", produced)
    table_joined = Joined.with_(s, lng, lng)
    stream_table_join(left, table, joiner, table_joined, False).to("out-st-inner", produced)
    stream_table_join(left, table, joiner, table_joined, True).to("out-st-left", produced)

    def selector(key: Any, value: Any) -> Any:
        return None if key is None else key[0] + "0"

    stream_global_table_join(left, gtable, selector, joiner, None, False).to("out-sg-inner", produced)
    stream_global_table_join(left, gtable, selector, joiner, None, True).to("out-sg-left", produced)
    return builder
