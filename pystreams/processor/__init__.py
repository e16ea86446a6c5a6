"""Processor API: Processor, contexts, Record, punctuation; the task engine lives in internals/.
Imports only pystreams.errors, pystreams.serdes and pystreams.state (never graph/dsl/compiler/testing/runtime)."""
from pystreams.processor.api import (
    Cancellable,
    FixedKeyProcessor,
    FixedKeyProcessorContext,
    FixedKeyProcessorSupplier,
    Interval,
    Processor,
    ProcessorContext,
    ProcessorSupplier,
    PunctuationType,
    Punctuator,
    interval_ms,
)
from pystreams.processor.errors import StoreNotConnectedError, StreamsException
from pystreams.processor.record import FixedKeyRecord, Headers, Record, RecordMetadata
from pystreams.processor.task_id import TaskId

__all__ = [
    "Cancellable", "FixedKeyProcessor", "FixedKeyProcessorContext", "FixedKeyProcessorSupplier",
    "FixedKeyRecord", "Headers", "Interval", "Processor", "ProcessorContext", "ProcessorSupplier",
    "PunctuationType", "Punctuator", "Record", "RecordMetadata", "StoreNotConnectedError", "StreamsException",
    "TaskId", "interval_ms",
]
