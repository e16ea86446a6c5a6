"""resolve_serde: config strings as Kafka users write them, and Python objects."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.serdes import JsonSerde, Serde, Serdes, resolve_serde
from pystreams.serdes import primitives as p

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("name", "cls"), [
    ("org.apache.kafka.common.serialization.Serdes$StringSerde", p.StringSerde),
    ("org.apache.kafka.common.serialization.Serdes$LongSerde", p.LongSerde),
    ("org.apache.kafka.common.serialization.Serdes$ByteArraySerde", p.ByteArraySerde),
    ("org.apache.kafka.common.serialization.Serdes$BytesSerde", p.BytesSerde),
    ("org.apache.kafka.common.serialization.Serdes$UUIDSerde", p.UUIDSerde),
    ("org.apache.kafka.common.serialization.Serdes$VoidSerde", p.VoidSerde),
    ("org.apache.kafka.common.serialization.Serdes.IntegerSerde", p.IntegerSerde),
    ("Serdes$DoubleSerde", p.DoubleSerde),
    ("Serdes.Float()", p.FloatSerde),
    ("ShortSerde", p.ShortSerde),
    ("string", p.StringSerde), ("String", p.StringSerde), ("long", p.LongSerde),
    ("byte-array", p.ByteArraySerde), ("bytes", p.BytesSerde), ("uuid", p.UUIDSerde),
    ("boolean", p.BooleanSerde), ("json", JsonSerde),
    ("pystreams.serdes.primitives:LongSerde", p.LongSerde),
    ("pystreams.serdes.primitives.DoubleSerde", p.DoubleSerde),
])
def test_names(name: str, cls: type) -> None:
    assert type(resolve_serde(name)) is cls


def test_instances_classes_and_configure() -> None:
    serde = Serdes.Long()
    assert resolve_serde(serde) is serde
    assert isinstance(resolve_serde(Serdes.String), p.StringSerde)
    configured = resolve_serde("string", {"value.serializer.encoding": "latin-1"}, is_key=False)
    assert configured.serialize("t", "é") == b"\xe9"


def test_duck_typed_object_is_wrapped() -> None:
    class Upper:
        def serialize(self, topic, data, headers=None):
            return data.upper().encode()

        def deserialize(self, topic, data, headers=None):
            return data.decode()

    serde = resolve_serde(Upper())
    assert isinstance(serde, Serde)
    assert serde.serialize("t", "a") == b"A"


@pytest.mark.parametrize("bad", [
    None, "org.apache.kafka.common.serialization.Serdes$NoSuchSerde", "nosuchmodule.Serde",
    "pystreams.serdes.primitives:Nope", 42, "plainword",
])
def test_bad_values_are_config_errors(bad: object) -> None:
    with pytest.raises(ConfigError):
        resolve_serde(bad)
