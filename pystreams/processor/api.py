"""The Processor API: processors, the contexts the engine hands them, punctuation (Kafka's processor.api)."""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, TypeVar, Union

from pystreams.processor.record import FixedKeyRecord, Record, RecordMetadata
from pystreams.processor.task_id import TaskId

if TYPE_CHECKING:
    from pystreams.serdes import Serde

KIn = TypeVar("KIn")
VIn = TypeVar("VIn")
KOut = TypeVar("KOut")
VOut = TypeVar("VOut")


class PunctuationType(enum.Enum):
    """Which clock drives a punctuator: stream time (record timestamps) or the wall clock."""

    STREAM_TIME = "STREAM_TIME"
    WALL_CLOCK_TIME = "WALL_CLOCK_TIME"


Punctuator = Callable[[int], None]
"""Called with the current stream time (STREAM_TIME) or wall-clock time (WALL_CLOCK_TIME) in ms."""

Interval = Union[int, timedelta]
"""A punctuation interval: milliseconds or a timedelta."""


class Cancellable(ABC):
    """Handle returned by schedule(); cancel() stops the punctuator, also from inside it."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop future punctuations of this schedule."""


class _ContextBase(ABC):
    """What every processor context offers: identity, config, time, stores, metadata, commit."""

    @property
    @abstractmethod
    def application_id(self) -> str:
        """The application.id: prefixes internal topics, names the state directory."""

    @property
    @abstractmethod
    def task_id(self) -> TaskId:
        """The task this processor instance runs in."""

    @abstractmethod
    def app_configs(self) -> Mapping[str, Any]:
        """The application's configuration (StreamsConfig values, as given)."""

    @property
    @abstractmethod
    def key_serde(self) -> Serde[Any] | None:
        """The default.key.serde, if configured."""

    @property
    @abstractmethod
    def value_serde(self) -> Serde[Any] | None:
        """The default.value.serde, if configured."""

    @property
    @abstractmethod
    def state_dir(self) -> str:
        """This task's state directory (<state.dir>/<application.id>/<task_id>)."""

    @abstractmethod
    def schedule(self, interval: Interval, punctuation_type: PunctuationType,
                 callback: Punctuator) -> Cancellable:
        """Call `callback` periodically on stream or wall-clock time, as Kafka Streams does."""

    @abstractmethod
    def get_state_store(self, name: str) -> Any:
        """A store connected to this processor (connect it in the Topology first)."""

    @abstractmethod
    def record_metadata(self) -> RecordMetadata | None:
        """Topic, partition and offset of the input record being processed; (None, -1, -1) outside process()."""

    @abstractmethod
    def commit(self) -> None:
        """Ask for a commit as soon as possible (the engine commits after the current record)."""

    @abstractmethod
    def current_stream_time_ms(self) -> int:
        """The task's stream time: the largest record timestamp seen so far (-1 before any)."""

    @abstractmethod
    def current_system_time_ms(self) -> int:
        """The (possibly mocked) wall-clock time in ms."""


class ProcessorContext(_ContextBase, Generic[KOut, VOut]):
    """Handed to Processor.init(): forward records downstream, schedule punctuators, reach stores."""

    @abstractmethod
    def forward(self, record: Record[KOut, VOut], child_name: str | None = None) -> None:
        """Send a record to every child (in the order they were added), or only to `child_name`."""


class FixedKeyProcessorContext(_ContextBase, Generic[KOut, VOut]):
    """Handed to FixedKeyProcessor.init(): forwards FixedKeyRecords, so keys cannot change."""

    @abstractmethod
    def forward(self, record: FixedKeyRecord[KOut, VOut], child_name: str | None = None) -> None:
        """Send a record to every child, or only to `child_name`."""


class Processor(Generic[KIn, VIn, KOut, VOut]):
    """A step of a topology: init once per task, process each record, close on shutdown."""

    def init(self, context: ProcessorContext[KOut, VOut]) -> None:
        """Called once before any record; keep the context to forward and reach stores."""

    @abstractmethod
    def process(self, record: Record[KIn, VIn]) -> None:
        """Handle one record; forward results through the context kept in init()."""

    def close(self) -> None:
        """Release resources; stores are closed by the engine, not here."""


class FixedKeyProcessor(Generic[KIn, VIn, VOut]):
    """A processor that may change values only (Kafka's FixedKeyProcessor, used by process_values)."""

    def init(self, context: FixedKeyProcessorContext[KIn, VOut]) -> None:
        """Called once before any record."""

    @abstractmethod
    def process(self, record: FixedKeyRecord[KIn, VIn]) -> None:
        """Handle one record."""

    def close(self) -> None:
        """Release resources."""


ProcessorSupplier = Callable[[], Processor[Any, Any, Any, Any]]
"""Builds a fresh Processor per task (never return a shared instance)."""

FixedKeyProcessorSupplier = Callable[[], FixedKeyProcessor[Any, Any, Any]]
"""Builds a fresh FixedKeyProcessor per task."""


def interval_ms(interval: Interval) -> int:
    """Milliseconds of an int-or-timedelta interval (schedule(), windows)."""
    if isinstance(interval, timedelta):
        return int(interval.total_seconds() * 1000)
    if isinstance(interval, bool) or not isinstance(interval, int):
        raise TypeError(f"interval must be milliseconds (int) or a timedelta, got {interval!r}")
    return interval
