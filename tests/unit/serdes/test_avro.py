"""Avro in Confluent's wire format: magic byte 0 + 4-byte big-endian schema id + Avro binary."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

fastavro = pytest.importorskip("fastavro")

from pystreams.errors import SerdeError  # noqa: E402
from pystreams.serdes import Record, Serdes, resolve_serde  # noqa: E402
from pystreams.serdes.avro import AvroSerde  # noqa: E402
from pystreams.serdes.schema_registry import (  # noqa: E402
    InMemorySchemaRegistry,
    SchemaRegistryClient,
    registry_for_url,
)

pytestmark = pytest.mark.unit

USER_V1 = {"type": "record", "name": "User", "namespace": "shop", "fields": [
    {"name": "name", "type": "string"},
    {"name": "age", "type": "int"},
]}
USER_V2 = {"type": "record", "name": "User", "namespace": "shop", "fields": [
    {"name": "name", "type": "string"},
    {"name": "age", "type": "int"},
    {"name": "email", "type": ["null", "string"], "default": None},
]}


def test_wire_format_is_magic_id_then_avro_binary() -> None:
    registry = InMemorySchemaRegistry()
    registry.register("other-value", '"string"')  # take id 1, so ours is 2
    serde = Serdes.Avro(USER_V1, registry)
    encoded = serde.serialize("users", {"name": "bob", "age": 3})
    assert encoded is not None
    # 0x00, id 2 as 4 big-endian bytes, then Avro: string = zigzag length 3 (0x06) + "bob",
    # int 3 = zigzag 0x06.
    assert encoded == bytes.fromhex("00" "00000002" "06" "626f62" "06")
    body = fastavro.schemaless_reader(io.BytesIO(encoded[5:]), fastavro.parse_schema(USER_V1),
                                      None)
    assert body == {"name": "bob", "age": 3}
    assert serde.deserialize("users", encoded) == {"name": "bob", "age": 3}
    assert registry.subjects() == ["other-value", "users-value"]


def test_key_serde_uses_the_key_subject_and_same_schema_same_id() -> None:
    registry = InMemorySchemaRegistry()
    key = AvroSerde('"string"', registry, is_key=True)
    value = AvroSerde("string", registry)
    k = key.serialize("t", "a")
    v = value.serialize("t", "a")
    assert k == v and k is not None and k[:5] == bytes.fromhex("0000000001")
    assert registry.subjects() == ["t-key", "t-value"]


def test_schema_evolution_reads_old_data_with_new_reader_schema() -> None:
    registry = InMemorySchemaRegistry()
    old = Serdes.Avro(USER_V1, registry).serialize("users", {"name": "a", "age": 1})
    new = Serdes.Avro(USER_V2, registry)
    assert new.deserialize("users", old) == {"name": "a", "age": 1, "email": None}


def test_logical_types_and_records() -> None:
    schema = {"type": "record", "name": "Payment", "fields": [
        {"name": "id", "type": "string"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                    "precision": 12, "scale": 2}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ]}

    class Payment(Record, include_metadata=False):
        id: str
        amount: Decimal
        at: dt.datetime
        tags: list[str] = []

    serde = Serdes.Avro(schema, InMemorySchemaRegistry(), record_type=Payment)
    payment = Payment("p", Decimal("12.50"), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                      ["x"])
    assert serde.deserialize("pay", serde.serialize("pay", payment)) == payment


def test_errors() -> None:
    serde = Serdes.Avro(USER_V1, InMemorySchemaRegistry())
    with pytest.raises(SerdeError, match="Unknown magic byte"):
        serde.deserialize("t", b"\x01\x00\x00\x00\x01\x00")
    with pytest.raises(SerdeError, match="too short"):
        serde.deserialize("t", b"\x00\x00")
    with pytest.raises(SerdeError, match="Schema 99 not found"):
        serde.deserialize("t", b"\x00\x00\x00\x00\x63\x00")
    with pytest.raises(SerdeError, match="does not match the Avro schema"):
        serde.serialize("t", {"name": "x"})
    with pytest.raises(SerdeError, match="invalid Avro schema"):
        AvroSerde({"type": "nope"})
    with pytest.raises(SerdeError, match="no schema registry"):
        AvroSerde(USER_V1).serialize("t", {"name": "a", "age": 1})
    strict = AvroSerde(USER_V1, InMemorySchemaRegistry(), auto_register_schemas=False)
    with pytest.raises(SerdeError, match="not found under subject"):
        strict.serialize("t", {"name": "a", "age": 1})


def test_configure_from_app_config_with_mock_registry() -> None:
    assert isinstance(registry_for_url("mock://s4"), SchemaRegistryClient)
    writer = AvroSerde(USER_V1)
    writer.configure({"schema.registry.url": "mock://s4-test"}, is_key=False)
    reader = resolve_serde(AvroSerde(USER_V1), {"schema.registry.url": "mock://s4-test"})
    data = writer.serialize("t", {"name": "n", "age": 5})
    assert reader.deserialize("t", data) == {"name": "n", "age": 5}
    with pytest.raises(SerdeError, match="only mock://"):
        registry_for_url("http://localhost:8081")


def test_schema_derived_from_a_record_class() -> None:
    from typing import Optional
    from uuid import UUID

    from pystreams.serdes.records import DecimalField
    from pystreams.serdes.records.avro_schema import avro_schema

    class Line(Record, namespace="shop.Line"):
        sku: str
        qty: int = 1

    class Invoice(Record, namespace="shop.Invoice"):
        id: UUID
        total: Decimal = DecimalField(max_digits=10, max_decimal_places=2)
        issued: dt.datetime
        due: dt.date
        lines: list[Line]
        extra: dict[str, Line]
        paid: bool = False
        note: Optional[str] = None
        main: Optional[Line] = None

    schema = avro_schema(Invoice)
    assert schema["name"] == "Invoice" and schema["namespace"] == "shop"
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert types["total"] == {"type": "bytes", "logicalType": "decimal", "precision": 10,
                              "scale": 2}
    assert types["issued"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert types["lines"]["items"]["name"] == "Line"
    assert types["extra"] == {"type": "map", "values": "shop.Line"}  # defined once, then named
    assert types["note"] == ["null", "string"]
    assert {f["name"]: f.get("default", "-") for f in schema["fields"]}["paid"] is False
    serde = Serdes.Avro(Invoice, InMemorySchemaRegistry())
    invoice = Invoice(UUID(int=3), Decimal("10.50"),
                      dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc), dt.date(2024, 2, 1),
                      [Line("a", 2)], {"x": Line("b")}, True, None, Line("c"))
    assert serde.deserialize("inv", serde.serialize("inv", invoice)) == invoice
    with pytest.raises(SerdeError, match="needs a precision and a scale"):
        class Loose(Record):
            amount: Decimal
        avro_schema(Loose)
