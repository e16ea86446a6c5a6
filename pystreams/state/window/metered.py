"""Metered window layers: the typed WindowStore processors get from get_state_store() (Kafka's
MeteredWindowStore / MeteredTimestampedWindowStore). Keys of range results are Windowed(key, TimeWindow)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from pystreams.errors import ConfigError, StateStoreError
from pystreams.serdes.windowed import Windowed, time_window_for_size
from pystreams.state.api import KeyValueIterator, StateStore, ValueAndTimestamp
from pystreams.state.internals.timestamped import _TS, timestamped_restore

LONG_MAX = (1 << 63) - 1


class MeteredWindowStore(StateStore):
    """WindowStore[K, V]: put(key, value, window_start), fetch by key and time (range), fetch_all, backward."""

    def __init__(self, wrapped: Any, metrics_scope: str, window_size_ms: int, key_serde: Any,
                 value_serde: Any) -> None:
        self.wrapped = wrapped
        self.metrics_scope = metrics_scope
        self.window_size_ms = window_size_ms
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._topic = ""
        self._ks: Any = None
        self._vs: Any = None
        self._open = False
        self.puts = self.fetches = 0

    @property
    def name(self) -> str:
        return str(self.wrapped.name)

    @property
    def persistent(self) -> bool:
        return bool(self.wrapped.persistent)

    def is_open(self) -> bool:
        return self._open and bool(self.wrapped.is_open())

    def init(self, context: Any, root: Any) -> None:
        self._topic = context.changelog_for(self.name)
        self._ks = self._key_serde if self._key_serde is not None else context.key_serde
        self._vs = self._value_serde if self._value_serde is not None else context.value_serde
        for what, serde, key in (("key", self._ks, "default.key.serde"), ("value", self._vs, "default.value.serde")):
            if serde is None:
                raise ConfigError(f"Window store {self.name} has no {what} serde: pass one to the store builder "
                                  f"(or Materialized.with_{what}_serde) or set {key}")
        self.wrapped.init(context, root)
        self._open = True
        context.register(root, self._restore_callback())

    def _innermost(self) -> Any:
        inner = self.wrapped
        while hasattr(inner, "wrapped"):
            inner = inner.wrapped
        return inner

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        return self._innermost().restore_batch  # type: ignore[no-any-return]

    def flush(self) -> None:
        self.wrapped.flush()

    def flush_cache(self) -> None:
        """Forward cached updates without flushing storage (commit step 1)."""
        flush_cache = getattr(self.wrapped, "flush_cache", None)
        if flush_cache is not None:
            flush_cache()

    def set_flush_listener(self, listener: Callable[[Any], None], send_old_values: bool) -> bool:
        """With a caching layer: listener(Record(Windowed key, Change(new, old), ts, headers)) per flushed
        entry; False without one (then the processor forwards itself)."""
        set_listener = getattr(self.wrapped, "set_flush_listener", None)
        if not callable(set_listener):
            return False
        from pystreams.processor.record import Record
        from pystreams.state.api import Change
        from pystreams.state.window.keys import split_store_key

        def typed(store_key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            key, start, _ = split_store_key(store_key)
            windowed = Windowed(self._ks.deserialize(self._topic, key), time_window_for_size(start, self.window_size_ms))
            listener(Record(windowed, Change(self._value(new), self._value(old)), timestamp, headers))
        return bool(set_listener(typed, send_old_values))

    def close(self) -> None:
        self._open = False
        self.wrapped.close()

    # ---- serdes
    def _raw_key(self, key: Any) -> bytes:
        if not self._open:
            raise StateStoreError(f"Window store {self.name} is not open (use it between init() and close())")
        if key is None:
            raise StateStoreError(f"Window store {self.name}: key cannot be None")
        return self._ks.serialize(self._topic, key)  # type: ignore[no-any-return]

    def _raw_value(self, value: Any) -> bytes | None:
        return None if value is None else self._vs.serialize(self._topic, value)

    def _value(self, raw: bytes | None) -> Any:
        return None if raw is None else self._vs.deserialize(self._topic, raw)

    def _windowed(self, pairs: Iterator[tuple[tuple[bytes, int], bytes]]) -> KeyValueIterator:
        kd, value, topic, size = self._ks.deserialize, self._value, self._topic, self.window_size_ms
        return KeyValueIterator((Windowed(kd(topic, k), time_window_for_size(start, size)), value(v))
                                for (k, start), v in pairs)

    def _timed(self, pairs: Iterator[tuple[int, bytes]]) -> KeyValueIterator:
        value = self._value
        return KeyValueIterator((start, value(v)) for start, v in pairs)

    # ---- WindowStore
    def put(self, key: Any, value: Any, window_start: int) -> None:
        """Store value for key in the window starting at window_start; None deletes."""
        self.puts += 1
        self.wrapped.put(self._raw_key(key), self._raw_value(value), window_start)

    def fetch(self, key: Any, time_from: int, time_to: int | None = None) -> Any:
        """fetch(key, window_start) -> value or None; fetch(key, from, to) -> iterator of (start, value)."""
        self.fetches += 1
        if time_to is None:
            return self._value(self.wrapped.fetch(self._raw_key(key), time_from))
        return self._timed(self.wrapped.fetch_range(self._raw_key(key), time_from, time_to, True))

    def backward_fetch(self, key: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._timed(self.wrapped.fetch_range(self._raw_key(key), time_from, time_to, False))

    def fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_keys(self._bound(key_from), self._bound(key_to),
                                                      time_from, time_to, True))

    def backward_fetch_key_range(self, key_from: Any, key_to: Any, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_keys(self._bound(key_from), self._bound(key_to),
                                                      time_from, time_to, False))

    def _bound(self, key: Any) -> bytes | None:
        return None if key is None else self._raw_key(key)

    def fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_all(time_from, time_to, True))

    def backward_fetch_all(self, time_from: int, time_to: int) -> KeyValueIterator:
        return self._windowed(self.wrapped.fetch_all(time_from, time_to, False))

    def all(self) -> KeyValueIterator:
        return self._windowed(self.wrapped.all(True))

    def backward_all(self) -> KeyValueIterator:
        return self._windowed(self.wrapped.all(False))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class MeteredTimestampedWindowStore(MeteredWindowStore):
    """TimestampedWindowStore[K, V]: values are ValueAndTimestamp (stored as 8-byte timestamp + value)."""

    def _raw_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, ValueAndTimestamp):
            raise StateStoreError(f"Timestamped window store {self.name} takes ValueAndTimestamp values, "
                                  f"got {type(value).__name__}")
        raw = self._vs.serialize(self._topic, value.value)
        return None if raw is None else _TS.pack(value.timestamp) + raw

    def _value(self, raw: bytes | None) -> Any:
        if raw is None:
            return None
        return ValueAndTimestamp(self._vs.deserialize(self._topic, raw[8:]), _TS.unpack_from(raw)[0])

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        return timestamped_restore(self._innermost().restore_batch)
