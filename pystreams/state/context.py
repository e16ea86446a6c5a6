"""StateStoreContext: what a store sees of its task (identity, dirs, serdes, cache, record context, changelog).

The task engine (pystreams.processor.internals) creates one per task; tests create one directly.
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Callable, Mapping

from pystreams.errors import StateStoreError
from pystreams.state.internals.cache import ThreadCache

ChangelogSender = Callable[[str, bytes, "bytes | None", int, int, "tuple[tuple[str, bytes | None], ...]"], None]
"""(topic, key, value or None, timestamp, partition, headers): hands a changelog record to the record collector."""

RecordSender = Callable[[str, bytes, "bytes | None", Any, int, "int | None"], None]
"""A record collector's send(topic, key, value, headers, timestamp, partition)."""

StoreChangelogSender = Callable[[bytes, "bytes | None", Any, int], None]
"""send(key, value or None, headers, timestamp): one store's changelog records on this task's partition."""


def _no_changelog(key: bytes, value: bytes | None, headers: Any, timestamp: int) -> None:
    return None


class RecordContext:
    """Where the current record came from; stores stamp cache entries and changelog records with it."""

    __slots__ = ("timestamp", "offset", "topic", "partition", "headers")

    def __init__(self, timestamp: int = 0, offset: int = -1, topic: str | None = None, partition: int = -1,
                 headers: Any = ()) -> None:
        self.timestamp = timestamp
        self.offset = offset
        self.topic = topic
        self.partition = partition
        self.headers = headers


class StateStoreContext:
    """One task's view for its stores; register() records restore callbacks in registration order."""

    def __init__(self, application_id: str, task_id: Any, state_dir: str, configs: Mapping[str, Any] | None = None,
                 key_serde: Any = None, value_serde: Any = None, cache: ThreadCache | None = None,
                 changelog_sender: ChangelogSender | None = None,
                 changelog_topics: Mapping[str, str | None] | None = None,
                 record_sender: RecordSender | None = None) -> None:
        """record_sender: the record collector's send, when changelog records may go to it directly (the task's
        changelog_sender only forwards to it): log_change then makes one call less per record."""
        self.application_id = application_id
        self.task_id = task_id
        self.state_dir = state_dir
        self.configs = dict(configs or {})
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.cache = cache
        self.record_context = RecordContext()
        self._sender = changelog_sender
        self._changelog_topics = dict(changelog_topics or {})
        self._record_send = record_sender
        self._topics: dict[str, str] = {}  # store name -> changelog topic, for the record_sender path
        self._partition: int = getattr(task_id, "partition", 0)
        self.stores: dict[str, Any] = {}
        self.restore_callbacks: dict[str, Callable[[list[Any]], None]] = {}

    def app_configs(self) -> Mapping[str, Any]:
        return self.configs

    def changelog_for(self, store_name: str) -> str:
        """The changelog topic: `<application.id>-<store>-changelog` unless the topology says otherwise."""
        topic = self._changelog_topics.get(store_name)
        return topic if topic else f"{self.application_id}-{store_name}-changelog"

    def register(self, store: Any, restore_callback: Callable[[list[Any]], None]) -> None:
        """Called by a store's init(): the store takes part in flush/close and can be restored."""
        if store.name in self.stores:
            raise StateStoreError(f"Store {store.name} has already been registered in task {self.task_id}")
        self.stores[store.name] = store
        self.restore_callbacks[store.name] = restore_callback

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int,
                   headers: tuple[tuple[str, bytes | None], ...] = ()) -> None:
        """Send one changelog record (tombstone when value is None) on this task's partition; headers
        only where Kafka writes them (e.g. the suppression buffer's format version)."""
        send = self._record_send
        if send is not None:
            topic = self._topics.get(store_name)
            if topic is None:
                topic = self._topics[store_name] = self.changelog_for(store_name)
            send(topic, key, value, headers, timestamp, self._partition)
            return
        if self._sender is None:
            return
        partition = getattr(self.task_id, "partition", 0)
        self._sender(self.changelog_for(store_name), key, value, timestamp, partition, headers)

    def changelog_sender(self, store_name: str) -> StoreChangelogSender:
        """send(key, value, headers, timestamp): log_change(store_name, key, value, timestamp, headers) with the
        topic and partition bound once, for a store sending many records (a cache flush): with a record_sender,
        one call per record straight into the collector's send."""
        topic = self.changelog_for(store_name)
        send = self._record_send
        if send is not None:
            return partial(send, topic, partition=self._partition)  # type: ignore[call-arg]  # collectors name it so
        sender = self._sender
        if sender is None:
            return _no_changelog
        partition = getattr(self.task_id, "partition", 0)

        def send_one(key: bytes, value: bytes | None, headers: Any, timestamp: int) -> None:
            sender(topic, key, value, timestamp, partition, headers)
        return send_one

    def restore(self, store_name: str, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Replay changelog records (key, value, timestamp, offset) into a registered store."""
        callback = self.restore_callbacks.get(store_name)
        if callback is None:
            raise StateStoreError(f"No store {store_name} registered in task {self.task_id}: nothing to restore")
        callback(records)

    def task_dir(self) -> str:
        os.makedirs(self.state_dir, exist_ok=True)
        return self.state_dir
