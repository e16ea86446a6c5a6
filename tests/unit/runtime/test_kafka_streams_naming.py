"""KafkaStreams' constructor applies ensure.explicit.internal.resource.naming (KIP-1111) to the topology it is
given, before any broker is contacted (Tidy's check in pystreams.compiler.naming)."""
from __future__ import annotations

import pytest

from pystreams import StreamsBuilder
from pystreams.compiler import TopologyException
from pystreams.runtime import KafkaStreams

pytestmark = pytest.mark.unit

CONFIG = {"application.id": "a", "bootstrap.servers": "127.0.0.1:1", "default.key.serde": "string",
          "default.value.serde": "string"}


def _builder() -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").group_by_key().count().to_stream().to("out")
    return b


def test_kafka_streams_refuses_a_generated_name_before_contacting_the_broker():
    with pytest.raises(TopologyException, match=r"Invalid topology: Following changelog topic\(s\) has not "
                       r"been named: KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog"):
        KafkaStreams(_builder().build(), {**CONFIG, "ensure.explicit.internal.resource.naming": "true"})


def test_without_the_flag_generated_names_are_fine():
    assert KafkaStreams(_builder().build(), CONFIG).state.name == "CREATED"
