"""Option objects with Kafka Streams' meaning: Named, Consumed, Produced, Grouped, Materialized,
Repartitioned, Branched, Printed. Keyword arguments in Python; Kafka's factory names also work
(`Consumed.with_(k, v)`, `Materialized.as_("store")`, `Named.as_("x")`). All are immutable: the
`with_*` methods return copies.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, TypeVar

from pystreams.errors import TopologyError

if TYPE_CHECKING:
    from pystreams.serdes import Serde

K = TypeVar("K")
V = TypeVar("V")

_LEGAL_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_NAME_LENGTH = 249


def validate_name(name: str, what: str = "Name") -> str:
    """Kafka's Named.validate: names become topic names, so only [a-zA-Z0-9._-], at most 249 chars."""
    if not isinstance(name, str) or not name:
        raise TopologyError(f"{what} must be a non-empty string, got {name!r}.")
    if len(name) > MAX_NAME_LENGTH:
        raise TopologyError(f"{what} {name!r} is illegal, it can't be longer than {MAX_NAME_LENGTH} chars.")
    if not _LEGAL_NAME.match(name):
        raise TopologyError(f"{what} {name!r} is illegal, it contains a character other than ASCII "
                            "alphanumerics, '.', '_' and '-'.")
    return name


@dataclass(frozen=True)
class Named:
    """Names the processor an operation creates (overrides KSTREAM-XXX-0000000001)."""

    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name)

    @classmethod
    def as_(cls, name: str) -> Named:
        """Kafka's Named.as(name)."""
        return cls(name)


def named_of(named: Named | str | None) -> str | None:
    """Accept Named, a plain string, or None."""
    if named is None:
        return None
    if isinstance(named, Named):
        return named.name
    if isinstance(named, str):
        return Named(named).name
    raise TopologyError(f"Expected a Named or a str for the operator name, got {type(named).__name__}.")


def materialized_and_name(first: Any, second: Any) -> tuple[Materialized[Any, Any] | None, str | None]:
    """Accept a Materialized and a Named (or str) in either order, as Kafka's overloads do."""
    materialized: Materialized[Any, Any] | None = None
    name: str | None = None
    for arg in (first, second):
        if isinstance(arg, Materialized):
            materialized = arg
        elif isinstance(arg, (Named, str)):
            name = named_of(arg)
    return materialized, name


@dataclass(frozen=True)
class Consumed(Generic[K, V]):
    """How a source reads: serdes, timestamp extractor, auto.offset.reset, processor name."""

    key_serde: Serde[K] | None = None
    value_serde: Serde[V] | None = None
    timestamp_extractor: Any = None
    offset_reset: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name)
        if self.offset_reset not in (None, "earliest", "latest", "none"):
            raise TopologyError(f"Consumed offset_reset must be 'earliest', 'latest' or 'none', "
                                f"got {self.offset_reset!r}.")

    @classmethod
    def with_(cls, key_serde: Serde[K] | None = None, value_serde: Serde[V] | None = None) -> Consumed[K, V]:
        """Kafka's Consumed.with(keySerde, valueSerde)."""
        return cls(key_serde, value_serde)

    @classmethod
    def as_(cls, name: str) -> Consumed[Any, Any]:
        """Kafka's Consumed.as(name)."""
        return cls(name=name)

    def with_name(self, name: str) -> Consumed[K, V]:
        """A copy with a processor name."""
        return replace(self, name=name)

    def with_key_serde(self, serde: Any) -> Consumed[K, V]:
        """A copy with a key serde."""
        return replace(self, key_serde=serde)

    def with_value_serde(self, serde: Any) -> Consumed[K, V]:
        """A copy with a value serde."""
        return replace(self, value_serde=serde)

    def with_timestamp_extractor(self, extractor: Any) -> Consumed[K, V]:
        """A copy with a timestamp extractor."""
        return replace(self, timestamp_extractor=extractor)

    def with_offset_reset_policy(self, policy: str) -> Consumed[K, V]:
        """A copy with an auto.offset.reset policy."""
        return replace(self, offset_reset=policy)


@dataclass(frozen=True)
class Produced(Generic[K, V]):
    """How a sink writes: serdes, partitioner(topic, key, value, num_partitions), processor name."""

    key_serde: Serde[K] | None = None
    value_serde: Serde[V] | None = None
    partitioner: Any = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name)

    @classmethod
    def with_(cls, key_serde: Serde[K] | None = None, value_serde: Serde[V] | None = None,
              partitioner: Any = None) -> Produced[K, V]:
        """Kafka's Produced.with(keySerde, valueSerde[, partitioner])."""
        return cls(key_serde, value_serde, partitioner)

    @classmethod
    def as_(cls, name: str) -> Produced[Any, Any]:
        """Kafka's Produced.as(name)."""
        return cls(name=name)

    def with_name(self, name: str) -> Produced[K, V]:
        """A copy with a processor name."""
        return replace(self, name=name)

    def with_key_serde(self, serde: Any) -> Produced[K, V]:
        """A copy with a key serde."""
        return replace(self, key_serde=serde)

    def with_value_serde(self, serde: Any) -> Produced[K, V]:
        """A copy with a value serde."""
        return replace(self, value_serde=serde)

    def with_stream_partitioner(self, partitioner: Any) -> Produced[K, V]:
        """A copy with a partitioner."""
        return replace(self, partitioner=partitioner)


@dataclass(frozen=True)
class Grouped(Generic[K, V]):
    """Serdes for a grouping's repartition topic, and its name (names the topic and processors)."""

    key_serde: Serde[K] | None = None
    value_serde: Serde[V] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name)

    @classmethod
    def with_(cls, key_serde: Serde[K] | None = None, value_serde: Serde[V] | None = None) -> Grouped[K, V]:
        """Kafka's Grouped.with(keySerde, valueSerde)."""
        return cls(key_serde, value_serde)

    @classmethod
    def as_(cls, name: str) -> Grouped[Any, Any]:
        """Kafka's Grouped.as(name)."""
        return cls(name=name)

    def with_name(self, name: str) -> Grouped[K, V]:
        """A copy with a name."""
        return replace(self, name=name)

    def with_key_serde(self, serde: Any) -> Grouped[K, V]:
        """A copy with a key serde."""
        return replace(self, key_serde=serde)

    def with_value_serde(self, serde: Any) -> Grouped[K, V]:
        """A copy with a value serde."""
        return replace(self, value_serde=serde)


ROCKS_DB = "rocks_db"
IN_MEMORY = "in_memory"


@dataclass(frozen=True)
class Materialized(Generic[K, V]):
    """How a KTable/aggregate is stored: store name (queryable), serdes, rocks_db | in_memory,
    changelog on/off with topic configs, caching on/off, or a user store supplier."""

    name: str | None = None
    key_serde: Serde[K] | None = None
    value_serde: Serde[V] | None = None
    store_type: str | None = None
    logging_enabled: bool = True
    log_config: Mapping[str, str] = field(default_factory=dict)
    caching_enabled: bool = True
    store_supplier: Any = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name, "Store name")
        if self.store_type not in (None, ROCKS_DB, IN_MEMORY):
            raise TopologyError(f"Materialized store_type must be {ROCKS_DB!r} or {IN_MEMORY!r}, got "
                                f"{self.store_type!r}.")

    @property
    def store_name(self) -> str | None:
        """The user's store name (from the name or the supplier), None to have one generated."""
        if self.store_supplier is not None:
            return str(self.store_supplier.name)
        return self.name

    @classmethod
    def as_(cls, name_or_supplier: Any) -> Materialized[Any, Any]:
        """Kafka's Materialized.as(storeName | storeSupplier)."""
        if isinstance(name_or_supplier, str):
            return cls(name=name_or_supplier)
        return cls(store_supplier=name_or_supplier)

    @classmethod
    def with_(cls, key_serde: Serde[K] | None = None, value_serde: Serde[V] | None = None) -> Materialized[K, V]:
        """Kafka's Materialized.with(keySerde, valueSerde)."""
        return cls(key_serde=key_serde, value_serde=value_serde)

    def with_key_serde(self, serde: Any) -> Materialized[K, V]:
        """A copy with a key serde."""
        return replace(self, key_serde=serde)

    def with_value_serde(self, serde: Any) -> Materialized[K, V]:
        """A copy with a value serde."""
        return replace(self, value_serde=serde)

    def with_store_type(self, store_type: str) -> Materialized[K, V]:
        """A copy with rocks_db or in_memory."""
        return replace(self, store_type=store_type)

    def with_logging_enabled(self, config: Mapping[str, str] | None = None) -> Materialized[K, V]:
        """A copy with a changelog topic (with extra topic configs)."""
        return replace(self, logging_enabled=True, log_config=dict(config or {}))

    def with_logging_disabled(self) -> Materialized[K, V]:
        """A copy without a changelog topic (state is lost with the instance)."""
        return replace(self, logging_enabled=False, log_config={})

    def with_caching_enabled(self) -> Materialized[K, V]:
        """A copy with the record cache on (fewer, deduplicated downstream updates)."""
        return replace(self, caching_enabled=True)

    def with_caching_disabled(self) -> Materialized[K, V]:
        """A copy with the record cache off (every update forwarded)."""
        return replace(self, caching_enabled=False)


@dataclass(frozen=True)
class Repartitioned(Generic[K, V]):
    """repartition(): topic name, serdes, partition count, partitioner."""

    name: str | None = None
    key_serde: Serde[K] | None = None
    value_serde: Serde[V] | None = None
    num_partitions: int | None = None
    partitioner: Any = None

    def __post_init__(self) -> None:
        if self.name is not None:
            validate_name(self.name)
        if self.num_partitions is not None and self.num_partitions < 1:
            raise TopologyError(f"Repartitioned num_partitions must be >= 1, got {self.num_partitions}.")

    @classmethod
    def as_(cls, name: str) -> Repartitioned[Any, Any]:
        """Kafka's Repartitioned.as(name)."""
        return cls(name=name)

    @classmethod
    def with_(cls, key_serde: Serde[K] | None = None,
              value_serde: Serde[V] | None = None) -> Repartitioned[K, V]:
        """Kafka's Repartitioned.with(keySerde, valueSerde)."""
        return cls(key_serde=key_serde, value_serde=value_serde)

    @classmethod
    def number_of_partitions(cls, n: int) -> Repartitioned[Any, Any]:
        """Kafka's Repartitioned.numberOfPartitions(n)."""
        return cls(num_partitions=n)

    def with_name(self, name: str) -> Repartitioned[K, V]:
        """A copy with a name."""
        return replace(self, name=name)

    def with_number_of_partitions(self, n: int) -> Repartitioned[K, V]:
        """A copy with a partition count."""
        return replace(self, num_partitions=n)

    def with_key_serde(self, serde: Any) -> Repartitioned[K, V]:
        """A copy with a key serde."""
        return replace(self, key_serde=serde)

    def with_value_serde(self, serde: Any) -> Repartitioned[K, V]:
        """A copy with a value serde."""
        return replace(self, value_serde=serde)

    def with_stream_partitioner(self, partitioner: Any) -> Repartitioned[K, V]:
        """A copy with a partitioner."""
        return replace(self, partitioner=partitioner)


@dataclass(frozen=True)
class Branched(Generic[K, V]):
    """One split() branch: its name suffix and an optional chain function/consumer."""

    name: str | None = None
    chain: Callable[[Any], Any] | None = None
    consumer: Callable[[Any], None] | None = None

    @classmethod
    def as_(cls, name: str) -> Branched[Any, Any]:
        """Kafka's Branched.as(name)."""
        return cls(name=name)

    @classmethod
    def with_function(cls, chain: Callable[[Any], Any], name: str | None = None) -> Branched[Any, Any]:
        """Kafka's Branched.withFunction: the branch's stream becomes chain(stream)."""
        return cls(name=name, chain=chain)

    @classmethod
    def with_consumer(cls, consumer: Callable[[Any], None], name: str | None = None) -> Branched[Any, Any]:
        """Kafka's Branched.withConsumer: consumer(stream), the branch is not returned."""
        return cls(name=name, consumer=consumer)


@dataclass(frozen=True)
class Printed(Generic[K, V]):
    """print(): where to (stdout or a file), a label, and a mapper(key, value) -> str."""

    label: str | None = None
    file_path: str | None = None
    mapper: Callable[[Any, Any], str] | None = None
    name: str | None = None

    @classmethod
    def to_sys_out(cls) -> Printed[Any, Any]:
        """Kafka's Printed.toSysOut()."""
        return cls()

    @classmethod
    def to_file(cls, path: str) -> Printed[Any, Any]:
        """Kafka's Printed.toFile(path)."""
        return cls(file_path=path)

    def with_label(self, label: str) -> Printed[K, V]:
        """A copy with a label."""
        return replace(self, label=label)

    def with_key_value_mapper(self, mapper: Callable[[Any, Any], str]) -> Printed[K, V]:
        """A copy with a formatter."""
        return replace(self, mapper=mapper)

    def with_name(self, name: str) -> Printed[K, V]:
        """A copy with a processor name."""
        return replace(self, name=name)
