"""KTableSuppressProcessor: KTable.suppress(Suppressed...) with Kafka's buffer semantics.

The buffer is ordered by (buffer time, serialized key); a key keeps the buffer time of its FIRST buffered
update (Kafka's "non-resetting" put) and its latest value and record context. Buffer time is the window end
for until_window_closes (then the wait is the window's grace period) and the record timestamp for
until_time_limit. After each record, entries with buffer time <= stream time - wait are emitted in order;
then, if over capacity, EMIT evicts the oldest until within bounds and SHUT_DOWN raises. Final-results
suppression drops tombstones. The buffer is the store `store_name` when the topology connects one
(SuppressionBufferBuilder), else private to the processor; the store logs changed keys at commit in Kafka's
v3 format (suppress_changelog) and is restored from its changelog.
"""
from __future__ import annotations

from typing import Any

from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.suppliers import KTableProcessorSupplier, KTableValueGetterSupplier
from pystreams.compiler.processors.windowed import suppress_changelog
from pystreams.compiler.processors.windowed.suppress_buffer import SuppressionBuffer
from pystreams.compiler.processors.windowed.time_tracker import NO_TIMESTAMP
from pystreams.dsl.windows import BufferFullStrategy, Suppressed
from pystreams.errors import PystreamsError
from pystreams.processor import Processor, ProcessorContext, Record


class SuppressionBufferFullError(PystreamsError):
    """A suppress() buffer with shut_down_when_full() exceeded its bounds (Kafka's StreamsException)."""


class KTableSuppressProcessorSupplier(KTableProcessorSupplier):
    """Supplier of KTABLE-SUPPRESS. `parent` is the upstream KTableHandle (asked to send old values, as
    Kafka's constructor does); grace_ms is the upstream window's grace for until_window_closes."""

    def __init__(self, suppressed: Suppressed, store_name: str, parent: Any = None, grace_ms: int = 0,
                 key_serde: Any = None, value_serde: Any = None) -> None:
        self.suppressed = suppressed
        self.store_name = store_name
        self.parent = parent
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.wait_ms = grace_ms if suppressed.final_results_only else int(suppressed.time_to_wait_ms or 0)
        if parent is not None:
            parent.enable_sending_old_values(True)

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SuppressProcessor(self)

    def view(self) -> KTableValueGetterSupplier:
        if self.parent is None:
            raise PystreamsError("suppress() without an upstream table handle has no value getter")
        return self.parent.value_getter_supplier()  # type: ignore[no-any-return]

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        if self.parent is None:
            return False
        return bool(self.parent.enable_sending_old_values(force_materialization))


class _Entry:
    __slots__ = ("key", "change", "timestamp", "headers", "size", "prior", "origin")

    def __init__(self, key: Any, value: Any, timestamp: int, headers: Any, size: int, prior: bytes | None = None,
                 origin: tuple[str | None, int, int] = (None, -1, -1)) -> None:
        self.key = key
        self.change = value
        self.timestamp = timestamp
        self.headers = headers
        self.size = size
        self.prior = prior  # serialized old value of the key's first buffered update (Kafka's priorValue)
        self.origin = origin  # (topic, partition, offset) of the record


class _SuppressProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, supplier: KTableSuppressProcessorSupplier) -> None:
        self.s = supplier
        buffer = supplier.suppressed.buffer_config
        self.max_records = buffer.max_records_
        self.max_bytes = buffer.max_bytes_
        self.strategy = buffer.strategy
        self.final_only = supplier.suppressed.final_results_only
        self.observed_stream_time = NO_TIMESTAMP
        self.buffer = SuppressionBuffer(supplier.store_name)

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.key_serde: Any = self.s.key_serde or context.key_serde
        self.value_serde: Any = self.s.value_serde or context.value_serde
        if self.key_serde is None:
            from pystreams.errors import ConfigError
            raise ConfigError(f"suppress() buffer {self.s.store_name} has no key serde: give the upstream table a "
                              "key serde (Materialized/Grouped) or set default.key.serde")
        self.topic = f"{context.application_id}-{self.s.store_name}-changelog"
        try:
            store = context.get_state_store(self.s.store_name)
        except Exception:  # not connected: keep a private buffer
            store = None
        if isinstance(store, SuppressionBuffer):
            self.buffer = store
        buf = self.buffer
        self.sorted, self.index = buf.sorted, buf.index
        buf.attach(self._encode, self._apply)

    def _ser(self, value: Any) -> bytes | None:
        return None if value is None else self.value_serde.serialize(self.topic, value)

    def _de(self, data: bytes | None) -> Any:
        return None if data is None else self.value_serde.deserialize(self.topic, data)

    def _encode(self, key_bytes: bytes) -> bytes | None:
        slot = self.index.get(key_bytes)
        if slot is None:
            return None
        entry = self.sorted[slot]
        topic, partition, offset = entry.origin
        return suppress_changelog.encode(entry.timestamp, offset, topic, partition, entry.headers, entry.prior,
                                         self._ser(entry.change.old_value), self._ser(entry.change.new_value),
                                         slot[0])

    def _apply(self, key_bytes: bytes, value: bytes | None) -> None:
        """A restored changelog record: the key's entry as logged, or gone (tombstone)."""
        previous = self.index.pop(key_bytes, None)
        if previous is not None:
            self.buffer.bytes_size -= self.sorted.pop(previous).size
        if value is None:
            return
        d = suppress_changelog.Decoded(value)
        key = self.key_serde.deserialize(self.topic, key_bytes)
        headers = d.headers
        entry_change = change(self._de(d.new), self._de(d.old))
        size = self._size(key_bytes, entry_change, headers)
        slot = (d.buffer_time, key_bytes)
        self.index[key_bytes] = slot
        self.sorted[slot] = _Entry(key, entry_change, d.timestamp, headers, size, d.prior,
                                   (d.topic or None, d.partition, d.offset))
        self.buffer.bytes_size += size

    def _size(self, key_bytes: bytes, value: Any, headers: Any) -> int:
        size = 8 + len(key_bytes)
        serde = self.value_serde
        for part in (value.new_value, value.old_value):
            if part is not None and serde is not None:
                size += len(serde.serialize(self.topic, part) or b"")
        size += 8 + 8 + 4 + sum(len(k) + len(v or b"") for k, v in headers or ())
        return size

    def process(self, record: Record[Any, Any]) -> None:
        self.observed_stream_time = max(self.observed_stream_time, record.timestamp)
        self._buffer(record)
        self._enforce()

    def _buffer(self, record: Record[Any, Any]) -> None:
        key = record.key
        buffer_time = key.window.end if self.final_only else record.timestamp
        key_bytes: bytes = self.key_serde.serialize(self.topic, key) or b""
        value = record.value
        size = self._size(key_bytes, value, record.headers)
        previous = self.index.get(key_bytes)
        if previous is None:
            slot = (buffer_time, key_bytes)
            self.index[key_bytes] = slot
            prior = self._ser(value.old_value) if self.buffer.encode is not None else None
        else:
            slot = previous
            old_entry = self.sorted[slot]
            self.buffer.bytes_size -= old_entry.size
            prior = old_entry.prior
        meta = self.context.record_metadata()
        origin = (meta.topic, meta.partition, meta.offset) if meta is not None else (None, -1, -1)
        self.sorted[slot] = _Entry(key, value, record.timestamp, record.headers, size, prior, origin)
        self.buffer.bytes_size += size
        self.buffer.dirty.add(key_bytes)

    def _over_capacity(self) -> bool:
        return len(self.index) > self.max_records or self.buffer.bytes_size > self.max_bytes

    def _enforce(self) -> None:
        expiry = self.observed_stream_time - self.s.wait_ms
        while self.sorted and self.sorted.peekitem(0)[0][0] <= expiry:
            self._evict_first()
        if self._over_capacity():
            if self.strategy is BufferFullStrategy.EMIT:
                while self.sorted and self._over_capacity():
                    self._evict_first()
            else:
                raise SuppressionBufferFullError(
                    f"{self.s.store_name} buffer exceeded its max capacity. Currently [{len(self.index)}/"
                    f"{self.max_records}] records and [{self.buffer.bytes_size}/{self.max_bytes}] bytes.")

    def _evict_first(self) -> None:
        slot, entry = self.sorted.popitem(0)
        del self.index[slot[1]]
        self.buffer.bytes_size -= entry.size
        self.buffer.dirty.add(slot[1])
        value = entry.change
        if value.new_value is not None or not self.final_only:
            self.context.forward(Record(entry.key, change(value.new_value, value.old_value), entry.timestamp,
                                        entry.headers))
