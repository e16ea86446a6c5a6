"""Runtime nodes of a task: sources deserialize, processors run user code, sinks serialize to the collector."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from pystreams.errors import PystreamsError, SerdeError
from pystreams.processor.api import FixedKeyProcessor
from pystreams.processor.handlers import (DefaultProductionExceptionHandler, LogAndFailProcessingExceptionHandler,
                                          ProcessingHandlerResponse, ProductionHandlerResponse,
                                          SerializationExceptionOrigin)
from pystreams.processor.internals.chain import MAX_STEPS, chain_of, compile_chain, fan_out
from pystreams.processor.internals.context import ProcessorContextImpl, wrap_user_error
from pystreams.processor.internals.errors import StreamsException
from pystreams.processor.internals.serde_calls import fast_decoder, fast_encoder, orjson_call
from pystreams.processor.record import FixedKeyRecord, Record
from pystreams.serdes.handlers import ErrorHandlerContext
from pystreams.serdes.primitives import LongSerde
from pystreams.state.context import RecordContext

if TYPE_CHECKING:
    from pystreams.processor.internals.task import StreamTask

log = logging.getLogger("pystreams.processor.internals")


class SourceRuntime:
    """Deserializes records of its topics (in the record queue) and forwards them to its children."""

    __slots__ = ("name", "context", "key_deserialize", "value_deserialize", "extractor", "topics", "pattern",
                 "key_serde", "value_serde", "key_fast", "value_fast")

    def __init__(self, name: str, context: ProcessorContextImpl, key_serde: Any, value_serde: Any,
                 extractor: Any, topics: list[str], pattern: Any) -> None:
        self.name = name
        self.context = context
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.key_deserialize = key_serde.deserialize
        self.value_deserialize = value_serde.deserialize
        # C-level decoders of non-None bytes (serde_calls): the record queue's drain loop calls them directly
        self.key_fast = fast_decoder(key_serde)
        self.value_fast = fast_decoder(value_serde)
        self.extractor = extractor
        self.topics = topics
        self.pattern = pattern

    def process(self, record: Record[Any, Any]) -> None:
        self.context.forward(record)

    def children(self) -> list[Callable[[Any], None]]:
        """The child nodes' entry points, in the order they were added (record queues call them directly)."""
        return self.context._children


class ProcessorRuntime:
    """Runs one user Processor; records of the other flavour are converted on the way in."""

    __slots__ = ("name", "processor", "context", "task", "process")

    def __init__(self, name: str, processor: Any, context: ProcessorContextImpl, task: StreamTask) -> None:
        self.name = name
        self.processor = processor
        self.context = context
        self.task = task
        self.process: Callable[[Any], None] = (
            self._process_fixed if isinstance(processor, FixedKeyProcessor) else self._process_record)

    def _process_record(self, record: Any) -> None:
        if type(record) is not Record:
            record = Record(record.key, record.value, record.timestamp, record.headers)
        try:
            self.processor.process(record)
        except PystreamsError:
            raise
        except Exception as e:
            self._handle(e, record)

    def _process_fixed(self, record: Any) -> None:
        if type(record) is not FixedKeyRecord:
            record = FixedKeyRecord(record.key, record.value, record.timestamp, record.headers)
        try:
            self.processor.process(record)
        except PystreamsError:
            raise
        except Exception as e:
            self._handle(e, record)

    def direct(self) -> Callable[[Any], None] | None:
        """The processor's direct path (DSL processors that keep timestamps and headers): a function taking a
        record that runs the processor and calls the children itself, with this node's error handling; None
        when the processor has none (user processors, stateful ones), so records go through process().

        A processor with a direct_step() (one-in-one-out DSL steps) is fused with its only child when that
        child is such a chain too (chain.py): one generated function for the whole run of steps."""
        if isinstance(self.processor, FixedKeyProcessor):
            return None
        ctx = self.context
        describe = getattr(self.processor, "direct_step", None)
        if describe is not None:
            kind, fn, extra = describe()
            step = (kind, fn, extra, self._handle_direct)
            children = ctx._children
            below = chain_of(children[0]) if len(children) == 1 else None
            if below is not None and len(below[0]) < MAX_STEPS:
                return compile_chain([step, *below[0]], below[1])
            return compile_chain([step], fan_out(children))
        make = getattr(self.processor, "direct_process", None)
        if make is None:
            return None
        return make(list(ctx._children), dict(ctx._by_name), self._handle_direct)  # type: ignore[no-any-return]

    def _handle_direct(self, e: Exception, record: Any) -> None:
        if type(record) is not Record:  # process() would have seen a Record
            record = Record(record.key, record.value, record.timestamp, record.headers)
        self._handle(e, record)

    def _handle(self, e: Exception, record: Any) -> None:
        """processing.exception.handler decides: skip the record (CONTINUE) or stop (FAIL), as Kafka 3.9+."""
        task = self.task
        handler = task.processing_handler
        if type(handler) is not LogAndFailProcessingExceptionHandler:
            rc = task.store_context.record_context
            context = ErrorHandlerContext(rc.topic, rc.partition, rc.offset, rc.headers, self.name, task.id,
                                          record.timestamp)
            try:
                response = handler.handle(context, record, e)
            except Exception as fatal:  # noqa: BLE001 - the user's handler failed: stop
                raise StreamsException(f"Fatal user code error in processing error callback: {fatal}") from fatal
            if response is ProcessingHandlerResponse.CONTINUE:
                task.metrics.record_dropped()
                return
        raise wrap_user_error(e, task, self.name) from e

    def init(self) -> None:
        try:
            self.processor.init(self.context)
        except PystreamsError:
            raise
        except Exception as e:
            raise StreamsException(f"failed to initialize processor {self.name}: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        try:
            self.processor.close()
        except PystreamsError:
            raise
        except Exception as e:
            raise StreamsException(f"failed to close processor {self.name}: {type(e).__name__}: {e}") from e


class SinkRuntime:
    """Serializes records and hands them to the record collector (Kafka's SinkNode + RecordCollectorImpl)."""

    __slots__ = ("name", "task", "topic", "extractor", "key_serialize", "value_serialize", "partitioner",
                 "collector", "key_serde", "value_serde", "internal_prefix", "key_fast", "value_fast", "produce",
                 "value_dumps", "value_default", "value_option", "value_long", "last_timestamp")

    def __init__(self, name: str, task: StreamTask, topic: str | None, extractor: Any, key_serde: Any,
                 value_serde: Any, partitioner: Any) -> None:
        self.name = name
        self.task = task
        self.topic = topic
        self.extractor = extractor
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.key_serialize = key_serde.serialize
        self.value_serialize = value_serde.serialize
        self.key_fast = fast_encoder(key_serde)
        self.value_fast = fast_encoder(value_serde)
        # Kafka's Long serde (count() results): its own struct's pack for an int (not a bool, which the serde
        # refuses), the serde itself for anything else or out of range
        self.value_long: Callable[[int], bytes] | None = (value_serde._struct.pack if type(value_serde) is LongSerde
                                                          else None)
        dumps = orjson_call(value_serde)
        self.value_dumps: Callable[[Any, Any, Any], bytes] | None = dumps[0] if dumps else None
        self.value_default: Any = dumps[1] if dumps else None
        self.value_option: Any = dumps[2] if dumps else None
        self.partitioner = _partition_fn(partitioner)
        self.collector = task.collector
        register = getattr(self.collector, "register_sink", None)
        if register is not None:  # a failed send (delivery report) goes to this task's production.exception.handler
            register(topic, name, task)
        direct = getattr(self.collector, "direct_send", None)
        self.produce: Callable[..., Any] | None = direct() if direct is not None else None
        #: the timestamp of the last record handed to this sink (-1: none yet): the stream thread samples it once
        #: per loop iteration for the sink's record-e2e-latency (runtime/node_metrics.py), not per record
        self.last_timestamp = -1

    def process(self, record: Any) -> None:
        self.process_fields(*record, record)  # type: ignore[call-arg]

    def process_fields(self, key: Any, value: Any, timestamp: int, headers: Any, record: Any = None) -> None:
        """process() of the record (key, value, timestamp, headers), without a Record object: what the record
        queue's drain and fused chains call (chain.fields_of); the production exception handler gets the record
        process() was given, or a Record built then."""
        topic = self.topic
        if topic is None:
            topic = self._extract_topic(key, value, timestamp, headers)
        if timestamp < 0:
            raise StreamsException(f"Invalid (negative) timestamp of {timestamp} for output record "
                                   f"<{key!r}:{value!r}> in sink {self.name}.")
        self.last_timestamp = timestamp  # Kafka records a terminal node's e2e latency as the record reaches it
        # the C-level encoder when there is one; the serde itself for None, other serdes and failures
        fast = self.key_fast
        done = False
        if fast is not None and key is not None:
            try:
                raw_key = fast(key)
                done = True
            except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                pass
        if not done:
            try:
                raw_key = self.key_serialize(topic, key, headers)
            except Exception as e:
                self._serialization_failed(e, record or Record(key, value, timestamp, headers), topic,
                                           SerializationExceptionOrigin.KEY)
                return
        done = False
        if value is not None:
            dumps = self.value_dumps
            if dumps is not None:  # JSON: orjson.dumps with the serde's default and option, no closure frame
                try:
                    raw_value = dumps(value, self.value_default, self.value_option)
                    done = True
                except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                    pass
            elif self.value_long is not None and type(value) is int:
                try:
                    raw_value = self.value_long(value)
                    done = True
                except Exception:  # noqa: BLE001 - out of a long's range: the serde gives its error
                    pass
            else:
                fast = self.value_fast
                if fast is not None:
                    try:
                        raw_value = fast(value)
                        done = True
                    except Exception:  # noqa: BLE001 - the serde gives its own answer or error
                        pass
        if not done:
            try:
                raw_value = self.value_serialize(topic, value, headers)
            except Exception as e:
                self._serialization_failed(e, record or Record(key, value, timestamp, headers), topic,
                                           SerializationExceptionOrigin.VALUE)
                return
        partitioner = self.partitioner
        if partitioner is None:
            produce = self.produce
            if produce is not None:
                try:  # the producer's C call; the collector's send() for anything it raises (see direct_send)
                    produce(topic, raw_value, raw_key, -1, None, None, timestamp,
                            (headers if type(headers) is list else list(headers)) if headers else None)
                    return
                except Exception:  # noqa: BLE001 - send() retries and raises or handles it as usual
                    pass
            self.collector.send(topic, raw_key, raw_value, headers, timestamp, None)
            return
        n = self.collector.partitions_for(topic)
        chosen = partitioner(topic, key, value, n) if n is not None else None
        if chosen is None or isinstance(chosen, int):
            if chosen is not None and chosen < 0:
                _invalid_partition(chosen, topic)
            self.collector.send(topic, raw_key, raw_value, headers, timestamp, chosen)
        else:  # Kafka 3.4+: a set of partitions (multicast); empty = drop
            for p in sorted(chosen):
                if p < 0:
                    _invalid_partition(p, topic)
                self.collector.send(topic, raw_key, raw_value, headers, timestamp, p)

    def _serialization_failed(self, e: Exception, record: Any, topic: str,
                              origin: SerializationExceptionOrigin) -> None:
        """Return when the production.exception.handler drops the record, else raise Kafka's error."""
        if self._skip_after_serialization_error(e, record, topic, origin):
            return
        raise SerdeError(
            f"Sink {self.name} could not serialize <{record.key!r}:{record.value!r}> for topic {topic} with key "
            f"serde {type(self.key_serde).__name__} and value serde {type(self.value_serde).__name__}: {e}. "
            "A serde is not compatible with the actual key or value type: change default.key.serde / "
            "default.value.serde or pass the right serdes (Produced(key_serde=..., value_serde=...)).") from e

    def _skip_after_serialization_error(self, e: Exception, record: Any, topic: str,
                                        origin: SerializationExceptionOrigin) -> bool:
        """production.exception.handler decides; True = drop the record (CONTINUE), as Kafka does."""
        task = self.task
        handler = task.production_handler
        if type(handler) is DefaultProductionExceptionHandler:
            return False
        rc = task.store_context.record_context
        context = ErrorHandlerContext(rc.topic, rc.partition, rc.offset, record.headers, self.name, task.id,
                                      record.timestamp)
        handle = getattr(handler, "handle_serialization_exception", None)
        if handle is None:  # a handler for send failures only: Kafka's default method answers FAIL
            return False
        try:
            response = handle(context, record, e, origin)
        except Exception as fatal:  # noqa: BLE001 - the user's handler failed: stop
            raise StreamsException(f"Fatal user code error in production error callback: {fatal}") from fatal
        if response is ProductionHandlerResponse.CONTINUE:
            log.warning("Unable to serialize record for topic %s in sink %s; dropping it (production exception "
                        "handler returned CONTINUE): %s", topic, self.name, e)
            task.metrics.record_dropped()
            return True
        return False

    def _extract_topic(self, key: Any, value: Any, timestamp: int, headers: Any) -> str:
        rc = self.task.store_context.record_context
        view = RecordContext(timestamp, rc.offset, rc.topic, rc.partition, headers)
        extractor = self.extractor
        fn = extractor.extract if hasattr(extractor, "extract") else extractor
        topic = fn(key, value, view)
        if not isinstance(topic, str) or not topic:
            raise StreamsException(f"Sink {self.name}: the topic name extractor returned {topic!r} for "
                                   f"<{key!r}:{value!r}>; it must return a topic name.")
        return self.task.physical_topic(topic)


def _invalid_partition(partition: int, topic: str) -> NoReturn:
    """Kafka's ProducerRecord check on a partition a StreamPartitioner chose: an IllegalArgumentException outside
    the production exception handler, so the parent processor's processing.exception.handler decides (the task
    fails by default); the producer would otherwise take -1 as "any partition" and pick one itself."""
    raise ValueError(f"Invalid partition: {partition}. Partition number should always be non-negative or null "
                     f"(record for topic {topic}: check what the sink's StreamPartitioner returns)")


def _partition_fn(partitioner: Any) -> Callable[[str, Any, Any, int], Any] | None:
    """Kafka's StreamPartitioner as a function: .partitions(), .partition(), or a plain callable."""
    if partitioner is None:
        return None
    for attr in ("partitions", "partition"):
        fn = getattr(partitioner, attr, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    if callable(partitioner):
        return partitioner  # type: ignore[no-any-return]
    raise StreamsException(f"partitioner {partitioner!r} is not callable(topic, key, value, num_partitions)")
