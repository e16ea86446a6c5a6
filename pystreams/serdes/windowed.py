"""Windowed keys and their serdes in Kafka Streams' byte formats, so Java consumers read our topics.

Time-windowed key bytes = inner key bytes + 8-byte big-endian window start (the end is not stored: a
reader needs the window size, config `window.size.ms`). Session-windowed key bytes = inner key bytes +
8-byte end + 8-byte start (Kafka's SessionKeySchema).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pystreams.errors import ConfigError, SerdeError
from pystreams.serdes.base import Headers, Serde

K = TypeVar("K")
_LONG = struct.Struct(">q")
LONG_MAX = (1 << 63) - 1
WINDOW_SIZE_MS_CONFIG = "window.size.ms"
WINDOWED_INNER_CLASS_SERDE = "windowed.inner.class.serde"  # deprecated in Kafka 4 (KIP-1020), still read
WINDOWED_INNER_SERIALIZER_CLASS = "windowed.inner.serializer.class"
WINDOWED_INNER_DESERIALIZER_CLASS = "windowed.inner.deserializer.class"


def _inner_from_config(configs: Mapping[str, Any]) -> Any:
    """The inner serde a config names, as Kafka 4's Time/SessionWindowed(De)Serializer read it: the value is a Serde
    class name (e.g. org.apache.kafka.common.serialization.Serdes$StringSerde) under windowed.inner.serializer.class
    or windowed.inner.deserializer.class, else under the deprecated windowed.inner.class.serde. One serde object
    serves both directions here, so the two new keys must agree when both are set."""
    from pystreams.serdes.resolve import resolve_serde

    ser, de = configs.get(WINDOWED_INNER_SERIALIZER_CLASS), configs.get(WINDOWED_INNER_DESERIALIZER_CLASS)
    if ser is not None and de is not None and ser != de:
        raise ConfigError(f"{WINDOWED_INNER_SERIALIZER_CLASS}={ser!r} and {WINDOWED_INNER_DESERIALIZER_CLASS}="
                          f"{de!r} differ; a pystreams windowed serde has one inner serde for both")
    name = ser if ser is not None else de if de is not None else configs.get(WINDOWED_INNER_CLASS_SERDE)
    return None if name is None else resolve_serde(name)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open [start, end) time range in epoch milliseconds (Kafka's Window)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0:
            raise SerdeError(f"Window startMs time cannot be negative, got {self.start}")
        if self.end < self.start:
            raise SerdeError(f"Window endMs ({self.end}) cannot be smaller than window startMs ({self.start})")

    def overlap(self, other: Window) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TimeWindow(Window):
    """A window of TimeWindows: [start, end), end exclusive; two windows overlap if they share a millisecond."""

    def __post_init__(self) -> None:
        Window.__post_init__(self)
        if self.start == self.end:
            raise SerdeError("Window endMs must be greater than window startMs.")

    def overlap(self, other: Window) -> bool:
        if not isinstance(other, TimeWindow):
            raise SerdeError(f"Cannot compare windows of different type. Other window must be of type "
                             f"TimeWindow but got {type(other).__name__}")
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class SessionWindow(Window):
    """A session's [start, end] with both ends inclusive (a single-record session has start == end)."""

    def overlap(self, other: Window) -> bool:
        if not isinstance(other, SessionWindow):
            raise SerdeError(f"Cannot compare windows of different type. Other window must be of type "
                             f"SessionWindow but got {type(other).__name__}")
        return not (self.start > other.end or other.start > self.end)


@dataclass(frozen=True, slots=True)
class Windowed(Generic[K]):
    """A key and the window it was aggregated in: `.key`, `.window.start`, `.window.end` (Java's Windowed)."""

    key: K
    window: Window

    def __str__(self) -> str:  # Java's Windowed.toString
        return f"[{self.key}@{self.window.start}/{self.window.end}]"


def _default_inner(default_key_serde: Any) -> Any:
    """The inner serde a default key serde gives a windowed serde. default.key.serde may itself be
    WindowedSerdes$TimeWindowedSerde (Kafka configures it from windowed.inner.* at start-up): then its inner serde,
    never the windowed serde itself (that would wrap itself), or None to leave it to configure()."""
    if isinstance(default_key_serde, (TimeWindowedSerde, SessionWindowedSerde)):
        return default_key_serde.inner
    return _inner(default_key_serde)


def _inner(serde: Any) -> Any:
    if serde is None:
        return None
    if isinstance(serde, type):
        return serde()
    return serde


class TimeWindowedSerde(Serde[Windowed[Any]]):
    """Kafka's TimeWindowedSerializer/Deserializer: key + 8-byte start; end = start + window size."""

    def __init__(self, inner: Any = None, window_size_ms: int | None = None) -> None:
        self.inner = _inner(inner)
        if window_size_ms is not None and (not isinstance(window_size_ms, int) or window_size_ms <= 0):
            raise ConfigError(f"window size must be a positive number of milliseconds, got {window_size_ms!r}")
        self.window_size_ms = window_size_ms

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        if self.window_size_ms is None and configs.get(WINDOW_SIZE_MS_CONFIG) is not None:
            self.window_size_ms = int(configs[WINDOW_SIZE_MS_CONFIG])
        if self.inner is None:
            self.inner = _inner_from_config(configs)
        if self.inner is not None and hasattr(self.inner, "configure"):
            self.inner.configure(configs, is_key)

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """Kafka's WrappingNullableSerde.setIfUnset: a missing inner serde becomes the default key serde (the
        engine then calls configure(), which also reads window.size.ms for time-windowed keys)."""
        if self.inner is None:
            self.inner = _default_inner(default_key_serde)

    def _require_inner(self) -> Any:
        if self.inner is None:
            raise ConfigError(f"time-windowed serde has no inner serde: pass one or set "
                              f"{WINDOWED_INNER_SERIALIZER_CLASS} / {WINDOWED_INNER_DESERIALIZER_CLASS}")
        return self.inner

    def serialize(self, topic: str, data: Windowed[Any] | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        raw = self._require_inner().serialize(topic, data.key, headers)
        return (raw or b"") + _LONG.pack(data.window.start)

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Windowed[Any] | None:
        if not data:  # Kafka's windowed deserializers return null for null and for empty bytes
            return None
        if self.window_size_ms is None:
            raise ConfigError(f"time-windowed deserializer needs the window size: pass window_size_ms or set "
                              f"{WINDOW_SIZE_MS_CONFIG}")
        if len(data) < 8:
            raise SerdeError(f"time-windowed key needs at least 8 bytes, got {len(data)}")
        key = self._require_inner().deserialize(topic, data[:-8], headers)
        start = _LONG.unpack_from(data, len(data) - 8)[0]
        return Windowed(key, time_window_for_size(start, self.window_size_ms))


def time_window_for_size(start: int, size: int) -> TimeWindow:
    """Kafka's WindowKeySchema.timeWindowForSize: end = start + size, capped at Long.MAX_VALUE."""
    end = start + size
    end = min(end, LONG_MAX)
    return TimeWindow(start, end)


class SessionWindowedSerde(Serde[Windowed[Any]]):
    """Kafka's SessionWindowedSerializer/Deserializer: key + 8-byte end + 8-byte start."""

    def __init__(self, inner: Any = None) -> None:
        self.inner = _inner(inner)

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        if self.inner is None:
            self.inner = _inner_from_config(configs)
        if self.inner is not None and hasattr(self.inner, "configure"):
            self.inner.configure(configs, is_key)

    def set_if_unset(self, default_key_serde: Any, default_value_serde: Any) -> None:
        """Kafka's WrappingNullableSerde.setIfUnset: a missing inner serde becomes the default key serde (the
        engine then calls configure(), which also reads window.size.ms for time-windowed keys)."""
        if self.inner is None:
            self.inner = _default_inner(default_key_serde)

    def _require_inner(self) -> Any:
        if self.inner is None:
            raise ConfigError(f"session-windowed serde has no inner serde: pass one or set "
                              f"{WINDOWED_INNER_SERIALIZER_CLASS} / {WINDOWED_INNER_DESERIALIZER_CLASS}")
        return self.inner

    def serialize(self, topic: str, data: Windowed[Any] | None, headers: Headers | None = None) -> bytes | None:
        if data is None:
            return None
        raw = self._require_inner().serialize(topic, data.key, headers)
        return (raw or b"") + _LONG.pack(data.window.end) + _LONG.pack(data.window.start)

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Windowed[Any] | None:
        if not data:  # Kafka's windowed deserializers return null for null and for empty bytes
            return None
        if len(data) < 16:
            raise SerdeError(f"session-windowed key needs at least 16 bytes, got {len(data)}")
        n = len(data)
        key = self._require_inner().deserialize(topic, data[:n - 16], headers)
        end = _LONG.unpack_from(data, n - 16)[0]
        start = _LONG.unpack_from(data, n - 8)[0]
        return Windowed(key, SessionWindow(start, end))


class WindowedSerdes:
    """Kafka's WindowedSerdes factory."""

    @staticmethod
    def time_windowed_serde_from(inner: Any, window_size_ms: int) -> TimeWindowedSerde:
        """Serde for Windowed keys of TimeWindows of the given size (the size is needed to read the end)."""
        return TimeWindowedSerde(inner, window_size_ms)

    @staticmethod
    def session_windowed_serde_from(inner: Any) -> SessionWindowedSerde:
        """Serde for Windowed keys of SessionWindows."""
        return SessionWindowedSerde(inner)


__all__ = [
    "WINDOWED_INNER_CLASS_SERDE",
    "WINDOWED_INNER_DESERIALIZER_CLASS",
    "WINDOWED_INNER_SERIALIZER_CLASS",
    "WINDOW_SIZE_MS_CONFIG",
    "SessionWindow",
    "SessionWindowedSerde",
    "TimeWindow",
    "TimeWindowedSerde",
    "Window",
    "Windowed",
    "WindowedSerdes",
    "time_window_for_size",
]
