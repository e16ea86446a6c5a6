"""The typed layer Kafka's MeteredWindowStore and MeteredSessionStore share (on top of the metered stores' common
TypedLayer): restore into the innermost bytes store and the cache's flush listener with Windowed keys."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.serdes.windowed import Windowed
from pystreams.state.api import StateStore
from pystreams.state.internals.typed_layer import TypedLayer


class MeteredWindowedLayer(TypedLayer, StateStore):
    """Base of the metered window and session stores; subclasses say how a stored key becomes a Windowed key."""

    _kind = "Window store"  # how errors name the store

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

        typed_key, value = self._typed_key, self._value

        def typed(store_key: bytes, new: bytes | None, old: bytes | None, timestamp: int, headers: Any) -> None:
            listener(Record(typed_key(store_key), Change(None if new is None else value(new),
                                                         None if old is None else value(old)), timestamp, headers))
        return bool(set_listener(typed, send_old_values))
