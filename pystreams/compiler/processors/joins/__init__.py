"""Joins with Kafka Streams' exact semantics: stream-stream (windowed, with the shared outer store),
stream-table and stream-globaltable (issue 5)."""
from pystreams.compiler.processors.joins.outer_store import (LeftOrRightValue, OuterJoinStoreBuilder,
                                                             TimestampedKeyAndJoinSide)
from pystreams.compiler.processors.joins.stream_stream import KStreamJoinWindow, KStreamKStreamJoin, TimeTrackerSupplier
from pystreams.compiler.processors.joins.stream_table import KStreamGlobalKTableJoin, KStreamKTableJoin

__all__ = ["KStreamGlobalKTableJoin", "KStreamJoinWindow", "KStreamKStreamJoin", "KStreamKTableJoin",
           "LeftOrRightValue", "OuterJoinStoreBuilder", "TimeTrackerSupplier", "TimestampedKeyAndJoinSide"]
