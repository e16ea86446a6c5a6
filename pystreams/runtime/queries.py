"""Interactive queries: local read-only views over the stores of this client's tasks, which instance holds a key
(Kafka's KeyQueryMetadata) and which instances run what (StreamsMetadata), and a helper that asks whichever
instance holds a key over HTTP.

Where a key lives: the partition is Kafka's default partitioner (murmur2 of the serialized key) over the store's
sub-topology's partition count; the hosts come from the latest assignment this client received (AssignmentInfo's
partitions_by_host / standby_partitions_by_host, the application.server of every instance), like Kafka's
StreamsMetadataState (unavailable until the first assignment arrives).
"""
from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from pystreams.errors import PystreamsError
from pystreams.runtime.composite_view import CompositeView
from pystreams.runtime.partitioning import default_partition
from pystreams.state.api import (
    KeyValueIterator,
    TimestampedKeyValueStore,
    ValueAndTimestamp,
)
from pystreams.state.queryable import QueryableStoreType, QueryableStoreTypes

# The window/session store packages (rocksdict) and urllib.request are imported where they are used, not here:
# KafkaStreams() imports this module, and a plain app should not pay for them at start-up (U's measurement).


class InvalidStateStoreError(PystreamsError):
    """Kafka's InvalidStateStoreException: the store is unknown here, or the client is not running (retry)."""


class UnknownStateStoreError(InvalidStateStoreError):
    """Kafka's UnknownStateStoreException: no store of that name in the topology (retrying will not help)."""


class StoreTypeMismatchError(InvalidStateStoreError):
    """The store exists but is not of the QueryableStoreType asked for (e.g. a window store read as key-value)."""


class KeySerializationError(PystreamsError):
    """The key serializer given to a query cannot serialize the key (or turned it into null)."""


def serialize_key(key_serializer: Any, topic: str, key: Any) -> bytes:
    """The key's bytes from a Serde, a Serializer or a (topic, key) -> bytes callable, with a clear error."""
    serialize = getattr(key_serializer, "serialize", key_serializer)
    if not callable(serialize):
        raise KeySerializationError(f"key_serializer must be a Serde, a Serializer or a callable, got "
                                    f"{type(key_serializer).__name__}")
    try:
        raw = serialize(topic, key)
    except Exception as e:
        raise KeySerializationError(f"{type(key_serializer).__name__} cannot serialize the key {key!r} "
                                    f"({type(key).__name__}): {e}; pass the store's key serde") from e
    if raw is None:
        raise KeySerializationError(f"the key serializer turned {key!r} into null: null keys have no partition")
    if not isinstance(raw, (bytes, bytearray)):
        raise KeySerializationError(f"the key serializer returned {type(raw).__name__}, not bytes")
    return bytes(raw)


@dataclass(frozen=True)
class HostInfo:
    """host:port of an instance's application.server."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> HostInfo:
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit():
            raise PystreamsError(f"application.server must be host:port, got {text!r}")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


UNAVAILABLE = HostInfo("unavailable", -1)  # Kafka's KeyQueryMetadata.NOT_AVAILABLE host


@dataclass(frozen=True)
class StoreQueryParameters:
    """Kafka's StoreQueryParameters: what `streams.store(params)` reads. enable_stale_stores() also reads this
    instance's standby and still-restoring copies (possibly behind the active one: for reads while the active
    instance is down or the store is restoring); with_partition() narrows the view to one partition's task."""

    store_name: str
    query_type: QueryableStoreType | None = None
    partition: int | None = None
    stale_stores: bool = False

    @classmethod
    def from_name_and_type(cls, store_name: str, query_type: QueryableStoreType | None = None
                           ) -> StoreQueryParameters:
        return cls(store_name, query_type)

    def enable_stale_stores(self) -> StoreQueryParameters:
        return replace(self, stale_stores=True)

    def with_partition(self, partition: int | None) -> StoreQueryParameters:
        if partition is not None and (not isinstance(partition, int) or partition < 0):
            raise PystreamsError(f"with_partition takes a partition number >= 0 (or None for all), got {partition!r}")
        return replace(self, partition=partition)

    def stale_stores_enabled(self) -> bool:
        return self.stale_stores


@dataclass(frozen=True)
class KeyQueryMetadata:
    """Which instance holds a key's active task, and which keep standbys of it (num.standby.replicas)."""

    active_host: HostInfo
    partition: int
    standby_hosts: frozenset[HostInfo] = field(default_factory=frozenset)


def _unavailable(name: str) -> InvalidStateStoreError:
    return InvalidStateStoreError(f"store {name} is not available on this instance right now (no local task holds "
                                  "it, or the client is rebalancing): retry")


class CompositeReadOnlyKeyValueStore(CompositeView):
    """Kafka's CompositeReadOnlyKeyValueStore: one read-only view over the same store in every local task."""

    def __init__(self, name: str, stores: Callable[[], list[Any]], plain_values: bool) -> None:
        super().__init__(name, stores, _unavailable)
        self._plain = plain_values

    def _value(self, value: Any) -> Any:
        return ValueAndTimestamp.get_value_or_null(value) if self._plain else value

    def get(self, key: Any) -> Any:
        for store in self._all_stores():
            value = store.get(key)
            if value is not None:
                return self._value(value)
        return None

    def _pairs(self, read: Callable[[Any], Any]) -> KeyValueIterator:
        """Each local store's read(store) in turn (Kafka's composite iterators: per store, not merged), as a
        KeyValueIterator (has_next, peek_next_key, close / with)."""
        stores = self._all_stores()  # unavailable at once, not at the first next()

        def pairs() -> Iterator[tuple[Any, Any]]:
            for store in stores:
                it = read(store)
                try:
                    for key, value in it:
                        yield key, self._value(value)
                finally:
                    close = getattr(it, "close", None)
                    if callable(close):
                        close()

        return KeyValueIterator(pairs())

    def all(self) -> KeyValueIterator:
        """Every pair, each store's in ascending key order."""
        return self._pairs(lambda store: store.all())

    def range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        """Pairs with from_key <= key <= to_key (None: open end), each store's in ascending key order."""
        return self._pairs(lambda store: store.range(from_key, to_key))

    def reverse_range(self, from_key: Any, to_key: Any) -> KeyValueIterator:
        """range() with each store's pairs in descending key order (Kafka's ReadOnlyKeyValueStore.reverseRange)."""
        return self._pairs(lambda store: store.reverse_range(from_key, to_key))

    def reverse_all(self) -> KeyValueIterator:
        """all() with each store's pairs in descending key order (Kafka's reverseAll)."""
        return self._pairs(lambda store: store.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> KeyValueIterator:
        """Pairs whose serialized key starts with the serialized prefix (Kafka's prefixScan(prefix, serializer))."""
        return self._pairs(lambda store: store.prefix_scan(prefix, prefix_serializer))

    def approximate_num_entries(self) -> int:
        return sum(s.approximate_num_entries() for s in self._all_stores())

    def __iter__(self) -> Iterator[Any]:
        return self.all()


def local_store(streams: Any, name: str | StoreQueryParameters, store_type: QueryableStoreType | None = None) -> Any:
    """streams.store(name[, type]) or streams.store(StoreQueryParameters...): checks the store exists and has the
    requested type; reads go to live local tasks (a CompositeReadOnlyKeyValueStore, or a
    CompositeReadOnlyWindowStore for the window store types); with stale stores enabled also to this instance's
    standby and restoring tasks of the store."""
    from pystreams.runtime.window_queries import (
        WINDOW_STORE_TYPES,
        CompositeReadOnlyWindowStore,
        accepts_window,
    )
    from pystreams.state.session.layers import MeteredSessionStore
    from pystreams.state.window.metered import (
        MeteredTimestampedWindowStore,
        MeteredWindowStore,
    )

    stale, partition = False, None
    if isinstance(name, StoreQueryParameters):
        if store_type is not None and name.query_type is not None and store_type.name != name.query_type.name:
            raise PystreamsError(f"two store types given for store {name.store_name}: {name.query_type} in the "
                                 f"StoreQueryParameters and {store_type}")
        store_type = store_type or name.query_type
        stale, partition, name = name.stale_stores, name.partition, name.store_name
    if streams.state.name not in ("RUNNING", "REBALANCING"):
        raise InvalidStateStoreError(f"KafkaStreams is not running (state {streams.state.name}): cannot query "
                                     f"store {name}")
    store_type = store_type or QueryableStoreTypes.key_value_store()
    check_known(streams, name)
    kind, wanted = builder_kind(streams, name), _KIND_OF_TYPE.get(store_type.name)
    if kind is not None and wanted is not None and kind != wanted:  # known even with no local task of it
        raise StoreTypeMismatchError(f"store {name} is a {kind.replace('_', '-')} store, not a {store_type.name}: "
                                     f"query it with QueryableStoreTypes.{_TYPE_HINT[kind]}")

    def stores() -> list[Any]:
        return live_stores(streams, name, stale, partition)

    sample = stores()
    if store_type.name == "session_store":
        from pystreams.runtime.session_queries import session_view

        return session_view(name, stores, sample, _unavailable)
    if sample and isinstance(sample[0], MeteredSessionStore):
        raise StoreTypeMismatchError(f"store {name} is a session store: query it with QueryableStoreTypes."
                                     "session_store()")
    if store_type.name in WINDOW_STORE_TYPES:
        if sample and not accepts_window(store_type.name, sample[0]):
            raise StoreTypeMismatchError(f"store {name} is a {type(sample[0]).__name__}, not a {store_type.name}")
        timestamped = bool(sample) and isinstance(sample[0], MeteredTimestampedWindowStore)
        return CompositeReadOnlyWindowStore(name, stores, store_type.name == "window_store" and timestamped,
                                            _unavailable)
    if sample and isinstance(sample[0], MeteredWindowStore):
        raise StoreTypeMismatchError(f"store {name} is a window store: query it with the window_store or "
                                     "timestamped_window_store type")
    plain = False
    if sample:
        if not store_type.accepts(sample[0]):
            timestamped_as_plain = (store_type.name == "key_value_store"
                                    and isinstance(sample[0], TimestampedKeyValueStore))
            if not timestamped_as_plain:
                raise StoreTypeMismatchError(f"store {name} is a {type(sample[0]).__name__}, not a "
                                             f"{store_type.name}")
        plain = store_type.name == "key_value_store" and isinstance(sample[0], TimestampedKeyValueStore)
    return CompositeReadOnlyKeyValueStore(name, stores, plain)


_KIND_OF_TYPE = {"key_value_store": "key_value", "timestamped_key_value_store": "key_value",
                 "window_store": "window", "timestamped_window_store": "window", "session_store": "session"}
_TYPE_HINT = {"key_value": "key_value_store() or timestamped_key_value_store()",
              "window": "window_store() or timestamped_window_store()", "session": "session_store()"}


def builder_kind(streams: Any, name: str) -> str | None:
    """"key_value", "window" or "session": what the topology builds for store `name` (None: a custom builder)."""
    from pystreams.state.builder import KeyValueStoreBuilder
    from pystreams.state.session.layers import SessionStoreBuilder
    from pystreams.state.window.builder import WindowStoreBuilder

    topology = streams.topology
    builder = topology.store_builders().get(name) or topology.global_store_builders().get(name)
    for cls, kind in ((SessionStoreBuilder, "session"), (WindowStoreBuilder, "window"),
                      (KeyValueStoreBuilder, "key_value")):
        if isinstance(builder, cls):
            return kind
    return None


def check_known(streams: Any, name: str) -> None:
    """UnknownStateStoreError unless the topology has a (local or global) store called name."""
    known = set(streams.topology.store_builders()) | set(streams.topology.global_store_names())
    if name not in known:
        raise UnknownStateStoreError(f"no store named {name} in the topology (stores: {sorted(known)})")


def live_stores(streams: Any, name: str, stale: bool = False, partition: int | None = None) -> list[Any]:
    """The open instances of store `name` in this client's running tasks (or its global store); stale: also its
    still-restoring active tasks and its standby tasks (Kafka's StreamThreadStateStoreProvider with stale stores
    enabled reads all of a thread's tasks); partition: only that partition's task."""
    if streams.global_state is not None and name in streams.global_state.stores:
        return [streams.global_state.stores[name]]
    found = []
    for thread in list(streams.threads):
        tasks = list(thread.tasks.values())
        if stale:
            restorer = getattr(thread, "_restorer", None)
            tasks += [rt.at for rt in list(getattr(restorer, "restoring", {}).values())]
            standby = getattr(thread, "_standby", None)
            tasks += list(getattr(standby, "tasks", {}).values())
        for at in tasks:
            if partition is not None and at.id.partition != partition:
                continue
            store = at.task.stores.get(name)
            if store is not None and store.is_open():
                found.append(store)
    return found


@dataclass(frozen=True)
class StreamsMetadata:
    """Kafka's StreamsMetadata: one instance (application.server), its stores and partitions, active and standby."""

    host_info: HostInfo
    state_store_names: frozenset[str]
    topic_partitions: frozenset[tuple[str, int]]
    standby_state_store_names: frozenset[str] = frozenset()
    standby_topic_partitions: frozenset[tuple[str, int]] = frozenset()


class StreamsMetadataState:
    """Kafka's StreamsMetadataState: which instance holds which partitions, from the latest AssignmentInfo."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[tuple[str, int], HostInfo] = {}
        self._standby: dict[tuple[str, int], set[HostInfo]] = {}
        self._hosts: list[HostInfo] = []
        self.known = False  # True once a Streams assignment arrived

    def on_assignment(self, info: Any) -> None:
        """Every member gets the group-wide maps; the newest wins."""
        active: dict[tuple[str, int], HostInfo] = {}
        standby: dict[tuple[str, int], set[HostInfo]] = {}
        hosts = sorted(set(info.partitions_by_host) | set(info.standby_partitions_by_host))
        for endpoint, tps in info.partitions_by_host.items():
            for tp in tps:
                active[tuple(tp)] = HostInfo.parse(endpoint)  # type: ignore[index]
        for endpoint, tps in info.standby_partitions_by_host.items():
            for tp in tps:
                standby.setdefault(tuple(tp), set()).add(HostInfo.parse(endpoint))  # type: ignore[arg-type]
        with self._lock:
            self._active, self._standby = active, standby
            self._hosts = [HostInfo.parse(h) for h in hosts]
            self.known = True

    def first_host(self) -> HostInfo:
        """The first instance's host (sorted), UNAVAILABLE before the first assignment."""
        with self._lock:
            return self._hosts[0] if self._hosts else UNAVAILABLE

    def hosts_of(self, tps: list[tuple[str, int]]) -> tuple[HostInfo, frozenset[HostInfo]]:
        """(active host, standby hosts) of a task's input partitions."""
        with self._lock:
            active = next((self._active[tp] for tp in tps if tp in self._active), UNAVAILABLE)
            standby = frozenset(h for tp in tps for h in self._standby.get(tp, ()))
        return active, standby

    def all_clients(self, streams: Any) -> list[StreamsMetadata]:
        """StreamsMetadata of every instance with an application.server, sorted by host; every instance's
        state_store_names include the global stores (each holds all of them, as Kafka's StreamsMetadataState
        adds them to every host's active stores)."""
        stores_of = _stores_by_topic(streams)
        global_stores = frozenset(streams.topology.global_store_names())
        with self._lock:
            active, standby, hosts = dict(self._active), dict(self._standby), list(self._hosts)
        out = []
        for host in hosts:
            tps = frozenset(tp for tp, h in active.items() if h == host)
            stps = frozenset(tp for tp, hs in standby.items() if host in hs)
            stores = frozenset(s for tp in tps for s in stores_of.get(tp[0], ())) | global_stores
            out.append(StreamsMetadata(host, stores, tps,
                                       frozenset(s for tp in stps for s in stores_of.get(tp[0], ())), stps))
        return out


def _stores_by_topic(streams: Any) -> dict[str, tuple[str, ...]]:
    plan = streams.plan
    if plan is None:
        return {}
    return {topic: _stores_of(streams, sub.id) for sub in plan.subtopologies for topic in sub.source_topics}


def key_metadata(streams: Any, store: str, key: Any, key_serializer: Any,
                 partitioner: StreamPartitioner | None = None) -> KeyQueryMetadata:
    """streams.query_metadata_for_key(): the key's partition (murmur2 of the serialized key, or the given
    StreamPartitioner's answer), hosts from the latest assignment."""
    plan = streams.plan
    if plan is None:
        raise InvalidStateStoreError("KafkaStreams has not been started")
    if store in streams.topology.global_store_names():
        # every instance holds a global store (Kafka answers this host, else the first known one; partition -1)
        serialize_key(key_serializer, store, key)  # the same clear error for a key the serializer cannot take
        local = streams.config.application_server
        host = HostInfo.parse(local) if local else streams._metadata.first_host()
        return KeyQueryMetadata(host, -1)
    sub = _sub_of(streams, store)
    topic = sub.source_topics[0] if sub.source_topics else store
    raw = serialize_key(key_serializer, topic, key)
    partition = None if partitioner is None else partition_of(partitioner, topic, key, sub.partitions)
    if partition is None:  # no partitioner, or it answered None: the default (murmur2), as Kafka's producer does
        partition = default_partition(raw, sub.partitions)
    # before the first assignment the hosts are unknown: NOT_AVAILABLE, like Kafka
    active, standby = streams._metadata.hosts_of([(t, partition) for t in sub.source_topics])
    return KeyQueryMetadata(active, partition, standby)


def _sub_of(streams: Any, store: str) -> Any:
    sub = next((s for s in streams.plan.subtopologies
                if store in s.changelogs or store in _stores_of(streams, s.id)), None)
    if sub is None:
        raise UnknownStateStoreError(f"no sub-topology holds store {store}")
    return sub


def key_topic(streams: Any, store: str) -> str:
    """The topic a query's key is serialized with: a source topic of the store's sub-topology (the one
    query_metadata_for_key partitions by, so one serialization serves routing and the wire; a schema-registry serde
    then looks up that topic's subject, not a made-up "<store>-key"); the store's name for a global store or
    before start()."""
    if getattr(streams, "plan", None) is None or store in streams.topology.global_store_names():
        return store
    sub = _sub_of(streams, store)
    return str(sub.source_topics[0]) if sub.source_topics else store


#: Kafka's StreamPartitioner: (topic, key, value, num_partitions) -> a partition, None for the default (murmur2),
#: or Kafka 3.4+'s partitions() answer, a set (for a key query it must hold one partition).
StreamPartitioner = Callable[[str, Any, Any, int], "int | set[int] | frozenset[int] | None"]


def partition_of(partitioner: Any, topic: str, key: Any, num_partitions: int) -> int | None:
    """The StreamPartitioner's partition of key (value None, as Kafka's queryMetadataForKey passes), checked: an
    int in [0, num_partitions), None, or a one-element set (Kafka: "should be a singleton set")."""
    call = getattr(partitioner, "partition", None) or getattr(partitioner, "partitions", None) or partitioner
    if not callable(call):
        raise PystreamsError(f"partitioner must be a StreamPartitioner (topic, key, value, num_partitions) -> int, "
                             f"got {type(partitioner).__name__}")
    answer = call(topic, key, None, num_partitions)
    if isinstance(answer, (set, frozenset, list, tuple)):
        if len(answer) != 1:
            raise PystreamsError(f"the partitions a StreamPartitioner returns for a key query must be one "
                                 f"partition (Kafka: a singleton set), got {sorted(answer)!r}")
        answer = next(iter(answer))
    if answer is None:
        return None
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < num_partitions:
        raise PystreamsError(f"the StreamPartitioner returned {answer!r} for key {key!r}: not a partition of "
                             f"{topic} (0..{num_partitions - 1})")
    return answer


def producer_partitioner(key_serializer: Any, partitioner: str = "consistent_random") -> Any:
    """A StreamPartitioner that places keys as a librdkafka producer (confluent-kafka) with that `partitioner`
    setting does: consistent / consistent_random (its default: CRC32 of the key bytes), murmur2 / murmur2_random
    (Kafka's Java default), fnv1a / fnv1a_random. For query_metadata_for_key / query on a table filled by such a
    producer; better: produce with partitioner=murmur2_random, as Java clients and pystreams do."""
    import zlib

    def fnv1a(data: bytes) -> int:  # librdkafka: abs() of the hash as a signed 32-bit int, then modulo
        h = 0x811C9DC5
        for b in data:
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
        return abs(h - (1 << 32) if h & 0x80000000 else h)

    hashes = {"consistent": zlib.crc32, "murmur2": None, "fnv1a": fnv1a}
    base = partitioner.removesuffix("_random")
    if base not in hashes:
        raise PystreamsError(f"unknown librdkafka partitioner {partitioner!r}: one of consistent_random, "
                             "consistent, murmur2_random, murmur2, fnv1a_random, fnv1a")
    hash_fn = hashes[base]

    def partition(topic: str, key: Any, _value: Any, num_partitions: int) -> int:
        raw = serialize_key(key_serializer, topic, key)
        if hash_fn is None:
            return default_partition(raw, num_partitions)
        return hash_fn(raw) % num_partitions

    return partition


def _stores_of(streams: Any, sub_id: int) -> tuple[str, ...]:
    for sub in streams.topology.subtopologies():
        if sub.id == sub_id:
            return tuple(sub.store_names)
    return ()


def _json_key(key: Any) -> str:
    try:
        return json.dumps(key)
    except (TypeError, ValueError) as e:
        raise KeySerializationError(f"the plain JSON endpoint takes JSON keys only, not {type(key).__name__}: use "
                                    "KafkaStreams.query()/query_window() (typed, any key the store's serde "
                                    "handles)") from e


def query_remote(host: HostInfo, store: str, key: Any, timeout: float = 10.0) -> Any:
    """GET http://host/v1/stores/<store>?key=<json key> on the instance that holds the key (the plain JSON
    endpoint: JSON keys and values only; KafkaStreams.query() keeps types)."""
    url = (f"http://{host.host}:{host.port}/v1/stores/{urllib.parse.quote(store)}?key="
           f"{urllib.parse.quote(_json_key(key))}")
    from urllib.request import urlopen

    with urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())["value"]



def query_remote_window(host: HostInfo, store: str, key: Any, time_from: int, time_to: int,
                        timeout: float = 10.0) -> list[tuple[int, Any]]:
    """GET http://host/v1/stores/<store>?key=<json key>&from=..&to=..: the key's windows on the instance holding it."""
    url = (f"http://{host.host}:{host.port}/v1/stores/{urllib.parse.quote(store)}?key="
           f"{urllib.parse.quote(_json_key(key))}&from={int(time_from)}&to={int(time_to)}")
    from urllib.request import urlopen

    with urlopen(url, timeout=timeout) as response:
        return [(start, value) for start, value in json.loads(response.read())["windows"]]
