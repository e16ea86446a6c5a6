"""KafkaStreams' interactive queries (Kafka's KafkaStreams.store / queryMetadataForKey / streamsMetadataForStore and
pystreams' remote query helpers), kept apart from the client's life cycle: KafkaStreams inherits them. They read
the client's `_metadata` (StreamsMetadataState, the hosts' partitions from the latest assignment)."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

#: guards each client's (latest assignment, metadata state) pair; assignments are rare, queries read the state
_METADATA_LOCK = threading.Lock()

if TYPE_CHECKING:
    from pystreams.runtime.queries import StoreQueryParameters, StreamsMetadataState


class InteractiveQueries:
    """The interactive-query methods of KafkaStreams (local stores, key metadata, local-or-remote lookups)."""

    #: made on first use from the latest assignment: an app that never queries does not import
    #: pystreams.runtime.queries at start-up (~6 ms of CPU, 4 dataclasses)
    _metadata_state: StreamsMetadataState | None = None
    _latest_assignment: Any = None

    @property
    def _metadata(self) -> StreamsMetadataState:
        """StreamsMetadataState: the hosts' partitions from the latest assignment."""
        state = self._metadata_state
        if state is None:
            from pystreams.runtime.queries import StreamsMetadataState

            with _METADATA_LOCK:
                if self._metadata_state is None:
                    self._metadata_state = StreamsMetadataState()
                    if self._latest_assignment is not None:
                        self._metadata_state.on_assignment(self._latest_assignment)
                state = self._metadata_state
        return state

    @_metadata.setter
    def _metadata(self, state: StreamsMetadataState) -> None:
        self._metadata_state = state

    def _note_assignment_hosts(self, info: Any) -> None:
        """Every assignment's group-wide host maps (AssignmentInfo); the newest wins."""
        with _METADATA_LOCK:
            self._latest_assignment = info
            if self._metadata_state is not None:
                self._metadata_state.on_assignment(info)

    def store(self, name: str | StoreQueryParameters, store_type: Any = None) -> Any:
        """A read-only view of a store over this instance's tasks (Kafka's streams.store(...)): by name (and
        optional QueryableStoreType) or by StoreQueryParameters (stale stores, one partition)."""
        from pystreams.runtime.queries import local_store

        return local_store(self, name, store_type)

    def query_metadata_for_key(self, store: str, key: Any, key_serializer: Any, partitioner: Any = None) -> Any:
        """KeyQueryMetadata: the partition of key and the application.server of the instance holding it (Kafka's
        queryMetadataForKey). The partition is murmur2 of the serialized key, as Java producers and librdkafka's
        murmur2_random place keys; partitioner: Kafka's StreamPartitioner shape (topic, key, value,
        num_partitions) -> int (None: murmur2) for keys placed otherwise, e.g. by a confluent-kafka producer
        with its default consistent_random (queries.producer_partitioner(serde) gives that one)."""
        from pystreams.runtime.queries import key_metadata

        return key_metadata(self, store, key, key_serializer, partitioner)

    def query(self, store: Any, key: Any = None, key_serializer: Any = None, *, allow_stale: bool = False,
              partitioner: Any = None, timeout: Any = None) -> Any:
        """Two calls in one name. query(StateQueryRequest) is Kafka's IQv2 KafkaStreams#query: a StateQueryResult
        with this instance's answer per store partition (pystreams.query: KeyQuery, RangeQuery, WindowKeyQuery,
        ..., positions and bounds). query(store, key, key_serializer) is pystreams' typed lookup: the value of key
        in store, asked locally or on the instance that holds it (over HTTP, types kept); allow_stale: a standby
        copy (possibly behind) may answer when the active one cannot; partitioner: as query_metadata_for_key. The
        read is pinned to the key's partition: an instance that no longer holds it raises InvalidStateStoreError
        (retry) after one retry with fresh metadata, never a wrong None; an unreachable instance is retried once
        when the metadata names another (remote_queries: HostUnreachableError otherwise). timeout: the most the
        call takes in all, seconds or a timedelta (default pystreams.iq.remote.timeout.ms, 10 s)."""
        if not isinstance(store, str):
            from pystreams.query.runner import run_query

            if key is not None or key_serializer is not None:
                raise TypeError("query(StateQueryRequest) takes the request only (the key is in its KeyQuery)")
            return run_query(self, store)
        if key_serializer is None:
            raise TypeError(f"query({store!r}, key, key_serializer): the key serializer is missing (or pass a "
                            "StateQueryRequest for IQv2)")
        from pystreams.runtime.remote_queries import query_key

        return query_key(self, store, key, key_serializer, allow_stale=allow_stale, partitioner=partitioner,
                         timeout=timeout)

    def query_window(self, store: str, key: Any, time_from: int, time_to: int,
                     key_serializer: Any, *, allow_stale: bool = False, partitioner: Any = None,
                     timeout: Any = None) -> list[tuple[int, Any]]:
        """(window start, value) of key's windows starting in [time_from, time_to] in window store `store`, asked
        locally or on the instance that holds the key (over HTTP); plain values, oldest first. allow_stale,
        timeout: as query(); partitioner: as query_metadata_for_key."""
        from pystreams.runtime.remote_queries import query_window_key

        return query_window_key(self, store, key, time_from, time_to, key_serializer, allow_stale=allow_stale,
                                partitioner=partitioner, timeout=timeout)

    def query_sessions(self, store: str, key: Any, key_serializer: Any, earliest_session_end: int = 0,
                       latest_session_start: int = (1 << 63) - 1, *, allow_stale: bool = False,
                       partitioner: Any = None, timeout: Any = None) -> list[Any]:
        """(Windowed key, value) of key's sessions in session store `store` ending at or after
        earliest_session_end and starting at or before latest_session_start (Kafka's findSessions bounds; all by
        default, as sessionStore().fetch(key)), locally or on the owner. allow_stale, timeout: as query()."""
        from pystreams.runtime.remote_queries import query_sessions_key

        return query_sessions_key(self, store, key, key_serializer, earliest_session_end, latest_session_start,
                                  allow_stale=allow_stale, partitioner=partitioner, timeout=timeout)

    def metadata_for_all_streams_clients(self) -> list[Any]:
        """StreamsMetadata of every instance (with an application.server) from the latest assignment."""
        return self._metadata.all_clients(self)

    def streams_metadata_for_store(self, store: str) -> list[Any]:
        """The instances holding store `store` (active or standby), like Kafka's streamsMetadataForStore: every
        instance for a global store."""
        return [m for m in self._metadata.all_clients(self)
                if store in m.state_store_names or store in m.standby_state_store_names]
