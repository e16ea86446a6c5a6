"""KafkaRecordCollector: sinks and changelogging stores hand records to one confluent-kafka Producer.

No per-record delivery callback (they cost ~half of produce()'s throughput): the producer runs with
`delivery.report.only.error`, so the callback sees failures only. A failed send goes to production.exception.handler
as in Kafka's RecordCollectorImpl.recordSendError: CONTINUE drops the record (logged, counted as dropped) and the
thread goes on; FAIL (the default) keeps the error, which the thread raises at its next check/flush/commit. Errors
Kafka never hands to the handler stay fatal (authorization, invalid topic, unknown server error, a fatal producer)
or are the stream thread's task migration (a fenced producer). Under exactly_once_v2 a failed send leaves the
transaction unable to commit (librdkafka and Java's producer both make it abortable), so, as in Kafka Streams, the
thread fails even when the handler says CONTINUE. RETRY (valid for retriable errors only, KIP-1065) keeps the error
marked task_corrupted: the stream thread closes its tasks dirty and resumes them from the last commit. Records without an explicit partition are placed by librdkafka's
murmur2 partitioner, which is Java's default partitioner for keyed records.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from pystreams.processor.handlers import (
    DefaultProductionExceptionHandler,
    ProductionHandlerResponse,
)
from pystreams.processor.internals import StreamsException
from pystreams.processor.internals.collector import SentRecord
from pystreams.serdes.handlers import ErrorHandlerContext

log = logging.getLogger("pystreams.runtime")

_UNASSIGNED = -1  # RD_KAFKA_PARTITION_UA: let the partitioner choose
_PURGED = (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT)
#: never given to production.exception.handler, the thread fails (Kafka's RecordCollectorImpl.isFatalException:
#: security, InvalidTopic, UnknownServerError, OffsetMetadataTooLarge, IllegalState; and any fatal producer error)
FATAL_SEND_ERRORS = frozenset({
    "TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "DELEGATION_TOKEN_AUTHORIZATION_FAILED", "SASL_AUTHENTICATION_FAILED",
    "_AUTHENTICATION", "SECURITY_DISABLED", "TOPIC_EXCEPTION", "UNKNOWN", "OFFSET_METADATA_TOO_LARGE",
    "_STATE", "_FATAL"})
#: Kafka's RetriableException send errors (RETRY is only valid for these): librdkafka's delivery reports do not
#: set KafkaError.retriable(), so by name (TimeoutException, NotLeaderOrFollower, NotEnoughReplicas, ...)
RETRIABLE_SEND_ERRORS = frozenset({
    "_MSG_TIMED_OUT", "_TIMED_OUT", "REQUEST_TIMED_OUT", "NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE",
    "NETWORK_EXCEPTION", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "KAFKA_STORAGE_ERROR",
    "INVALID_MSG", "_TRANSPORT", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "_ALL_BROKERS_DOWN"})
#: never given to the handler either: the producer was fenced (Kafka's TaskMigratedException) or its transaction
#: is being aborted; the stream thread's task-migration path handles them
MIGRATION_SEND_ERRORS = frozenset({
    "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "INVALID_PRODUCER_ID_MAPPING", "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "_FENCED", "TRANSACTION_ABORTABLE", "INVALID_TXN_STATE"})


class ProductionError(StreamsException):
    """A record could not be written to Kafka (Kafka's StreamsException from RecordCollectorImpl).

    A PystreamsError, so processor error handling passes it on untouched (never to processing.exception.handler)
    and the stream thread sees `kafka_error`: a fenced or aborted transaction is Kafka's TaskMigratedException /
    TaskCorruptedException there (abort, close tasks dirty, rejoin), not a crash."""

    def __init__(self, message: str, kafka_error: KafkaError | None = None, task_corrupted: bool = False) -> None:
        super().__init__(message)
        self.kafka_error = kafka_error
        #: production.exception.handler answered RETRY to a retriable send error: Kafka's TaskCorruptedException
        #: (close the tasks dirty, resume from the committed offsets), for the stream thread to act on
        self.task_corrupted = task_corrupted


def _send_failed(topic: str, e: KafkaException, reason: str = "", retry: bool = False) -> ProductionError:
    err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
    what = f"{err.str()} ({err.name()})" if err is not None else str(e)
    why = f" ({reason})" if reason else ""
    return ProductionError(f"Error encountered trying to send a record to topic {topic}: {what}{why}", err, retry)


def task_corrupted(e: BaseException) -> bool:
    """Whether e is (or was raised from) a ProductionError answered RETRY: Kafka's TaskCorruptedException, which
    the stream thread handles by closing its tasks dirty and resuming them from the last commit."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ProductionError) and cur.task_corrupted:
            return True
        cur = cur.__cause__
    return False


def _metadata_max_age_s(producer_config: dict[str, Any]) -> float:
    """The producer's metadata.max.age.ms in seconds (Kafka's default 300000: 5 min)."""
    try:
        return max(int(producer_config.get("metadata.max.age.ms") or 300_000), 1) / 1000.0
    except (TypeError, ValueError):
        return 300.0


class KafkaRecordCollector:
    """RecordCollector over a Producer shared by the tasks of one stream thread."""

    # defaults of the send-failure handling (also for a collector built without __init__ around a fake producer)
    error_reason = ""  # why the error was kept (handler answer, fatal, EOS), for check()'s message
    error_retry = False  # the kept error was answered RETRY (retriable): ProductionError.task_corrupted
    transactional = False
    #: production.exception.handler for send failures: the first registered sink's task's (register_sink)
    production_handler: Any = None
    dropped_records = 0  # records dropped after a send failure (CONTINUE), all tasks of the thread
    _sinks: dict[str | None, dict[Any, tuple[str, Any]]] | None = None  # topic -> task id -> (sink name, task)
    #: partitions_for's cached counts are read again this often: the producer's metadata.max.age.ms (Kafka's 5 min)
    partitions_max_age_s = 300.0
    _partitions_refresh_at = 0.0  # monotonic time of the next refresh (poll() checks it only when counts are cached)

    def __init__(self, producer_config: dict[str, Any]) -> None:
        self.error: KafkaError | None = None
        self.errored_topic: str | None = None
        self.transactional = bool(producer_config.get("transactional.id"))
        self._sinks = {}
        self.sent = 0  # records sent through send() (a sink's direct_send() records are not counted)
        self._pending: dict[tuple[str, int], int] = {}  # records sent per explicit partition since the last flush
        self._acked: dict[tuple[str, int], int] = {}  # ... acknowledged by a flush, not yet taken by a task
        config = dict(producer_config)
        config["on_delivery"] = self._on_delivery_error
        config.setdefault("error_cb", self._on_client_error)
        # transactional: offsets sent with their metadata exactly (confluent-kafka's own call appends a NUL)
        if self.transactional:  # exactly_once_v2 only: at_least_once apps do not load ctypes and librdkafka's symbols
            from pystreams.runtime.txn_offsets import StreamsProducer

            self.producer: Any = StreamsProducer(config)
        else:
            self.producer = Producer(config)
        self._partitions: dict[str, int] = {}
        self.partitions_max_age_s = _metadata_max_age_s(producer_config)
        self._produce = self.producer.produce

    def register_sink(self, topic: str | None, sink_name: str, task: Any) -> None:
        """A sink of `task` writes to `topic` (None: chosen per record) through this collector: its task's
        production.exception.handler decides about failed sends, and a dropped record is counted on the task."""
        if self._sinks is None:
            self._sinks = {}
        for by_task in self._sinks.values():  # tasks closed since (moved away): not kept alive by the collector
            for task_id in [t for t, (_n, other) in by_task.items() if getattr(other, "closed", False)]:
                del by_task[task_id]
        self._sinks.setdefault(topic, {})[task.id] = (sink_name, task)
        handler = getattr(task, "production_handler", None)
        if handler is not None and (self.production_handler is None
                                    or type(self.production_handler) is DefaultProductionExceptionHandler):
            self.production_handler = handler

    def _on_delivery_error(self, err: KafkaError | None, msg: Any) -> None:
        # purged records were dropped on purpose (an aborted transaction, a replaced producer): not a failure;
        # like Kafka, once a failure is kept the later ones are not looked at (the thread fails with the first)
        if err is None or self.error is not None or err.code() in _PURGED:
            return
        topic = msg.topic() if msg is not None else None
        if msg is None or topic is None:
            self._keep(err, topic, "")
            return
        try:
            ts = msg.timestamp()[1]
        except Exception:  # noqa: BLE001 - a message without timestamp accessors (tests): unknown
            ts = -1
        self._send_error(err, SentRecord(topic, msg.key(), msg.value(), msg.headers() or (), ts, msg.partition()),
                         delivered=True)

    def _keep(self, err: KafkaError, topic: str | None, reason: str, retry: bool = False) -> None:
        self.error = err
        self.errored_topic = topic
        self.error_reason = reason
        self.error_retry = retry

    def _send_error(self, err: KafkaError, record: SentRecord, delivered: bool = False) -> bool:
        """Kafka's recordSendError: True when the record is dropped and the thread goes on (the handler said
        CONTINUE, at_least_once), else the error is kept for check() (or, for send(), raised by the caller).
        `delivered`: a delivery report's failure (the record was counted as sent), not a produce() refusal."""
        name = err.name()
        topic = record.topic
        if name in MIGRATION_SEND_ERRORS or err.txn_requires_abort():  # the stream thread aborts or rejoins
            self._keep(err, topic, "the producer was fenced or its transaction must be aborted")
            return False
        if err.fatal() or name in FATAL_SEND_ERRORS:
            log.error("Error encountered sending a record to topic %s: %s (%s). No more records will be sent: "
                      "this is a fatal error.", topic, err.str(), name)
            self._keep(err, topic, "a fatal error, never given to production.exception.handler")
            return False
        sink_name, task = self._sink_for(topic, record.partition)
        handler = self.production_handler
        if handler is None or type(handler) is DefaultProductionExceptionHandler or \
                not callable(getattr(handler, "handle", None)):
            response = ProductionHandlerResponse.FAIL
        else:
            context = ErrorHandlerContext(None, -1, -1, (), sink_name, task.id if task is not None else None, -1)
            try:
                response = handler.handle(context, record, KafkaException(err))
                if not isinstance(response, ProductionHandlerResponse):
                    raise TypeError(f"Invalid ProductionExceptionHandler response: {response!r}")
            except Exception as fatal:  # the user's handler failed: the thread fails, as in Kafka
                log.error("Production error callback failed after production error for a record to topic %s",
                          topic, exc_info=fatal)
                self._keep(err, topic, f"Fatal user code error in production error callback: {fatal!r}")
                return False
        if response is ProductionHandlerResponse.RETRY and not (err.retriable() or name in RETRIABLE_SEND_ERRORS):
            log.warning("ProductionExceptionHandler returned RETRY for a non-retriable error (%s). Will treat it "
                        "as FAIL.", name)
            response = ProductionHandlerResponse.FAIL
        if response is not ProductionHandlerResponse.CONTINUE:
            log.error("Error encountered sending a record to topic %s: %s (%s). production.exception.handler "
                      "returned %s: no more records will be sent.", topic, err.str(), name, response.name)
            self._keep(err, topic, f"production.exception.handler returned {response.name}",
                       response is ProductionHandlerResponse.RETRY)
            return False
        self.dropped_records += 1
        if task is not None:
            task.metrics.record_dropped()
        if delivered and record.partition is not None:  # not in the log: take_acked() must not count it
            tp = (topic, record.partition)
            if self._pending.get(tp, 0) > 0:
                self._pending[tp] -= 1
        if self.transactional:
            log.error("Error encountered sending a record to topic %s: %s (%s). production.exception.handler "
                      "returned CONTINUE, but under exactly_once_v2 the transaction cannot be committed after a "
                      "failed send: the thread fails, as Kafka Streams' commit does.", topic, err.str(), name)
            self._keep(err, topic, "production.exception.handler returned CONTINUE, but under exactly_once_v2 "
                                   "the transaction cannot be committed after a failed send")
            return False
        log.warning("Error encountered sending a record to topic %s: %s (%s). production.exception.handler "
                    "returned CONTINUE: the record is dropped and processing goes on.", topic, err.str(), name)
        return True

    def _sink_for(self, topic: str, partition: int | None) -> tuple[str | None, Any]:
        """(sink name, task) that sent a failed record, as far as a delivery report tells: it carries no source
        context (no per-record callback), so among the tasks whose sinks write to the topic the one with the
        record's partition number (the sender whenever output and input are co-partitioned), else the only one."""
        sinks = self._sinks or {}
        by_task = sinks.get(topic) or sinks.get(None) or {}
        live = [v for v in by_task.values() if not getattr(v[1], "closed", False)]
        for name, task in live:
            if getattr(task.id, "partition", None) == partition:
                return name, task
        if len(live) == 1:
            return live[0]
        return None, None

    def _on_client_error(self, err: KafkaError) -> None:
        if err.fatal() and self.error is None:
            self._keep(err, None, "a fatal producer error")
        else:
            log.debug("producer: %s", err)

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        try:  # positional: produce(topic, value, key, partition, callback, on_delivery, timestamp, headers)
            # costs ~0.55 us against ~0.93 us with keywords; None callbacks = the producer's on_delivery
            self._produce(topic, value, key, _UNASSIGNED if partition is None else partition, None, None,
                          timestamp, list(headers) if headers else None)
        except BufferError:
            if not self._wait_for_room(topic, key, value, headers, timestamp, partition):
                return
        except KafkaException as e:  # e.g. the transaction is in an abortable state or the producer was fenced
            dropped, reason, retry = self._failed_at_once(e, topic, key, value, headers, timestamp, partition)
            if not dropped:
                raise _send_failed(topic, e, reason, retry) from e
            return
        self.sent += 1
        if partition is not None:
            tp = (topic, partition)
            self._pending[tp] = self._pending.get(tp, 0) + 1

    def direct_send(self) -> Any:
        """producer.produce itself when send() adds nothing but error handling for a record without an explicit
        partition (not for subclasses that override send()); None otherwise. A sink calls it positionally as
        (topic, value, key, -1, None, None, timestamp, headers list or None) and, when it raises, calls send()
        with the same record, which retries it and gives the usual answer or error (BufferError: wait for room;
        KafkaException: ProductionError). Saves a Python call per output record."""
        if type(self).send is not KafkaRecordCollector.send:
            return None
        return self._produce

    def batch_producer(self) -> Any:
        """producer.produce itself for a caller that sends many records to one explicit partition (a cache flush's
        changelog records) and counts them with add_sent() when done; None when send() must see every record (a
        subclass overriding send()). The caller calls it positionally as (topic, value, key, partition, None, None,
        timestamp, None) and, when it raises, calls send() with the same record instead (which waits for room,
        hands the failure to production.exception.handler or raises, and counts that record itself)."""
        if type(self).send is not KafkaRecordCollector.send:
            return None
        return self._produce

    def add_sent(self, topic: str, partition: int, n: int) -> None:
        """Count n records produced to (topic, partition) through batch_producer(), as send() counts each."""
        if n:
            self.sent += n
            tp = (topic, partition)
            self._pending[tp] = self._pending.get(tp, 0) + n

    def _failed_at_once(self, e: KafkaException, topic: str, key: bytes | None, value: bytes | None,
                        headers: Any, timestamp: int, partition: int | None) -> tuple[bool, str, bool]:
        """produce() refused the record itself (e.g. larger than message.max.bytes): the same decision as for a
        failed delivery. (True, "", False) = dropped, go on; (False, why, retry) = the caller raises at once (not
        kept); retry: the handler answered RETRY to a retriable error (ProductionError.task_corrupted)."""
        err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
        if err is None or self.error is not None:
            return False, "", False
        if self._send_error(err, SentRecord(topic, key, value, headers or (), timestamp, partition)):
            return True, "", False
        reason, retry = self.error_reason, self.error_retry
        self.clear_error()
        return False, reason, retry

    def _wait_for_room(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
                       partition: int | None) -> bool:
        deadline = time.monotonic() + 60
        while True:
            self.producer.poll(0.05)
            try:
                self._produce(topic, value, key, _UNASSIGNED if partition is None else partition, None, None,
                              timestamp, list(headers) if headers else None)
                return True
            except KafkaException as e:
                dropped, reason, retry = self._failed_at_once(e, topic, key, value, headers, timestamp, partition)
                if dropped:
                    return False
                raise _send_failed(topic, e, reason, retry) from e
            except BufferError:
                if time.monotonic() > deadline:
                    raise ProductionError(f"the producer queue stayed full for 60 s while sending to {topic}: "
                                          "is the broker reachable?") from None

    def flush(self) -> None:
        """Called by each task's commit; the stream thread flushes the producer once for all tasks."""

    def flush_producer(self, timeout: float = 60.0) -> None:
        """Wait until every sent record is acknowledged, then raise the first failure if there was one."""
        remaining = self.producer.flush(timeout)
        self.check()
        if remaining:
            raise ProductionError(f"{remaining} records were still unacknowledged after {timeout:.0f} s")
        acked, pending = self._acked, self._pending
        for tp, n in pending.items():
            acked[tp] = acked.get(tp, 0) + n
        pending.clear()

    def take_acked(self, topic: str, partition: int) -> int:
        """Records sent to (topic, partition) and acknowledged since the last call (valid after flush_producer).

        With the idempotent producer (no duplicates, in order) and one writer per changelog partition, a task's
        changelog end offset is its end offset at restore plus these counts: Kafka Streams takes the same offsets
        from per-record delivery acknowledgements, this costs one dict increment per record and no callback."""
        return self._acked.pop((topic, partition), 0)

    def forget(self, topic: str, partition: int) -> None:
        """Drop the counts of (topic, partition): a task restarts counting from an end offset it just read."""
        self._pending.pop((topic, partition), None)
        self._acked.pop((topic, partition), None)

    def poll(self) -> None:
        self.producer.poll(0)
        if self._partitions and time.monotonic() >= self._partitions_refresh_at:
            self.refresh_partition_counts()

    def clear_error(self) -> None:
        """Forget the kept send failure: the stream thread handled it (tasks revived after RETRY, or aborted)."""
        self.error, self.errored_topic, self.error_reason, self.error_retry = None, None, "", False

    def retry_requested(self) -> bool:
        """After serving the delivery reports: whether the kept failure was answered RETRY by the handler
        (ProductionError.task_corrupted), e.g. the cause of a transaction that cannot commit."""
        try:
            self.poll()
        except Exception:  # noqa: BLE001 - a broken producer is handled by the stream thread's migration path
            return False
        return self.error is not None and self.error_retry

    def check(self) -> None:
        err = self.error
        if err is not None:
            why = f" ({self.error_reason})" if self.error_reason else ""
            raise ProductionError(f"Error encountered sending records to topic {self.errored_topic}: {err.str()} "
                                  f"({err.name()}){why}; the records of the current commit are not acknowledged",
                                  err, self.error_retry)

    def partitions_for(self, topic: str) -> int | None:
        """A sink topic's partition count for a StreamPartitioner: a dict hit per record; read from the broker on
        the first use and again every metadata.max.age.ms by poll() (refresh_partition_counts)."""
        n = self._partitions.get(topic)
        if n is None:
            n = self._read_partition_count(topic)
            if n is None:
                return None
            if not self._partitions:
                self._partitions_refresh_at = time.monotonic() + self.partitions_max_age_s
            self._partitions[topic] = n
        return n

    def refresh_partition_counts(self) -> None:
        """Kafka's producer re-reads its topics' metadata every metadata.max.age.ms, so records of a sink topic that
        grew go to its new partitions too: one Metadata request per cached topic, at most that often (poll() calls
        it; never per record). A topic that cannot be read now keeps its count until the next refresh."""
        self._partitions_refresh_at = time.monotonic() + self.partitions_max_age_s
        fresh = {t: self._read_partition_count(t) for t in list(self._partitions)}
        changed = {t: n for t, n in fresh.items() if n is not None and n != self._partitions.get(t)}
        if changed:
            log.info("sink topics' partition counts changed: %s (were %s)", changed,
                     {t: self._partitions.get(t) for t in changed})
            self._partitions.update(changed)

    def _read_partition_count(self, topic: str) -> int | None:
        try:
            md = self.producer.list_topics(topic, timeout=10)
        except KafkaException:
            return None
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return None
        return len(t.partitions)

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is left and destroy the librdkafka instance (no reconnect attempts afterwards)."""
        try:
            self.producer.flush(timeout)
        finally:
            close = getattr(self.producer, "close", None)
            if close is not None:
                close()
