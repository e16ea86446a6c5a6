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


def test_serde_from_a_type_like_kafkas_serde_from_class() -> None:
    import uuid

    import msgspec

    from pystreams.errors import SerdeError
    from pystreams.serdes import Record

    class Point(msgspec.Struct):
        x: int

    class Named(Record):
        name: str

    assert type(Serdes.serde_from(str)) is p.StringSerde
    assert type(Serdes.serde_from(int)) is p.LongSerde
    assert type(Serdes.serde_from(float)) is p.DoubleSerde
    assert type(Serdes.serde_from(uuid.UUID)) is p.UUIDSerde
    assert Serdes.serde_from(Point).deserialize("t", b'{"x":1}') == Point(1)
    assert resolve_serde(Point).deserialize("t", b'{"x":2}') == Point(2)
    assert resolve_serde(Named).deserialize("t", b'{"name":"n"}') == Named("n")
    with pytest.raises(SerdeError, match="Unknown class for built-in serializer"):
        Serdes.serde_from(dict)


def test_kafka_style_two_argument_objects_and_single_configure() -> None:
    calls = []

    class TwoArg:
        def serialize(self, topic, data):
            return data.encode()

        def deserialize(self, topic, data):
            return data.decode()

        def configure(self, configs, is_key):
            calls.append(is_key)

    serde = resolve_serde(TwoArg(), {"x": 1}, is_key=True)
    assert serde.serialize("t", "a") == b"a" and serde.deserialize("t", b"a") == "a"
    assert calls == [True]
