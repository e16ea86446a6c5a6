"""Interactive-query routing without a broker: Kafka's StreamPartitioner overload of queryMetadataForKey (an int,
None for the default murmur2, or a singleton set), librdkafka's placements (producer_partitioner), the key-value
view's Kafka methods (reverse_range / reverse_all / prefix_scan, KeyValueIterators), and the helpers' pinning of
the key's partition with one retry on UNAVAILABLE."""
from __future__ import annotations

import zlib
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Serdes
from pystreams.errors import PystreamsError
from pystreams.runtime import remote_queries
from pystreams.runtime.partitioning import default_partition
from pystreams.runtime.queries import (
    CompositeReadOnlyKeyValueStore,
    HostInfo,
    InvalidStateStoreError,
    KeyQueryMetadata,
    StreamsMetadataState,
    key_metadata,
    partition_of,
    producer_partitioner,
)
from pystreams.state.api import KeyValueIterator
from pystreams.state.internals.in_memory import InMemoryKeyValueStore

pytestmark = pytest.mark.unit

A, B = HostInfo("a", 1), HostInfo("b", 2)


def _streams(partitions: int = 4) -> Any:
    """A started client whose store "users" sits in a sub-topology reading topic "users" (and "other")."""
    sub = SimpleNamespace(id=0, changelogs={"users": "app-users-changelog"}, source_topics=["users", "other"],
                          partitions=partitions)
    metadata = StreamsMetadataState()
    metadata.on_assignment(SimpleNamespace(
        partitions_by_host={"a:1": [("users", 0), ("users", 1)], "b:2": [("users", 2), ("other", 3)]},
        standby_partitions_by_host={"a:1": [("users", 3)]}))
    topology = SimpleNamespace(global_store_names=list, subtopologies=list)
    return SimpleNamespace(plan=SimpleNamespace(subtopologies=[sub]), topology=topology, _metadata=metadata,
                           config=SimpleNamespace(application_server="a:1"))


def test_without_a_partitioner_the_partition_is_murmur2_of_the_serialized_key():
    streams = _streams()
    for key in ("alice", "bob", "carol", "dave", "erin"):
        meta = key_metadata(streams, "users", key, Serdes.String())
        assert meta.partition == default_partition(key.encode(), 4)


def test_a_stream_partitioner_decides_the_partition_and_so_the_hosts():
    streams = _streams()
    calls: list[Any] = []

    def partitioner(topic: str, key: Any, value: Any, num_partitions: int) -> int:
        calls.append((topic, key, value, num_partitions))
        return 3

    meta = key_metadata(streams, "users", "alice", Serdes.String(), partitioner)
    assert calls == [("users", "alice", None, 4)]  # Kafka passes value null and the partition count
    assert meta == KeyQueryMetadata(B, 3, frozenset({A}))  # active for ("other", 3) on b, standby on a
    assert key_metadata(streams, "users", "x", Serdes.String(), lambda t, k, v, n: {2}).partition == 2
    none = key_metadata(streams, "users", "alice", Serdes.String(), lambda t, k, v, n: None)
    assert none.partition == default_partition(b"alice", 4)  # None: the default partitioning, as Kafka's producer


def test_a_kafka_style_partitioner_object_with_partition_or_partitions_is_accepted():
    class Partitions:
        def partitions(self, topic, key, value, num_partitions):
            return frozenset({1})

    class Partition:
        def partition(self, topic, key, value, num_partitions):
            return 0

    assert partition_of(Partitions(), "t", "k", 4) == 1
    assert partition_of(Partition(), "t", "k", 4) == 0


@pytest.mark.parametrize("answer, match", [({1, 2}, "singleton"), (set(), "singleton"), (4, "not a partition"),
                                           (-1, "not a partition"), ("1", "not a partition"),
                                           (True, "not a partition")])
def test_bad_partitioner_answers_are_clear_errors(answer, match):
    with pytest.raises(PystreamsError, match=match):
        partition_of(lambda t, k, v, n: answer, "t", "k", 4)
    with pytest.raises(PystreamsError, match="StreamPartitioner"):
        partition_of(42, "t", "k", 4)


def test_producer_partitioner_places_keys_as_librdkafka_does():
    keys = [f"user-{i}" for i in range(50)]
    crc = producer_partitioner(Serdes.String())  # confluent-kafka's default: consistent_random
    assert [crc("t", k, None, 7) for k in keys] == [zlib.crc32(k.encode()) % 7 for k in keys]
    murmur = producer_partitioner(Serdes.String(), "murmur2_random")
    assert [murmur("t", k, None, 7) for k in keys] == [default_partition(k.encode(), 7) for k in keys]
    fnv = producer_partitioner(Serdes.String(), "fnv1a")
    # partitions librdkafka 2.x (fnv1a_random, 7 partitions) gave these keys: abs() of the signed 32-bit hash
    assert {k: fnv("t", k, None, 7) for k in ("user-9", "user-1", "user-5", "user-39")} == {
        "user-9": 6, "user-1": 1, "user-5": 0, "user-39": 0}
    with pytest.raises(PystreamsError, match="unknown librdkafka partitioner"):
        producer_partitioner(Serdes.String(), "random")


class TypedStore(InMemoryKeyValueStore):
    """A byte store with the typed store's prefix_scan(prefix, serializer) signature, as the view calls it."""

    def prefix_scan(self, prefix: Any, prefix_serializer: Any) -> Any:  # type: ignore[override]
        return super().prefix_scan(prefix_serializer("s", prefix))


def _view(*contents: dict[bytes, bytes]) -> CompositeReadOnlyKeyValueStore:
    stores = []
    for content in contents:
        store = TypedStore("s")
        for key, value in content.items():
            store.put(key, value)
        stores.append(store)
    return CompositeReadOnlyKeyValueStore("s", lambda: stores, plain_values=False)


def test_the_key_value_view_has_kafkas_reverse_and_prefix_reads_as_key_value_iterators():
    view = _view({b"a1": b"1", b"a2": b"2", b"b1": b"3"}, {b"a3": b"4", b"c1": b"5"})
    it = view.reverse_all()
    assert isinstance(it, KeyValueIterator) and it.has_next() and it.peek_next_key() == b"b1"
    assert [kv.key for kv in it] == [b"b1", b"a2", b"a1", b"c1", b"a3"]  # per store, like Kafka's composite
    assert [k for k, _ in view.reverse_range(b"a1", b"a3")] == [b"a2", b"a1", b"a3"]
    assert [k for k, _ in view.range(b"a1", b"a3")] == [b"a1", b"a2", b"a3"]
    prefix = view.prefix_scan(b"a", lambda topic, p: p)
    assert sorted(k for k, _ in prefix) == [b"a1", b"a2", b"a3"]
    with view.all() as it:
        assert next(it).key == b"a1"


def test_the_view_is_unavailable_at_the_call_when_no_local_task_holds_the_store():
    view = CompositeReadOnlyKeyValueStore("s", list, plain_values=False)
    for read in (view.all, view.reverse_all, lambda: view.range(None, None), lambda: view.prefix_scan(b"", None)):
        with pytest.raises(InvalidStateStoreError, match="retry"):
            read()


def _helper_streams(metas: list[KeyQueryMetadata], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []

    def fake_metadata(streams, store, key, serializer, partitioner=None):
        seen.append(partitioner)
        return metas[min(len(seen), len(metas)) - 1]

    monkeypatch.setattr(remote_queries, "key_metadata", fake_metadata)
    monkeypatch.setattr(remote_queries, "check_known", lambda *args: None)
    monkeypatch.setattr(remote_queries, "RETRY_BACKOFF_S", 0.0)
    return seen


def _client() -> Any:
    return SimpleNamespace(topology=SimpleNamespace(global_store_names=list),
                           config=SimpleNamespace(application_server="a:1"))


def test_an_unavailable_answer_is_retried_once_with_fresh_metadata(monkeypatch):
    seen = _helper_streams([KeyQueryMetadata(B, 2), KeyQueryMetadata(A, 2)], monkeypatch)
    calls: list[Any] = []

    def local(params):
        calls.append(("local", params.partition, params.stale_stores))
        return "v"

    def remote(host, raw, extra, seconds):
        calls.append((str(host), extra))
        raise InvalidStateStoreError("b:2: this instance does not hold partition 2")

    mine = lambda t, k, v, n: 2
    assert remote_queries._ask(_client(), "s", "k", Serdes.String(), False, local, remote, mine) == "v"
    assert calls == [("b:2", {"partition": "2"}), ("local", 2, False)]  # pinned both times
    assert seen == [mine, mine]  # the partitioner reaches the metadata on each attempt


def test_a_second_unavailable_answer_is_raised_not_turned_into_none(monkeypatch):
    _helper_streams([KeyQueryMetadata(B, 1)], monkeypatch)
    attempts: list[Any] = []

    def remote(host, raw, extra, seconds):
        attempts.append(extra)
        raise InvalidStateStoreError("moved")

    with pytest.raises(InvalidStateStoreError, match="moved"):
        remote_queries._ask(_client(), "s", "k", Serdes.String(), False, None, remote)
    assert attempts == [{"partition": "1"}, {"partition": "1"}]


def test_errors_a_retry_cannot_fix_are_not_retried(monkeypatch):
    _helper_streams([KeyQueryMetadata(B, 1)], monkeypatch)
    attempts: list[Any] = []

    def remote(host, raw, extra, seconds):
        attempts.append(extra)
        raise remote_queries.StoreTypeMismatchError("a window store")

    with pytest.raises(remote_queries.StoreTypeMismatchError):
        remote_queries._ask(_client(), "s", "k", Serdes.String(), False, None, remote)
    assert len(attempts) == 1


def test_global_stores_are_in_every_hosts_metadata_as_kafka_lists_them():
    from pystreams.runtime.interactive_queries import InteractiveQueries

    metadata = StreamsMetadataState()
    metadata.on_assignment(SimpleNamespace(partitions_by_host={"a:1": [("users", 0)], "b:2": []},
                                           standby_partitions_by_host={}))
    client = InteractiveQueries()
    client._metadata = metadata
    client.plan = None  # type: ignore[attr-defined]
    client.topology = SimpleNamespace(global_store_names=lambda: ["glob"])  # type: ignore[attr-defined]
    clients = client.metadata_for_all_streams_clients()
    assert [(c.host_info, c.state_store_names) for c in clients] == [(A, {"glob"}), (B, {"glob"})]
    assert client.streams_metadata_for_store("glob") == clients
    assert client.streams_metadata_for_store("users-store") == []


def test_the_key_is_serialized_once_with_the_source_topic_for_routing_and_the_wire(monkeypatch):
    monkeypatch.setattr(remote_queries, "check_known", lambda *args: None)
    topics: list[str] = []

    def serializer(topic: str, key: str) -> bytes:
        topics.append(topic)  # a schema-registry serde registers "<topic>-key": never "<store>-key"
        return key.encode()

    targets, raw, partition = remote_queries._targets(_streams(), "users", "alice", serializer, False)
    assert targets == [(None, False) if partition in (0, 1) else (B, False)]  # a:1 is this instance
    assert set(topics) == {"users"} and raw == b"alice"
    assert partition == default_partition(b"alice", 4)
