"""Avro serde in Confluent's wire format: magic byte 0, the 4-byte big-endian schema id, then the
Avro binary body (fastavro). Topics written by Confluent's KafkaAvroSerializer read here and the
other way round, given the same schema registry."""
from __future__ import annotations

import dataclasses
import io
import json
import struct
from collections.abc import Callable, Mapping
from typing import Any

from pystreams.errors import SerdeError
from pystreams.serdes.base import Headers, Serde, SerializationError
from pystreams.serdes.schema_registry import SchemaRegistryClient, canonical, registry_for_url

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")


def _fastavro() -> Any:
    try:
        import fastavro
    except ImportError as exc:  # pragma: no cover - fastavro is in the avro and dev extras
        raise SerdeError("the Avro serde needs fastavro: pip install 'pystreams[avro]'") from exc
    return fastavro


def to_avro_datum(obj: Any) -> Any:
    """Plain dicts/lists for fastavro from Records, msgspec Structs and dataclasses (Decimal,
    datetime, UUID stay as they are: fastavro maps them to Avro logical types)."""
    if getattr(obj, "_pystreams_record_", False):
        return {k: to_avro_datum(v) for k, v in obj.asdict().items()}
    if isinstance(obj, dict):
        return {k: to_avro_datum(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_avro_datum(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_avro_datum(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    struct_fields = getattr(type(obj), "__struct_fields__", None)
    if struct_fields is not None:
        return {f: to_avro_datum(getattr(obj, f)) for f in struct_fields}
    return obj


def _converter(record_type: Any) -> Callable[[Any], Any] | None:
    if record_type is None:
        return None
    if getattr(record_type, "_pystreams_record_", False):
        return record_type.from_data  # type: ignore[no-any-return]
    import msgspec

    return lambda value: msgspec.convert(value, record_type)


class AvroSerde(Serde[Any]):
    """``Serdes.Avro(schema, registry)``. Subjects follow Confluent's TopicNameStrategy
    (``<topic>-key`` / ``<topic>-value``) unless ``subject`` is given. With ``record_type`` (a
    Record class or a msgspec Struct) values come back as that type instead of dicts; passing a
    Record class as ``schema`` derives the schema from it and loads that class."""

    def __init__(self, schema: Any, registry: SchemaRegistryClient | None = None, *,
                 subject: str | None = None, is_key: bool = False,
                 auto_register_schemas: bool = True, use_latest_version: bool = False,
                 record_type: Any = None) -> None:
        fastavro = _fastavro()
        if getattr(schema, "_pystreams_record_", False):  # a Record class: derive its schema
            from pystreams.serdes.records.avro_schema import avro_schema

            record_type = record_type or schema
            schema = avro_schema(schema)
        self.schema_text = canonical(schema)
        try:
            self._schema = fastavro.parse_schema(json.loads(self.schema_text))
        except Exception as exc:
            raise SerdeError(f"invalid Avro schema: {exc}") from exc
        self.registry = registry
        self.subject = subject
        self.is_key = is_key
        self.auto_register_schemas = auto_register_schemas
        self.use_latest_version = use_latest_version
        self._from_datum = _converter(record_type)
        self.record_type = record_type
        self._ids: dict[str, int] = {}
        self._writers: dict[int, Any] = {}

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        """Confluent's config keys: schema.registry.url, auto.register.schemas, use.latest.version."""
        self.is_key = is_key
        url = configs.get("schema.registry.url")
        if self.registry is None and isinstance(url, str):
            self.registry = registry_for_url(url)
        for key, attr in (("auto.register.schemas", "auto_register_schemas"),
                          ("use.latest.version", "use_latest_version")):
            if key in configs:
                setattr(self, attr, str(configs[key]).lower() in ("true", "1"))

    def _registry(self) -> SchemaRegistryClient:
        if self.registry is None:
            raise SerdeError("the Avro serde has no schema registry: pass one, or configure "
                             "schema.registry.url (mock://<scope> for an in-memory registry)")
        return self.registry

    def _schema_id(self, topic: str) -> int:
        subject = self.subject or f"{topic}-{'key' if self.is_key else 'value'}"
        found = self._ids.get(subject)
        if found is None:
            registry = self._registry()
            if self.use_latest_version:
                found = registry.get_latest_version(subject)[0]
            elif self.auto_register_schemas:
                found = registry.register(subject, self.schema_text)
            else:
                found = registry.get_id(subject, self.schema_text)
            self._ids[subject] = found
        return found

    def serialize(self, topic: str, data: Any, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        schema_id = self._schema_id(topic)
        out = io.BytesIO()
        out.write(_HEADER.pack(MAGIC_BYTE, schema_id))
        try:
            _fastavro().schemaless_writer(out, self._schema, to_avro_datum(data))
        except Exception as exc:  # fastavro raises ValueError/TypeError/AttributeError ...
            raise SerializationError(f"value for topic {topic!r} does not match the Avro "
                                     f"schema: {exc}") from exc
        return out.getvalue()

    def _writer_schema(self, schema_id: int) -> Any:
        parsed = self._writers.get(schema_id)
        if parsed is None:
            text = self._registry().get_schema(schema_id)
            parsed = self._writers[schema_id] = _fastavro().parse_schema(json.loads(text))
        return parsed

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Any:
        if data is None:
            return None
        if len(data) < _HEADER.size:
            raise SerializationError(f"record from topic {topic!r} is too short for the "
                                     f"Confluent Avro format ({len(data)} bytes)")
        magic, schema_id = _HEADER.unpack_from(data)
        if magic != MAGIC_BYTE:
            raise SerializationError(f"Unknown magic byte! (topic {topic!r}, got {magic})")
        try:
            writer = self._writer_schema(schema_id)
            value = _fastavro().schemaless_reader(io.BytesIO(bytes(data[_HEADER.size:])),
                                                  writer, self._schema)
        except SerdeError as exc:
            raise SerializationError(f"topic {topic!r}: {exc}") from exc
        except Exception as exc:
            raise SerializationError(f"record from topic {topic!r} is not valid Avro for schema "
                                     f"id {schema_id}: {exc}") from exc
        return self._from_datum(value) if self._from_datum is not None else value

    def __repr__(self) -> str:
        return f"AvroSerde(subject={self.subject!r}, is_key={self.is_key})"
