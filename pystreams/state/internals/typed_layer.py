"""The typed top of a store stack, as Kafka's metered stores (key-value, window, session) share it: serdes resolved
at init and called with the changelog topic, open checks, the last key's bytes reused, and reads straight from
the record cache, whose entries may hold values deserialized once (see typed_values)."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.errors import ConfigError, StateStoreError
from pystreams.state.internals.bytes_store import Layer
from pystreams.state.internals.cache import NO_TYPED, CacheEntry
from pystreams.state.internals.typed_values import exact_round_trip, fast_key_encoder

_IMMUTABLE_KEYS = frozenset({str, bytes, int})


class TypedLayer(Layer):
    """Base of the metered stores; subclasses add the typed operations of their store kind."""

    _kind = "State store"  # how errors name the store
    _serde_hint = "Materialized.with_{what}_serde"
    _caching_type: Any = None  # the caching layer whose cache this layer reads directly when it is right below

    def __init__(self, wrapped: Any, metrics_scope: str, key_serde: Any, value_serde: Any) -> None:
        super().__init__(wrapped)
        self.metrics_scope = metrics_scope
        self._key_serde = key_serde
        self._value_serde = value_serde
        self._topic = ""
        self._ks: Any = None
        self._vs: Any = None
        self._open = False
        self._caching: Any = None
        self._typed_ok = False  # values of this serde may be held deserialized in the cache
        # the last key serialized and its bytes (a get then a put of one key), one tuple so that a reader on
        # another thread (interactive queries) never sees a key with the bytes of another
        self._memo: tuple[Any, bytes] = (NO_TYPED, b"")
        self._key_fast: Callable[[Any], bytes] | None = None
        self._key_fast_decode: Callable[[bytes], Any] | None = None

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
        caching_type = self._caching_type
        self._caching = self.wrapped if caching_type is not None and isinstance(self.wrapped, caching_type) else None
        self._typed_ok = exact_round_trip(self._vs)
        self._key_fast = fast_key_encoder(self._ks)
        self._key_fast_decode = bytes.decode if self._key_fast is not None else None
        context.register(root, self._restore_callback())

    def _innermost(self) -> Any:
        inner = self.wrapped
        while hasattr(inner, "wrapped"):
            inner = inner.wrapped
        return inner

    def _restore_callback(self) -> Callable[[list[Any]], None]:
        return self._innermost().restore_batch  # type: ignore[no-any-return]

    def flush_cache(self) -> None:
        """Forward cached updates without flushing storage (commit step 1)."""
        flush_cache = getattr(self.wrapped, "flush_cache", None)
        if flush_cache is not None:
            flush_cache()

    def close(self) -> None:
        self._open = False
        self._memo = (NO_TYPED, b"")
        self.wrapped.close()

    def _not_open(self) -> StateStoreError:
        return StateStoreError(f"{self._kind} {self.name} is not open (use it between init() and close())")

    def _raw_key(self, key: Any) -> bytes:
        if not self._open:
            raise self._not_open()
        memo = self._memo
        if key is memo[0]:
            return memo[1]
        if key is None:
            raise StateStoreError(f"{self._kind} {self.name}: key cannot be None")
        fast = self._key_fast
        if fast is None:
            raw = self._ks.serialize(self._topic, key)
        else:
            try:
                raw = fast(key)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                raw = self._ks.serialize(self._topic, key)
        if raw is None:
            raise StateStoreError(f"{self._kind} {self.name}: key {key!r} serialized to None")
        if type(key) in _IMMUTABLE_KEYS:  # the same object serializes to the same bytes
            self._memo = (key, raw)
        return raw  # type: ignore[no-any-return]

    def _key(self, raw: bytes) -> Any:
        """The typed key of stored key bytes (range results, flushed entries)."""
        fast = self._key_fast_decode
        if fast is not None:
            try:
                return fast(raw)
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                pass
        return self._ks.deserialize(self._topic, raw)

    def _value(self, raw: bytes | None) -> Any:
        return None if raw is None else self._vs.deserialize(self._topic, raw)

    def _cached_value(self, entry: CacheEntry) -> Any:
        """The typed value of a cache entry, deserialized at most once when the serde allows holding it."""
        if entry.value is None:
            return None
        typed = entry.typed
        if typed is NO_TYPED:
            typed = self._value(entry.value)
            if self._typed_ok:
                entry.typed = typed
        return typed

    def _for_cache(self, value: Any, raw: bytes | None) -> Any:
        """What a cache entry written with (value, raw) may hold deserialized: value when it reads back equal."""
        return value if self._typed_ok and raw is not None else NO_TYPED
