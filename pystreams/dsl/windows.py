"""Window specifications, suppression and emit strategies (Kafka's TimeWindows, SlidingWindows, SessionWindows,
JoinWindows, Suppressed, EmitStrategy), with Kafka's validation messages and window assignment arithmetic.

Durations are int milliseconds or datetime.timedelta.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from pystreams.errors import TopologyError

if TYPE_CHECKING:  # serdes.windowed loads on first windows_for(): `from pystreams import TimeWindows` stays cheap
    from pystreams.serdes.windowed import TimeWindow

Duration = int | timedelta
LONG_MAX = (1 << 63) - 1


def duration_ms(value: Duration, what: str) -> int:
    """A Duration argument as whole milliseconds; negative or non-duration values are refused."""
    if isinstance(value, timedelta):
        ms = value // timedelta(milliseconds=1)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        raise TopologyError(f"{what} must be int milliseconds or a timedelta, got {value!r}")
    if ms < 0:
        raise TopologyError(f"{what} must not be negative, got {ms} ms")
    return ms


@dataclass(frozen=True)
class TimeWindows:
    """Fixed-size windows: tumbling (advance == size) or hopping (advance < size), aligned to the epoch."""

    size_ms: int
    advance_ms: int
    grace_ms: int

    @staticmethod
    def of_size_with_no_grace(size: Duration) -> TimeWindows:
        """Windows of `size`; records arriving after their window ended are dropped."""
        return TimeWindows._make(size, 0)

    @staticmethod
    def of_size_and_grace(size: Duration, after_window_end: Duration) -> TimeWindows:
        """Windows of `size` that still accept records up to `after_window_end` after they end (stream time)."""
        return TimeWindows._make(size, duration_ms(after_window_end, "afterWindowEnd"))

    @staticmethod
    def _make(size: Duration, grace: int) -> TimeWindows:
        size_ms = duration_ms(size, "size")
        if size_ms <= 0:
            raise TopologyError("Window size (sizeMs) must be larger than zero.")
        return TimeWindows(size_ms, size_ms, grace)

    def advance_by(self, advance: Duration) -> TimeWindows:
        """Hopping windows: a new window starts every `advance` (0 < advance <= size)."""
        advance_ms = duration_ms(advance, "advance")
        if advance_ms <= 0 or advance_ms > self.size_ms:
            raise TopologyError(f"Window advancement interval should be more than zero and less than window "
                                f"duration which is {self.size_ms} ms, but given advancement interval is: "
                                f"{advance_ms} ms")
        return replace(self, advance_ms=advance_ms)

    def size(self) -> int:
        return self.size_ms

    def grace_period_ms(self) -> int:
        return self.grace_ms

    def windows_for(self, timestamp: int) -> dict[int, TimeWindow]:
        """The windows containing `timestamp`, by start, oldest first (Kafka's TimeWindows.windowsFor)."""
        from pystreams.serdes.windowed import TimeWindow

        size, advance = self.size_ms, self.advance_ms
        start = (max(0, timestamp - size + advance) // advance) * advance
        out: dict[int, TimeWindow] = {}
        while start <= timestamp:
            out[start] = TimeWindow(start, min(start + size, LONG_MAX))
            start += advance
        return out


@dataclass(frozen=True)
class SlidingWindows:
    """Windows of a fixed time difference that slide with every record (Kafka's SlidingWindows)."""

    time_difference_ms: int
    grace_ms: int

    @staticmethod
    def of_time_difference_with_no_grace(time_difference: Duration) -> SlidingWindows:
        return SlidingWindows(duration_ms(time_difference, "timeDifference"), 0)

    @staticmethod
    def of_time_difference_and_grace(time_difference: Duration, after_window_end: Duration) -> SlidingWindows:
        return SlidingWindows(duration_ms(time_difference, "timeDifference"),
                              duration_ms(after_window_end, "afterWindowEnd"))

    def grace_period_ms(self) -> int:
        return self.grace_ms


@dataclass(frozen=True)
class SessionWindows:
    """Sessions of activity separated by gaps longer than the inactivity gap (Kafka's SessionWindows)."""

    gap_ms: int
    grace_ms: int

    @staticmethod
    def of_inactivity_gap_with_no_grace(gap: Duration) -> SessionWindows:
        return SessionWindows._make(gap, 0)

    @staticmethod
    def of_inactivity_gap_and_grace(gap: Duration, after_window_end: Duration) -> SessionWindows:
        return SessionWindows._make(gap, duration_ms(after_window_end, "afterWindowEnd"))

    @staticmethod
    def _make(gap: Duration, grace: int) -> SessionWindows:
        gap_ms = duration_ms(gap, "inactivityGap")
        if gap_ms <= 0:
            raise TopologyError("Gap time cannot be zero or negative.")
        return SessionWindows(gap_ms, grace)

    def inactivity_gap(self) -> int:
        return self.gap_ms

    def grace_period_ms(self) -> int:
        return self.grace_ms


@dataclass(frozen=True)
class JoinWindows:
    """Stream-stream join windows: records join if other.ts is in [ts - before, ts + after]."""

    before_ms: int
    after_ms: int
    grace_ms: int
    enable_spurious_result_fix: bool = True

    @staticmethod
    def of_time_difference_with_no_grace(time_difference: Duration) -> JoinWindows:
        ms = duration_ms(time_difference, "timeDifference")
        return JoinWindows(ms, ms, 0)

    @staticmethod
    def of_time_difference_and_grace(time_difference: Duration, after_window_end: Duration) -> JoinWindows:
        ms = duration_ms(time_difference, "timeDifference")
        return JoinWindows(ms, ms, duration_ms(after_window_end, "afterWindowEnd"))

    def before(self, time_difference: Duration) -> JoinWindows:
        """Change how far back (from this side's record) the other side may be; may be negative in Kafka."""
        return replace(self, before_ms=_signed_ms(time_difference, "timeDifference"))._check()

    def after(self, time_difference: Duration) -> JoinWindows:
        """Change how far ahead the other side may be; may be negative in Kafka."""
        return replace(self, after_ms=_signed_ms(time_difference, "timeDifference"))._check()

    def _check(self) -> JoinWindows:
        if self.before_ms + self.after_ms < 0:
            raise TopologyError("Window interval (ie, beforeMs+afterMs) must not be negative.")
        return self

    def size(self) -> int:
        return self.before_ms + self.after_ms

    def grace_period_ms(self) -> int:
        return self.grace_ms


def _signed_ms(value: Duration, what: str) -> int:
    if isinstance(value, timedelta):
        return value // timedelta(milliseconds=1)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TopologyError(f"{what} must be int milliseconds or a timedelta, got {value!r}")


class BufferFullStrategy(Enum):
    EMIT = "EMIT"
    SHUT_DOWN = "SHUT_DOWN"


@dataclass(frozen=True)
class BufferConfig:
    """How much a suppression buffer may hold and what to do when full (Kafka's Suppressed.BufferConfig)."""

    max_records_: int = LONG_MAX
    max_bytes_: int = LONG_MAX
    strategy: BufferFullStrategy = BufferFullStrategy.EMIT

    @staticmethod
    def unbounded() -> BufferConfig:
        """No bound (may use all memory); shuts down if ... never full. Strict: only final results."""
        return BufferConfig(LONG_MAX, LONG_MAX, BufferFullStrategy.SHUT_DOWN)

    @staticmethod
    def max_records(records: int) -> BufferConfig:
        return BufferConfig(_positive(records, "recordLimit"), LONG_MAX, BufferFullStrategy.EMIT)

    @staticmethod
    def max_bytes(byte_limit: int) -> BufferConfig:
        return BufferConfig(LONG_MAX, _positive(byte_limit, "byteLimit"), BufferFullStrategy.EMIT)

    def with_max_records(self, records: int) -> BufferConfig:
        return replace(self, max_records_=_positive(records, "recordLimit"))

    def with_max_bytes(self, byte_limit: int) -> BufferConfig:
        return replace(self, max_bytes_=_positive(byte_limit, "byteLimit"))

    def with_no_bound(self) -> BufferConfig:
        return BufferConfig(LONG_MAX, LONG_MAX, BufferFullStrategy.SHUT_DOWN)

    def shut_down_when_full(self) -> BufferConfig:
        """Fail the application instead of emitting early (keeps 'final results only' strict)."""
        return replace(self, strategy=BufferFullStrategy.SHUT_DOWN)

    def emit_early_when_full(self) -> BufferConfig:
        """Emit the oldest buffered records when full (results may then not be final)."""
        return replace(self, strategy=BufferFullStrategy.EMIT)

    @property
    def is_strict(self) -> bool:
        return self.strategy is BufferFullStrategy.SHUT_DOWN


def _positive(value: int, what: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise TopologyError(f"{what} must be a non-negative number, got {value!r}")
    return value


@dataclass(frozen=True)
class Suppressed:
    """KTable.suppress() settings: hold updates until the window closes or a time limit passes."""

    time_to_wait_ms: int | None
    buffer_config: BufferConfig
    final_results_only: bool
    name: str | None = None
    logging_enabled: bool = True

    @staticmethod
    def until_window_closes(buffer_config: BufferConfig) -> Suppressed:
        """Emit each window's final result once, when stream time passes window end + grace."""
        if not isinstance(buffer_config, BufferConfig) or not buffer_config.is_strict:
            raise TopologyError("Suppressed.until_window_closes needs a strict buffer config: "
                                "BufferConfig.unbounded() or ....shut_down_when_full()")
        return Suppressed(None, buffer_config, True)

    @staticmethod
    def until_time_limit(time_to_wait_for_more_events: Duration, buffer_config: BufferConfig) -> Suppressed:
        """Emit a key's latest value once it has been buffered this long (in stream time)."""
        return Suppressed(duration_ms(time_to_wait_for_more_events, "timeToWaitForMoreEvents"), buffer_config, False)

    def with_name(self, name: str) -> Suppressed:
        return replace(self, name=name)

    def with_logging_disabled(self) -> Suppressed:
        return replace(self, logging_enabled=False)


class EmitStrategy(Enum):
    """When windowed aggregations emit: on every update (default) or once when the window closes."""

    ON_WINDOW_UPDATE = "ON_WINDOW_UPDATE"
    ON_WINDOW_CLOSE = "ON_WINDOW_CLOSE"

    @staticmethod
    def on_window_update() -> EmitStrategy:
        return EmitStrategy.ON_WINDOW_UPDATE

    @staticmethod
    def on_window_close() -> EmitStrategy:
        return EmitStrategy.ON_WINDOW_CLOSE
