"""KTableSource: turns a topic (table()) or a stream (to_table()) into a KTable of Change records."""
from __future__ import annotations

import logging
from typing import Any

from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.forwarding import (
    TimestampedStore,
    TimestampedTupleForwarder,
    log_skipped,
    record_dropped,
)
from pystreams.processor import Processor, ProcessorContext, Record

LOG = logging.getLogger("pystreams.processors.stateful")


class KTableSource:
    """Supplier of the KTABLE-SOURCE / KSTREAM-TOTABLE processor (Kafka's KTableSource).

    `store_name` is the store this table would use; `queryable_name` is set when the user materialized it
    (Materialized with a name or a store supplier). The table is materialized (writes its store, forwards
    through the store's cache) iff queryable_name is set; materialize() and enable_sending_old_values()
    set it, as Kafka does when a downstream operator needs a value getter or old values. The compiler adds
    the store to the Topology only when `materialized` is True after the whole DSL has been replayed.
    """

    def __init__(self, store_name: str, queryable_name: str | None = None) -> None:
        if not store_name:
            raise ValueError("store_name can't be null")
        self.store_name = store_name
        self.queryable_name = queryable_name
        self.send_old_values = False

    def enable_sending_old_values(self) -> None:
        """Old values need the store: materialize and send them."""
        self.send_old_values = True
        self.queryable_name = self.store_name

    def materialize(self) -> None:
        """A downstream operator needs this table's values (value getter): materialize it."""
        self.queryable_name = self.store_name

    @property
    def materialized(self) -> bool:
        """Whether the table has a store (it forwards through the store's cache then)."""
        return self.queryable_name is not None

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _KTableSourceProcessor(self.queryable_name, self.send_old_values)

    get = __call__

    def __repr__(self) -> str:
        return (f"KTableSource(store_name={self.store_name!r}, queryable_name={self.queryable_name!r}, "
                f"send_old_values={self.send_old_values})")


class _KTableSourceProcessor(Processor[Any, Any, Any, Any]):
    """Skips null keys; materialized: read old, put new, forward Change(new, old) (or let the cache do it)."""

    def __init__(self, queryable_name: str | None, send_old_values: bool) -> None:
        self._queryable_name = queryable_name
        self._send_old_values = send_old_values
        self._store: TimestampedStore | None = None
        self._forwarder: TimestampedTupleForwarder | None = None
        self.dropped_records = 0

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        if self._queryable_name is not None:
            self._store = TimestampedStore(context, self._queryable_name)
            self._forwarder = TimestampedTupleForwarder(self._store.store, context, self._send_old_values)

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None:
            log_skipped(self._context, "null key")
            self.dropped_records += 1
            record_dropped(self._context)
            return
        if self._store is None or self._forwarder is None:
            self._context.forward(record.with_value(change(record.value, None)))
            return
        old = self._store.get(record.key)
        old_value = None
        if old is not None:
            old_value = old.value
            if record.timestamp < old.timestamp:
                _warn_out_of_order(self._context, self._store.name, old.timestamp, record.timestamp)
        self._store.put(record.key, record.value, record.timestamp)
        self._forwarder.maybe_forward(record.with_value(change(record.value, old_value)))


def _warn_out_of_order(context: ProcessorContext[Any, Any], store: str, old_ts: int, new_ts: int) -> None:
    metadata = context.record_metadata()
    if metadata is not None:
        LOG.warning("Detected out-of-order KTable update for %s, old timestamp=[%s] new timestamp=[%s]. "
                    "topic=[%s] partition=[%s] offset=[%s].", store, old_ts, new_ts,
                    metadata.topic, metadata.partition, metadata.offset)
    else:
        LOG.warning("Detected out-of-order KTable update for %s, old timestamp=[%s] new timestamp=[%s]. "
                    "Topic, partition and offset not known.", store, old_ts, new_ts)
