"""The stream thread's producer, Kafka's StreamsProducer in functions: opened (transactional under
exactly_once_v2, one transactional.id per thread), its transaction committed with retries or aborted, and
replaced by a fresh one when it is fenced or fatally failed (resetProducer)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaException

from pystreams.runtime.collector import KafkaRecordCollector
from pystreams.runtime.config import DEFAULT_MAX_BLOCK_MS, StreamsConfig
from pystreams.runtime.task_migration import error_of

log = logging.getLogger("pystreams.runtime")


def open_collector(config: StreamsConfig, client_id: str, transactional_id: str | None) -> KafkaRecordCollector:
    """A record collector on a new producer; a transactional one has fenced its predecessors' epoch (and
    aborted whatever they left open) before it returns."""
    collector = KafkaRecordCollector(config.producer_config(client_id, transactional_id))
    if transactional_id is not None:
        collector.producer.init_transactions(60)
    return collector


def replace_collector(old: KafkaRecordCollector | None, config: StreamsConfig, client_id: str,
                      transactional_id: str | None) -> KafkaRecordCollector:
    """Drop an unusable producer (its unsent records purged) for a new one with the same transactional.id."""
    if old is not None:
        try:
            old.producer.purge()
        except Exception as e:  # noqa: BLE001 - the broken producer is dropped either way
            log.debug("%s: purging the replaced producer: %s", client_id, e)
    new = open_collector(config, client_id, transactional_id)
    if old is not None:
        try:
            old.close(1)
        except Exception as e:  # noqa: BLE001 - the broken producer is gone either way
            log.debug("%s: closing the replaced producer: %s", client_id, e)
    return new


def commit_transaction(collector: KafkaRecordCollector, attempts: int = 3, block_s: float | None = None) -> None:
    """commit_transaction, called again on a retriable error (a timeout: librdkafka resumes the commit); with
    block_s, each call is bounded by it (ProducerBlockedError, see call_bounded)."""
    for attempt in range(1, attempts + 1):
        try:
            if block_s is None:
                collector.producer.commit_transaction(60)
            else:
                call_bounded(lambda: collector.producer.commit_transaction(block_s), block_s + 1,
                             "commit_transaction")
            return
        except KafkaException as e:
            err = error_of(e, collector)
            if err is None or not err.retriable() or err.txn_requires_abort() or attempt == attempts:
                raise
            log.warning("commit_transaction failed (%s); retrying", err)


def abort_transaction(collector: KafkaRecordCollector) -> bool:
    """Abort the open transaction; False when the producer could not abort (it must be replaced)."""
    try:
        collector.producer.abort_transaction(30)
    except KafkaException as e:
        log.warning("abort_transaction failed: %s", e)
        return False
    return True


#: how long an idle stream thread holds librdkafka's flush open so that its broker threads send what lingers
#: (send_lingering); the flush returns earlier once the broker acknowledged everything
IDLE_SEND_WAIT_S = 0.005


def output_pending(collector: KafkaRecordCollector | None) -> bool:
    """Whether the thread's producer holds records not yet acknowledged (queued, lingering or in flight)."""
    producer = getattr(collector, "producer", None)
    try:
        return producer is not None and len(producer) > 0
    except TypeError:  # a producer without a queue length (tests' fakes): nothing to hurry
        return False


def send_lingering(collector: KafkaRecordCollector, max_wait_s: float = IDLE_SEND_WAIT_S) -> None:
    """The stream thread has nothing to process: send the records waiting out linger.ms now.

    linger.ms (Kafka Streams' default 100) lets a batch fill under load; once the input ran dry no more records join
    it, so waiting only delays the output (up to 100 ms of end-to-end latency at low rates, and the tail of every
    burst). librdkafka's flush() treats linger.ms as elapsed while it runs ("linger.ms will be ignored for the
    duration of the call"); with timeout 0 the call often ends before a broker thread looked at its queues (measured:
    median delivery 3-108 ms with flush(0), 3-5 ms with 1-5 ms), so it is held for up to max_wait_s, and returns as
    soon as everything is acknowledged. Delivery reports are served as by poll(); failures stay with the collector
    (check() raises them), and the acknowledged counts are taken at the next commit's flush_producer, as before."""
    collector.producer.flush(max_wait_s)


def send_lingering_while_idle(collector: KafkaRecordCollector | None, poll: Callable[[float], list[Any]],
                              wait_s: float) -> list[Any]:
    """The input ran dry: spend the poll's wait sending what lingers, in IDLE_SEND_WAIT_S slices with a look for
    new input between them, instead of one slice and then a blocking poll during which linger.ms holds the rest.

    One slice sends only what librdkafka's broker threads reach in 5 ms: after a cache flush of ~30k records (a
    window count's 100k-record run) the remainder waited out linger.ms in the blocking poll, ~100 ms of output
    latency. Returns the records the poll found (empty when the wait ended with no input)."""
    deadline = time.monotonic() + wait_s
    while output_pending(collector):
        send_lingering(collector)  # type: ignore[arg-type]  # output_pending: not None
        messages = poll(0)
        if messages:
            return messages
        if time.monotonic() >= deadline:
            return messages
    return poll(max(0.0, deadline - time.monotonic()))


class ProducerBlockedError(Exception):
    """A transactional producer call did not return within max.block.ms (librdkafka ignores the timeout of
    send_offsets_to_transaction after a coordinator restart, confluentinc/librdkafka#5456): like Kafka's
    TimeoutException of an EOS commit, the thread abandons this producer and treats its tasks as corrupted."""


def max_block_s(config: Any) -> float:
    """Kafka's max.block.ms in seconds: a StreamsConfig's parsed max_block_ms; for any other config with a get()
    (a dict, a Mapping), producer.max.block.ms first, then max.block.ms, default 60000."""
    parsed = getattr(config, "max_block_ms", None)
    if isinstance(parsed, int):
        return max(0.001, parsed / 1000)
    return max(0.001, first_ms(config, ("producer.max.block.ms", "max.block.ms"), DEFAULT_MAX_BLOCK_MS) / 1000)


def first_ms(config: Any, keys: tuple[str, ...], default_ms: int) -> int:
    """The first of `keys` the config has (a client key's prefixed forms before the plain one), as an int of ms;
    default_ms when none is set or the config is None."""
    for key in keys:
        if config is None:
            break
        try:
            value = config.get(key)
        except Exception:  # noqa: BLE001 - an unknown key reads as unset
            value = None
        if value is not None:
            return int(value)
    return default_ms


def call_bounded(fn: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """fn() on a daemon thread, waited for at most timeout_s; ProducerBlockedError when it does not return (the
    blocked call is left behind, never joined)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = e

    t = threading.Thread(target=run, name=f"pystreams-{what}", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise ProducerBlockedError(f"{what} did not return within max.block.ms ({timeout_s * 1000:.0f} ms)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def abandon_collector(collector: KafkaRecordCollector | None) -> None:
    """Close a producer blocked inside librdkafka from a daemon thread: this thread never calls it again."""
    if collector is None:
        return

    def close() -> None:
        try:
            collector.close(1)
        except Exception as e:  # noqa: BLE001 - it is gone either way
            log.debug("closing an abandoned producer: %s", e)

    threading.Thread(target=close, name="pystreams-abandoned-producer", daemon=True).start()
