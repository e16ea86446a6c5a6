"""Which client errors mean "this thread lost its tasks" (Kafka's TaskMigratedException, and under EOS
TaskCorruptedException) and which leave the producer unusable: the stream thread's recovery path asks these.

Pure functions of the error (and the record collector that saw a failed delivery), so they are testable without
clients.
"""
from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from pystreams.processor.internals import StreamsException
from pystreams.runtime.collector import KafkaRecordCollector, ProductionError
from pystreams.runtime.group.errors import GroupError

#: What a lost task or a broken transaction surfaces as: a client error, a ProductionError (or another
#: StreamsException whose cause chain holds one) raised through the processors, or our membership's GroupError.
CLIENT_ERRORS = (KafkaException, StreamsException, GroupError)

#: the member lost its tasks (new generation, fenced producer, ...): abort, close dirty, rejoin
MIGRATION_CODES = frozenset({
    "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "FENCED_INSTANCE_ID", "PRODUCER_FENCED",
    "INVALID_PRODUCER_EPOCH", "_FENCED", "INVALID_PRODUCER_ID_MAPPING", "_STATE", "INVALID_TXN_STATE", "_FATAL",
    "TRANSACTION_ABORTABLE"})
#: under EOS a record that timed out in the producer only fails its transaction (Kafka: TaskCorrupted)
TXN_TIMEOUT_CODES = frozenset({"_MSG_TIMED_OUT", "_TIMED_OUT"})
#: a transaction's offsets that could not be committed within max.block.ms: librdkafka retries TxnOffsetCommit's
#: UNKNOWN_TOPIC_OR_PARTITION (an input topic deleted under the app) until then, as Kafka's producer does, and then
#: answers with it (abortable). Kafka's commitTransaction throws TimeoutException -> TaskCorruptedException.
OFFSETS_TIMEOUT_CODES = frozenset({"UNKNOWN_TOPIC_OR_PART"})
#: errors after which the producer cannot be used again: a new one (same transactional.id) replaces it
FATAL_CODES = frozenset({"_FATAL", "_FENCED", "PRODUCER_FENCED", "FENCED_INSTANCE_ID"})


def error_of(e: BaseException, collector: KafkaRecordCollector | None) -> KafkaError | None:
    """The KafkaError behind e: its own, a ProductionError's, or one found along the __cause__ chain (a
    StreamsException wrapping a client error raised inside a processor or punctuator)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, KafkaException) and cur.args and isinstance(cur.args[0], KafkaError):
            return cur.args[0]
        if isinstance(cur, ProductionError):
            if cur.kafka_error is not None:
                return cur.kafka_error
            if collector is not None and collector.error is not None:
                return collector.error
        cur = cur.__cause__  # `raise ... from e` only: an error raised while handling another is its own
    return None


def is_task_migration(e: BaseException, eos: bool, collector: KafkaRecordCollector | None) -> bool:
    """Kafka's TaskMigratedException (this member lost its tasks: new generation, fenced producer) or, under
    EOS, TaskCorruptedException (the transaction must be aborted)."""
    if isinstance(e, GroupError):  # our membership: fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, ...); another
        # instance with our group.instance.id (FENCED_INSTANCE_ID) is fatal, as for Kafka's consumer
        return e.name in MIGRATION_CODES and e.name != "FENCED_INSTANCE_ID"
    err = error_of(e, collector)
    if err is None:
        return False
    if err.name() in MIGRATION_CODES:
        return True
    return eos and (err.txn_requires_abort() or err.fatal() or err.name() in TXN_TIMEOUT_CODES)


def offsets_timed_out(e: BaseException) -> bool:
    """An exactly_once_v2 commit whose offsets (TxnOffsetCommit) kept failing with a retriable error until max.block.ms:
    Kafka's TimeoutException from StreamsProducer.commitTransaction, which TaskExecutor turns into
    TaskCorruptedException (tasks closed dirty and revived, a rebalance enforced), not a task migration."""
    err = error_of(e, None)
    return err is not None and err.name() in OFFSETS_TIMEOUT_CODES and not err.fatal()


def producer_unusable(err: KafkaError | None) -> bool:
    """Fenced or fatally failed: the producer must be replaced (Kafka's StreamsProducer.resetProducer)."""
    return err is not None and (err.fatal() or err.name() in FATAL_CODES)


def raise_refused_record(collector: KafkaRecordCollector | None) -> None:
    """A transaction also turns abortable when the broker refuses one of its records (too large, invalid): that
    failure is the cause, and like Kafka's default production handler it stops the thread instead of being retried
    forever. Delivery reports are served first so it is known."""
    if collector is None:
        return
    try:
        collector.poll()
    except Exception:  # noqa: BLE001 - a broken producer is handled by the migration path
        return
    err = collector.error
    # a broker's answer about the record itself (MSG_SIZE_TOO_LARGE, INVALID_RECORD, ...): not a local error
    # such as _MSG_TIMED_OUT (a paused or partitioned instance), which aborting and retrying can cure
    if (err is not None and not err.name().startswith("_") and not err.retriable()
            and err.name() not in MIGRATION_CODES and not err.fatal()):
        collector.check()
