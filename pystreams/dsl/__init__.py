"""The fluent DSL: StreamsBuilder, KStream, KTable, GlobalKTable, grouped views and option objects.

Builds the immutable graph in pystreams.graph; may import graph, serdes, processor and errors, never
compiler/runtime/testing/cli (the compiler registers itself for StreamsBuilder.build()).
"""
from pystreams.dsl.branched import BranchedKStream
from pystreams.dsl.builder import StreamsBuilder, register_compiler
from pystreams.dsl.grouped import KGroupedStream, KGroupedTable
from pystreams.dsl.keyvalue import KeyValue
from pystreams.dsl.kstream import KStream
from pystreams.dsl.ktable import GlobalKTable, KTable
from pystreams.dsl.options import (IN_MEMORY, ROCKS_DB, Branched, Consumed, Grouped, Materialized, Named,
                                   Printed, Produced, Repartitioned)

__all__ = ["BranchedKStream", "Branched", "Consumed", "GlobalKTable", "Grouped", "IN_MEMORY", "KGroupedStream",
           "KGroupedTable", "KStream", "KTable", "KeyValue", "Materialized", "Named", "Printed", "Produced",
           "ROCKS_DB", "Repartitioned", "StreamsBuilder", "register_compiler"]
