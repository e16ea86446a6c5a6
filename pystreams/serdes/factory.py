"""``Serdes``: Kafka's factory of built-in serdes (``Serdes.String()``, ``Serdes.Long()`` ...) plus
the Python ones (JSON, msgspec, Avro, Record models), in one place users already know."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pystreams.serdes.base import Deserializer, Serde, Serializer, WrapperSerde
from pystreams.serdes.primitives import (
    BooleanSerde,
    ByteArraySerde,
    ByteBufferSerde,
    BytesSerde,
    DoubleSerde,
    FloatSerde,
    IntegerSerde,
    LongSerde,
    ShortSerde,
    StringSerde,
    UUIDSerde,
    VoidSerde,
)

if TYPE_CHECKING:
    from pystreams.serdes.avro import AvroSerde
    from pystreams.serdes.json import JsonSerde
    from pystreams.serdes.msgspec_serde import MsgspecSerde
    from pystreams.serdes.schema_registry import SchemaRegistryClient

T = TypeVar("T")


class Serdes:
    """Built-in serdes by Kafka's names. Each name is the serde class itself, so
    ``Serdes.String()`` makes a serde and ``Serdes.String`` can be passed where a class is wanted."""

    String = StringSerde
    Bytes = BytesSerde
    ByteArray = ByteArraySerde
    ByteBuffer = ByteBufferSerde
    Short = ShortSerde
    Integer = IntegerSerde
    Long = LongSerde
    Float = FloatSerde
    Double = DoubleSerde
    Boolean = BooleanSerde
    UUID = UUIDSerde
    Void = VoidSerde
    # Kafka's nested class names (Serdes$StringSerde ...), for configs and Java-minded users.
    StringSerde = StringSerde
    BytesSerde = BytesSerde
    ByteArraySerde = ByteArraySerde
    ByteBufferSerde = ByteBufferSerde
    ShortSerde = ShortSerde
    IntegerSerde = IntegerSerde
    LongSerde = LongSerde
    FloatSerde = FloatSerde
    DoubleSerde = DoubleSerde
    BooleanSerde = BooleanSerde
    UUIDSerde = UUIDSerde
    VoidSerde = VoidSerde
    WrapperSerde = WrapperSerde

    @overload
    @staticmethod
    def serde_from(serializer: type[T]) -> Serde[T]: ...

    @overload
    @staticmethod
    def serde_from(serializer: Serializer[T] | Callable[..., bytes | None],
                   deserializer: Deserializer[T] | Callable[..., T | None]) -> Serde[T]: ...

    @staticmethod
    def serde_from(serializer: Any,
                   deserializer: Deserializer[T] | Callable[..., T | None] | None = None
                   ) -> Serde[Any]:
        """Kafka's ``Serdes.serdeFrom``: from a serializer and a deserializer (objects or plain
        functions), or from one type (``Serdes.serde_from(str)`` -> String, ``int`` -> Long,
        ``float`` -> Double, ``bytes`` -> Bytes, ``bool``, ``uuid.UUID``, a Record class, a
        msgspec Struct)."""
        if deserializer is None:
            return serde_for_type(serializer)
        return WrapperSerde(serializer, deserializer)

    @staticmethod
    def ListSerde(inner: Serde[T] | None = None) -> Serde[list[T]]:  # noqa: N802 - Kafka's name
        """Kafka's ``Serdes.ListSerde(listClass, innerSerde)`` (the list class is always list)."""
        from pystreams.serdes.list_serde import ListSerde

        return ListSerde(inner)

    @staticmethod
    def JSON(type: Any = None, **options: Any) -> JsonSerde:  # noqa: N802 - Kafka-style name
        """JSON via orjson; with ``type`` the decoded value is converted to it (msgspec)."""
        from pystreams.serdes.json import JsonSerde

        return JsonSerde(type, **options)

    @staticmethod
    def msgspec(type: Any, protocol: str = "json") -> MsgspecSerde:
        """A msgspec Struct (or any msgspec-supported type) as JSON or MessagePack."""
        from pystreams.serdes.msgspec_serde import MsgspecSerde

        return MsgspecSerde(type, protocol=protocol)

    @staticmethod
    def Avro(schema: Any, registry: SchemaRegistryClient, subject: str | None = None,  # noqa: N802
             **options: Any) -> AvroSerde:
        """Avro in Confluent's wire format (magic byte 0, 4-byte schema id, Avro binary)."""
        from pystreams.serdes.avro import AvroSerde

        return AvroSerde(schema, registry, subject=subject, **options)

    @staticmethod
    def from_record(record_type: type[T]) -> Serde[T]:
        """The serde of a Record model, encoded as the model's ``serializer`` says (json default)."""
        from pystreams.serdes.records.serde import record_serde

        return record_serde(record_type)


def serde_for_type(tp: Any) -> Serde[Any]:
    """The built-in serde for a Python type, as Kafka's ``serdeFrom(Class)`` picks by class."""
    import uuid

    from pystreams.errors import SerdeError

    builtins: dict[Any, type[Serde[Any]]] = {
        str: StringSerde, int: LongSerde, float: DoubleSerde, bytes: BytesSerde,
        bytearray: ByteArraySerde, memoryview: ByteBufferSerde, bool: BooleanSerde,
        uuid.UUID: UUIDSerde, type(None): VoidSerde}
    if tp in builtins:
        return builtins[tp]()
    if isinstance(tp, type) and getattr(tp, "_pystreams_record_", False):
        return Serdes.from_record(tp)
    if isinstance(tp, type) and hasattr(tp, "__struct_fields__"):
        return Serdes.msgspec(tp)
    raise SerdeError(f"Unknown class for built-in serializer: {tp!r}. Supported types are: str, "
                     f"int (Long), float (Double), bytes, bytearray, memoryview, bool, uuid.UUID, "
                     f"None (Void), Record classes and msgspec Structs")
