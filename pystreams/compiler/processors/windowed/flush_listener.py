"""The window aggregates' cache flush listener: the DSL's TimestampedCacheFlushListener, plus a way for the window
store's batch flush to hand plain new values straight to KTable.to_stream() and what it is fused with (a key
mapper, the sink), with no Change and no Record per flushed window when nothing downstream needs them."""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.stateful._state_types import Change
from pystreams.compiler.processors.stateful.forwarding import TimestampedCacheFlushListener, TimestampedTupleForwarder
from pystreams.processor import ProcessorContext

_NEW = object.__new__
_SET_NEW = Change.__dict__["new_value"].__set__
_SET_OLD = Change.__dict__["old_value"].__set__
_SET_LATEST = Change.__dict__["is_latest"].__set__


def latest_change(new: Any) -> Any:
    """Change(new, None, True), as forward_plain builds it: what the fused path's error handlers get."""
    value = _NEW(Change)
    _SET_NEW(value, new)
    _SET_OLD(value, None)
    _SET_LATEST(value, True)
    return value


class WindowCacheFlushListener(TimestampedCacheFlushListener):
    """TimestampedCacheFlushListener with plain_fields() for the window store's batch flush forwarder."""

    def plain_fields(self) -> Callable[[Any, Any, int, Any], None] | None:
        """fields(key, new value, timestamp, headers): what forward_plain(key, new value, None, timestamp, headers)
        does when the record context's timestamp and headers are the given ones (the caller checks that per
        entry), without the Change and Record; None unless the processor's only child is a fused chain that
        starts with to_stream() (ProcessorContextImpl.plain_change_forwarder). Ask after the topology is
        wired (a processor's init())."""
        if type(self).forward_plain is not TimestampedCacheFlushListener.forward_plain:
            return None  # a subclass forwarding something else
        make = getattr(self._context, "plain_change_forwarder", None)
        return make(latest_change) if callable(make) else None


class WindowTupleForwarder(TimestampedTupleForwarder):
    """TimestampedTupleForwarder whose store gets a WindowCacheFlushListener."""

    def __init__(self, store: Any, context: ProcessorContext[Any, Any], send_old_values: bool) -> None:
        self._context = context
        self._send_old_values = send_old_values
        listener = WindowCacheFlushListener(context)
        set_listener = getattr(store, "set_flush_listener", None)
        self.caching_enabled = bool(set_listener(listener, send_old_values)) if callable(set_listener) else False
