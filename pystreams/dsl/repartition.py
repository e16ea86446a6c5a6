"""Repartition nodes with Kafka's names (KStreamImpl.createRepartitionedSource)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pystreams.graph import RepartitionNode

if TYPE_CHECKING:
    from pystreams.dsl.builder import StreamsBuilder

REPARTITION_TOPIC_SUFFIX = "-repartition"
SINK_NAME = "KSTREAM-SINK-"
FILTER_NAME = "KSTREAM-FILTER-"
SOURCE_NAME = "KSTREAM-SOURCE-"
_GENERATED = re.compile(r"KSTREAM.*-[0-9]{10}")


def repartition_node(builder: StreamsBuilder, parent: str, prefix: str, key_serde: Any, value_serde: Any,
                     partitioner: Any = None, partitions: int | None = None,
                     optimizable: bool = True) -> RepartitionNode:
    """A filter -> sink -> topic -> source node. Always burns three names (sink, filter, source), and
    uses them when `prefix` is itself generated, else "<topic>-sink/-filter/-source"."""
    topic = prefix if prefix.endswith(REPARTITION_TOPIC_SUFFIX) else prefix + REPARTITION_TOPIC_SUFFIX
    gen_sink = builder.new_processor_name(SINK_NAME)
    gen_filter = builder.new_processor_name(FILTER_NAME)
    gen_source = builder.new_processor_name(SOURCE_NAME)
    if _GENERATED.fullmatch(prefix):
        sink, filter_name, source = gen_sink, gen_filter, gen_source
    else:
        sink, filter_name, source = topic + "-sink", topic + "-filter", topic + "-source"
    return RepartitionNode(source, (parent,), topic=topic, sink_name=sink, filter_name=filter_name,
                           key_serde=key_serde, value_serde=value_serde, partitioner=partitioner,
                           partitions=partitions, optimizable=optimizable)
