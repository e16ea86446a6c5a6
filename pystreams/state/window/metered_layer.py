"""The typed layer Kafka's MeteredWindowStore and MeteredSessionStore share: serdes resolved at init (called with
the changelog topic), open checks, restore into the innermost bytes store, and the cache's flush listener."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.errors import ConfigError, StateStoreError
from pystreams.serdes.windowed import Windowed
from pystreams.state.api import StateStore


_IMMUTABLE_KEYS = frozenset({str, bytes, int})
_NO_KEY: Any = object()


class MeteredWindowedLayer(StateStore):
    """Base of the metered window and session stores; subclasses say how a stored key becomes a Windowed key."""

    _kind = "Window store"  # how errors name the store
    _serde_hint = "Materialized.with_{what}_serde"

    def __init__(self, wrapped: Any, metrics_scope: str, key_serde: Any, value_serde: Any) -> None:
        self.wrapped = wrapped
        self.metrics_scope = metrics_scope
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._topic = ""
        self._ks: Any = None
        self._vs: Any = None
        self._open = False
        self._memo_key: Any = _NO_KEY  # the last key serialized and its bytes (fetch then put of one key)
        self._memo_raw = b""

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
                raise ConfigError(f"{self._kind} {self.name} has no {what} serde: pass one to the store builder "
                                  f"(or {self._serde_hint.format(what=what)}) or set {key}")
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

    def _typed_key(self, store_key: bytes) -> Windowed[Any]:
        """The Windowed key a cached store key stands for (what the flush listener forwards)."""
        raise NotImplementedError

    def set_flush_listener(self, listener: Callable[[Any], None], send_old_values: bool) -> bool:
        """With a caching layer: listener(Record(Windowed key, Change(new, old), ts, headers)) per flushed
        entry; False without one (then the processor forwards itself)."""
        set_listener = getattr(self.wrapped, "set_flush_listener", None)
        if not callable(set_listener):
            return False
        from pystreams.processor.record import Record
        from pystreams.state.api import Change

        def typed(store_key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            listener(Record(self._typed_key(store_key), Change(self._value(new), self._value(old)), timestamp,
                            headers))
        return bool(set_listener(typed, send_old_values))

    def close(self) -> None:
        self._open = False
        self._memo_key = _NO_KEY
        self.wrapped.close()

    def _raw_key(self, key: Any) -> bytes:
        if not self._open:
            raise StateStoreError(f"{self._kind} {self.name} is not open (use it between init() and close())")
        if key is self._memo_key:
            return self._memo_raw
        if key is None:
            raise StateStoreError(f"{self._kind} {self.name}: key cannot be None")
        raw = self._ks.serialize(self._topic, key)
        if type(key) in _IMMUTABLE_KEYS:  # the same object serializes to the same bytes
            self._memo_key = key
            self._memo_raw = raw
        return raw  # type: ignore[no-any-return]

    def _value(self, raw: bytes | None) -> Any:
        return None if raw is None else self._vs.deserialize(self._topic, raw)
