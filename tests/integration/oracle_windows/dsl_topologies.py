"""TimeWindowed.java written with our DSL (KGroupedStream.windowed_by, emit_strategy, KTable.suppress)."""
from __future__ import annotations

from typing import Any

import pystreams.compiler.extensions  # noqa: F401  (registers the window/join writers)
from pystreams import StreamsBuilder
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.dsl.windows import BufferConfig, EmitStrategy, Suppressed, TimeWindows
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import WindowedSerdes


def _last_digits(key: Any, value: Any, agg: str) -> str:
    return (agg + ("n" if value is None else str(value % 10)))[-6:]


def time_windowed_dsl(caching: bool = True, store_type: str = "in_memory") -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    ws = WindowedSerdes.time_windowed_serde_from

    def mat(value_serde: Any) -> Materialized[Any, Any]:
        m = Materialized.with_(s, value_serde).with_store_type(store_type)
        return m if caching else m.with_caching_disabled()

    builder = StreamsBuilder()
    grouped = builder.stream("win-in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    grouped.windowed_by(TimeWindows.of_size_and_grace(100, 50)).count(mat(lng)).to_stream() \
        .to("out-tumbling", Produced.with_(ws(s, 100), lng))
    grouped.windowed_by(TimeWindows.of_size_and_grace(100, 20).advance_by(30)) \
        .reduce(lambda a, b: a + b, mat(lng)).to_stream().to("out-hopping", Produced.with_(ws(s, 100), lng))
    grouped.windowed_by(TimeWindows.of_size_with_no_grace(50)).aggregate(lambda: "", _last_digits, mat(s)) \
        .to_stream().to("out-agg", Produced.with_(ws(s, 50), s))
    final = grouped.windowed_by(TimeWindows.of_size_and_grace(100, 30)).count(mat(lng))
    final.suppress(Suppressed.until_window_closes(BufferConfig.unbounded())).to_stream() \
        .to("out-final", Produced.with_(ws(s, 100), lng))
    grouped.windowed_by(TimeWindows.of_size_and_grace(80, 10)).emit_strategy(EmitStrategy.on_window_close()) \
        .count(mat(lng)).to_stream().to("out-emit", Produced.with_(ws(s, 80), lng))
    grouped.count(mat(lng)).suppress(Suppressed.until_time_limit(50, BufferConfig.max_records(5)
                                                                  .emit_early_when_full())) \
        .to_stream().to("out-limit", Produced.with_(s, lng))
    return builder
