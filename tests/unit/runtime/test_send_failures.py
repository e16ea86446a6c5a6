"""production.exception.handler decides about records the producer could not send (Kafka's
RecordCollectorImpl.recordSendError), not only about serialization errors: CONTINUE drops the record (logged,
counted as dropped) and the thread goes on, FAIL (the default) stops it with a ProductionError naming the topic and
the cause; what Kafka never hands to the handler (authorization, fencing, fatal producer) stays an error; under
exactly_once_v2 the transaction cannot commit after a failed send, so the thread fails even on CONTINUE.

A fake producer stands in for librdkafka: it reports delivery failures through the collector's on_delivery
callback when flushed, as librdkafka does with delivery.report.only.error."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, Message

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.processor import TaskId
from pystreams.processor.handlers import ProductionHandlerResponse
from pystreams.processor.internals import StreamTask
from pystreams.processor.internals.collector import SentRecord
from pystreams.processor.internals.task import TaskMetrics
from pystreams.runtime import collector as collector_module
from pystreams.runtime.collector import KafkaRecordCollector, ProductionError
from pystreams.runtime import txn_offsets

pytestmark = pytest.mark.unit


class FakeProducer:
    """produce() keeps records (or raises what `refuse` holds); flush() reports the failures in `fail`
    (index of a produced record -> error code) through the on_delivery callback, like librdkafka."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.records: list[tuple[Any, ...]] = []
        self.fail: dict[int, int] = {}
        self.refuse: KafkaException | None = None
        self._reported = 0

    def produce(self, *args: Any) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.records.append(args)

    def poll(self, _timeout: float = 0) -> int:
        return self.flush()

    def flush(self, _timeout: float = 0) -> int:
        for i in range(self._reported, len(self.records)):
            code = self.fail.get(i)
            if code is not None:
                topic, value, key, partition, _cb, _od, ts, headers = self.records[i]
                msg = Message(topic=topic, partition=max(partition, 0), offset=-1, key=key, value=value,
                              headers=headers, error=KafkaError(code), timestamp=(1, ts))
                self.config["on_delivery"](KafkaError(code), msg)
        self._reported = len(self.records)
        return 0


class Task:
    """What the collector reads of a task: id, metrics, production_handler, closed."""

    def __init__(self, partition: int, handler: Any) -> None:
        self.id = TaskId(0, partition)
        self.metrics = TaskMetrics()
        self.production_handler = handler
        self.closed = False


class Continue:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, Exception]] = []

    def handle_serialization_exception(self, context: Any, record: Any, exception: Exception, origin: Any) -> Any:
        return ProductionHandlerResponse.FAIL

    def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
        self.calls.append((context, record, exception))
        return ProductionHandlerResponse.CONTINUE


def _collector(monkeypatch: pytest.MonkeyPatch, **config: Any) -> KafkaRecordCollector:
    monkeypatch.setattr(collector_module, "Producer", FakeProducer)
    monkeypatch.setattr(txn_offsets, "StreamsProducer", FakeProducer)  # the transactional one (imported when used)
    return KafkaRecordCollector(dict(config))


def _send(c: KafkaRecordCollector, n: int, topic: str = "out", partition: int | None = None) -> None:
    for i in range(n):
        c.send(topic, b"k%d" % i, b"v%d" % i, [("h", b"1")], 1000 + i, partition)


def test_default_handler_fails_with_the_topic_and_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _collector(monkeypatch)
    c.register_sink("out", "sink", Task(0, None))
    c.producer.fail[1] = KafkaError.MSG_SIZE_TOO_LARGE
    _send(c, 3)
    with pytest.raises(ProductionError, match=r"topic out: .*MSG_SIZE_TOO_LARGE.*returned FAIL") as e:
        c.flush_producer()
    assert e.value.kafka_error is not None and e.value.kafka_error.code() == KafkaError.MSG_SIZE_TOO_LARGE
    assert c.dropped_records == 0


def test_continue_drops_the_record_and_counts_it_on_its_task(monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    handler = Continue()
    c = _collector(monkeypatch)
    tasks = [Task(p, handler) for p in range(3)]
    for t in tasks:
        c.register_sink("out", "to-out", t)
    c.producer.fail[0] = KafkaError.MSG_SIZE_TOO_LARGE
    with caplog.at_level(logging.WARNING):
        _send(c, 2, partition=2)
        c.flush_producer()  # no error: the thread goes on
        _send(c, 2)
        c.flush_producer()
        c.check()
    assert c.error is None and len(c.producer.records) == 4
    assert c.dropped_records == 1 and [t.metrics.dropped_records for t in tasks] == [0, 0, 1]
    [(context, record, exception)] = handler.calls
    assert context.processor_node_id == "to-out" and context.task_id == TaskId(0, 2)
    assert record == SentRecord("out", b"k0", b"v0", [("h", b"1")], 1000, 2)
    assert isinstance(exception, KafkaException) and exception.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE
    assert any("CONTINUE" in r.getMessage() and "out" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("code", [KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED,
                                  KafkaError.TOPIC_EXCEPTION, KafkaError.UNKNOWN,
                                  KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH])
def test_errors_kafka_never_hands_to_the_handler(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    handler = Continue()
    c = _collector(monkeypatch)
    c.register_sink("out", "sink", Task(0, handler))
    c.producer.fail[0] = code
    _send(c, 1)
    with pytest.raises(ProductionError) as e:
        c.flush_producer()
    assert handler.calls == [] and c.dropped_records == 0
    assert e.value.kafka_error is not None and e.value.kafka_error.code() == code


def test_under_eos_continue_still_fails_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = Continue()
    c = _collector(monkeypatch, **{"transactional.id": "app-1"})
    task = Task(0, handler)
    c.register_sink("out", "sink", task)
    c.producer.fail[0] = KafkaError.MSG_SIZE_TOO_LARGE
    _send(c, 1)
    c.poll()
    with pytest.raises(ProductionError, match="exactly_once_v2 the transaction cannot be committed"):
        c.check()
    assert len(handler.calls) == 1 and task.metrics.dropped_records == 1  # asked and counted, as in Kafka


def test_a_record_produce_refuses_at_once_goes_to_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """librdkafka refuses a record larger than message.max.bytes in produce() itself."""
    handler = Continue()
    c = _collector(monkeypatch)
    task = Task(0, handler)
    c.register_sink("out", "sink", task)
    c.producer.refuse = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    _send(c, 1)
    assert c.sent == 0 and task.metrics.dropped_records == 1 and c.error is None
    c.producer.refuse = None
    _send(c, 1)
    assert c.sent == 1

    strict = _collector(monkeypatch)
    strict.register_sink("out", "sink", Task(0, None))
    strict.producer.refuse = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    with pytest.raises(ProductionError, match="topic out: .*MSG_SIZE_TOO_LARGE"):
        _send(strict, 1)
    assert strict.error is None  # raised at once, not kept for a later check()


def test_retry_is_fail_for_a_non_retriable_error_and_task_corrupted_for_a_retriable_one(monkeypatch: pytest.MonkeyPatch) -> None:
    class Retry(Continue):
        def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
            return ProductionHandlerResponse.RETRY

    c = _collector(monkeypatch)
    c.register_sink("out", "sink", Task(0, Retry()))
    c.producer.fail[0] = KafkaError.MSG_SIZE_TOO_LARGE
    _send(c, 1)
    with pytest.raises(ProductionError, match="returned FAIL"):
        c.flush_producer()
    retriable = _collector(monkeypatch)  # a retriable one: Kafka's TaskCorruptedException, marked for the thread
    retriable.register_sink("out", "sink", Task(0, Retry()))
    retriable.producer.fail[0] = KafkaError._MSG_TIMED_OUT
    _send(retriable, 1)
    with pytest.raises(ProductionError, match="returned RETRY") as e:
        retriable.flush_producer()
    assert e.value.task_corrupted


def test_a_failing_handler_fails_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Continue):
        def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
            raise RuntimeError("handler bug")

    c = _collector(monkeypatch)
    c.register_sink("out", "sink", Task(0, Broken()))
    c.producer.fail[0] = KafkaError._MSG_TIMED_OUT
    _send(c, 1)
    with pytest.raises(ProductionError, match="Fatal user code error in production error callback"):
        c.flush_producer()


def test_a_dropped_changelog_record_is_not_counted_as_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _collector(monkeypatch)
    c.register_sink(None, "sink", Task(0, Continue()))
    c.producer.fail[1] = KafkaError.MSG_SIZE_TOO_LARGE
    _send(c, 3, topic="app-store-changelog", partition=0)
    c.flush_producer()
    assert c.take_acked("app-store-changelog", 0) == 2
    _send(c, 2, topic="app-store-changelog", partition=0)
    c.producer.refuse = KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))  # refused at once: never counted
    _send(c, 1, topic="app-store-changelog", partition=0)
    c.producer.refuse = None
    c.flush_producer()
    assert c.take_acked("app-store-changelog", 0) == 2


def test_a_task_sink_registers_its_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """End to end through a StreamTask: its sink registers with the collector, produces directly, and a failed
    delivery is dropped on the task's handler's CONTINUE and counted on the task."""
    handler = Continue()
    c = _collector(monkeypatch)
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to(
        "out", Produced(key_serde=Serdes.String(), value_serde=Serdes.String()))
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "sends", "production.exception.handler": handler},
                      c, state_dir=str(tmp_path / "t"))
    task.initialize()
    c.producer.fail[1] = KafkaError.MSG_SIZE_TOO_LARGE
    task.add_records("in", 0, [(i, 100 + i, b"k", b"v%d" % i, ()) for i in range(3)])
    while task.process_batch(1000):
        pass
    c.flush_producer()
    assert [r[1] for r in c.producer.records] == [b"v0", b"v1", b"v2"]
    assert len(handler.calls) == 1 and handler.calls[0][1].value == b"v1"
    assert task.metrics.dropped_records == 1 and task.committable_offsets() == {("in", 0): 3}


def test_a_handler_with_only_handle_is_accepted_and_fails_serialization_errors(tmp_path: Any) -> None:
    """Like the Java interface's default methods: a handler written for send failures only (handle) is a valid
    production.exception.handler, and a record a sink cannot serialize still stops the task (FAIL)."""
    from pystreams.errors import ConfigError, SerdeError
    from pystreams.processor.handlers import resolve_production_handler
    from pystreams.processor.internals.collector import ListRecordCollector

    class SendOnly:
        def handle(self, context: Any, record: Any, exception: Exception) -> ProductionHandlerResponse:
            return ProductionHandlerResponse.CONTINUE

    handler = SendOnly()
    assert resolve_production_handler({"production.exception.handler": handler}) is handler
    with pytest.raises(ConfigError, match="neither"):
        resolve_production_handler({"production.exception.handler": object()})
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).map_values(lambda v: 7).to(
        "out", Produced(key_serde=Serdes.String(), value_serde=Serdes.String()))
    task = StreamTask(b.build(), TaskId(0, 0), {"application.id": "ser", "production.exception.handler": handler},
                      ListRecordCollector(), state_dir=str(tmp_path / "t"))
    task.initialize()
    task.add_records("in", 0, [(0, 1, b"k", b"v", ())])
    with pytest.raises(SerdeError, match="could not serialize"):
        task.process_batch(10)


@pytest.mark.parametrize("code", [KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._MSG_TIMED_OUT,
                                  KafkaError.NOT_ENOUGH_REPLICAS])
def test_other_delivery_errors_go_to_the_handler(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    handler = Continue()
    c = _collector(monkeypatch)
    task = Task(0, handler)
    c.register_sink(None, "dynamic", task)  # a sink with a topic extractor: registered without a topic
    c.producer.fail[0] = code
    c.send("chosen-per-record", b"k", b"v", (), 5, 0)
    c.flush_producer()
    assert [call[2].args[0].code() for call in handler.calls] == [code]
    assert handler.calls[0][0].processor_node_id == "dynamic" and task.metrics.dropped_records == 1


def test_a_transaction_that_must_be_aborted_is_not_the_handlers(monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """produce() refuses records while the transaction is abortable (_STATE, txn_requires_abort): the stream
    thread's task-migration path (abort, reprocess) gets the error unchanged, the handler is not asked."""
    handler = Continue()
    c = _collector(monkeypatch, **{"transactional.id": "app-1"})
    c.register_sink("out", "sink", Task(0, handler))
    c.producer.refuse = KafkaException(KafkaError(KafkaError._STATE, "Erroneous state", txn_requires_abort=True))
    with caplog.at_level(logging.ERROR), pytest.raises(ProductionError, match="must be aborted") as e:
        _send(c, 1)
    assert e.value.kafka_error is not None and e.value.kafka_error.txn_requires_abort()
    assert handler.calls == [] and c.error is None and "fatal" not in caplog.text


def test_closed_tasks_are_not_kept_by_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _collector(monkeypatch)
    old, new = Task(0, Continue()), Task(1, Continue())
    c.register_sink("out", "sink", old)
    old.closed = True  # moved away
    c.register_sink("out", "sink", new)
    assert c._sinks == {"out": {TaskId(0, 1): ("sink", new)}}


def test_handlers_can_be_named_by_import_path() -> None:
    """Config values are often strings (`pystreams run --set ...`): an importable 'package.module:Class' works for
    both handler configs; Kafka class names other than the built-in ones stay a clear ConfigError."""
    from pystreams.errors import ConfigError
    from pystreams.processor.handlers import (
        resolve_processing_handler,
        resolve_production_handler,
    )

    here = __name__
    assert type(resolve_production_handler({"production.exception.handler": f"{here}:Continue"})) is Continue
    assert type(resolve_production_handler({"production.exception.handler": f"{here}.Continue"})) is Continue
    assert type(resolve_processing_handler({"processing.exception.handler": f"{here}:Continue"})) is Continue
    with pytest.raises(ConfigError, match="cannot import module"):
        resolve_production_handler({"production.exception.handler": "no_such_module_xyz:Handler"})
    with pytest.raises(ConfigError, match="has no 'Nope'"):
        resolve_production_handler({"production.exception.handler": f"{here}:Nope"})
    with pytest.raises(ConfigError, match="is unknown"):
        resolve_production_handler({"production.exception.handler": "org.apache.kafka.streams.errors.Other"})
