"""The schema-registry client interface the Avro serde needs, and an in-memory registry (the same
idea as Confluent's ``mock://`` registry) for tests and single-process apps. A network client for
a real Confluent Schema Registry plugs in through the same four methods."""
from __future__ import annotations

import json
import threading
from typing import Any, Protocol, runtime_checkable

from pystreams.errors import SerdeError


class SchemaRegistryError(SerdeError):
    """A schema or subject is unknown, or a registration was refused."""


@runtime_checkable
class SchemaRegistryClient(Protocol):
    """Confluent Schema Registry operations, with its names: ids are global, versions per subject."""

    def register(self, subject: str, schema: str) -> int:
        """Register ``schema`` (JSON text) under ``subject``; the id (the same id again for a
        schema already registered)."""
        ...

    def get_schema(self, schema_id: int) -> str:
        """The schema text with this id."""
        ...

    def get_latest_version(self, subject: str) -> tuple[int, int, str]:
        """(schema id, version, schema text) of the subject's latest version."""
        ...

    def get_id(self, subject: str, schema: str) -> int:
        """The id of ``schema`` under ``subject`` without registering it."""
        ...


def canonical(schema: Any) -> str:
    """One text per schema, so equal schemas get equal ids however they were written."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            return json.dumps(schema)  # a bare type name such as "string"
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


class InMemorySchemaRegistry:
    """A schema registry held in memory; thread-safe; ids start at 1 like Confluent's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._subjects: dict[str, list[int]] = {}

    def register(self, subject: str, schema: str) -> int:
        text = canonical(schema)
        with self._lock:
            schema_id = self._ids.get(text)
            if schema_id is None:
                schema_id = len(self._by_id) + 1
                self._by_id[schema_id] = text
                self._ids[text] = schema_id
            versions = self._subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def get_schema(self, schema_id: int) -> str:
        try:
            return self._by_id[schema_id]
        except KeyError:
            raise SchemaRegistryError(f"Schema {schema_id} not found") from None

    def get_latest_version(self, subject: str) -> tuple[int, int, str]:
        versions = self._subjects.get(subject)
        if not versions:
            raise SchemaRegistryError(f"Subject '{subject}' not found.")
        return versions[-1], len(versions), self._by_id[versions[-1]]

    def get_id(self, subject: str, schema: str) -> int:
        text = canonical(schema)
        schema_id = self._ids.get(text)
        if schema_id is None or schema_id not in self._subjects.get(subject, []):
            raise SchemaRegistryError(f"Schema not found under subject '{subject}'")
        return schema_id

    def subjects(self) -> list[str]:
        return sorted(self._subjects)


_MOCK_SCOPES: dict[str, InMemorySchemaRegistry] = {}


def registry_for_url(url: str) -> SchemaRegistryClient:
    """``schema.registry.url``: ``mock://scope`` gives the shared in-memory registry of that scope
    (Confluent's convention for tests); network registries are not built in yet."""
    if url.startswith("mock://"):
        return _MOCK_SCOPES.setdefault(url[len("mock://"):], InMemorySchemaRegistry())
    raise SerdeError(f"schema.registry.url={url!r}: only mock://<scope> registries are built in; "
                     f"pass a SchemaRegistryClient object to Serdes.Avro(...) for others")
