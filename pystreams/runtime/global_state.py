"""Global stores (GlobalKTable / add_global_store): one global task per client, fed from every partition of the
global topics (Kafka's GlobalStreamThread). start() reads them to the end before any stream thread processes;
a background thread keeps them up to date. The input offsets are checkpointed in `<state.dir>/<app>/global/
.checkpoint` (Kafka's format) when every global store is persistent, so a restart resumes where it stopped."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from pystreams.errors import StateStoreError
from pystreams.processor.internals import StreamsException, StreamTask
from pystreams.runtime.checkpoint import TaskDirLock, read_checkpoint, write_checkpoint
from pystreams.runtime.watermarks import watermarks
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.runtime")


class _NoOutput:
    """Global processors only update their store; a send means the topology is wrong."""

    def send(self, topic: str, *args: Any) -> None:
        raise StreamsException(f"a global store processor tried to write to topic {topic}: global processors may "
                               "only update their store")

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


class GlobalStateManager:
    """Owns the global task, its consumer and the thread that keeps the global stores current."""

    def __init__(self, streams: Any) -> None:
        self.streams = streams
        cfg = streams.config
        nodes = streams.topology.global_subtopology_nodes()
        self.task = StreamTask(streams.topology, "global", streams.app_configs, _NoOutput(), state_dir=cfg.state_dir,
                               node_names=[n for src, proc, _ in nodes for n in (src, proc)],
                               cache=ThreadCache(0), task_dir_name="global")
        self.task_dir = self.task.store_context.state_dir
        self.lock = TaskDirLock(self.task_dir)
        self.topics = sorted(self.task._source_by_topic)
        self.consumer: Consumer | None = None
        self.records = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.name = f"{streams.client_id}-GlobalStreamThread"

    @property
    def stores(self) -> dict[str, Any]:
        return self.task.stores

    def start(self, timeout: float = 300.0) -> None:
        """Open the stores and read every global partition to its end (blocking), then keep polling."""
        if not self.lock.try_lock():
            raise StateStoreError(f"the global state directory {self.task_dir} is used by another process: give "
                                  "each instance on this machine its own state.dir")
        self.task.initialize()
        persistent = all(getattr(s, "persistent", False) for s in self.task.stores.values())
        checkpoint = read_checkpoint(self.task_dir) if persistent else {}
        consumer = self.consumer = Consumer(self.streams.config.restore_consumer_config(
            f"{self.streams.client_id}-global-consumer"))
        metadata = consumer.list_topics(timeout=30)
        assignment = []
        ends: dict[tuple[str, int], int] = {}
        for topic in self.topics:
            t = metadata.topics.get(topic)
            if t is None or t.error is not None:
                raise StateStoreError(f"global topic {topic} does not exist: create it before starting the app")
            for p in t.partitions:
                known = checkpoint.get((topic, p))
                assignment.append(TopicPartition(topic, p, known + 1 if known is not None else OFFSET_BEGINNING))
                ends[(topic, p)] = watermarks(consumer, TopicPartition(topic, p))[1]
        consumer.assign(assignment)
        remaining = {tp for tp, end in ends.items()
                     if end > 0 and (checkpoint.get(tp) is None or checkpoint[tp] + 1 < end)}
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise StateStoreError(f"global stores did not reach the end of {sorted(remaining)} in {timeout} s")
            for tp in self._poll(0.2):
                if tp in remaining and self._position(tp) >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if self._position(tp) >= ends[tp]:
                    remaining.discard(tp)
        self.task.commit()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"{self.streams.client_id}-GlobalThread")
        self._thread.start()

    def _position(self, tp: tuple[str, int]) -> int:
        assert self.consumer is not None
        return int(self.consumer.position([TopicPartition(*tp)])[0].offset)

    def _poll(self, timeout: float) -> set[tuple[str, int]]:
        assert self.consumer is not None
        grouped: dict[tuple[str, int], list[Any]] = {}
        touched: set[tuple[str, int]] = set()
        for m in self.consumer.consume(num_messages=10_000, timeout=timeout):
            tp: Any = (m.topic(), m.partition())
            touched.add(tp)
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise StateStoreError(f"global consumer: {err}")
            grouped.setdefault(tp, []).append((m.offset(), m.timestamp()[1], m.key(), m.value(), m.headers() or ()))
        for (topic, p), records in grouped.items():
            self.task.add_records(topic, p, records)
            self.records += len(records)
        while self.task.process():
            pass
        return touched

    def _run(self) -> None:
        last_commit = time.monotonic()
        try:
            while not self._stop.is_set():
                if self._poll(0.1):
                    self.task.commit()
                if time.monotonic() - last_commit > 10:
                    self._checkpoint()
                    last_commit = time.monotonic()
        except BaseException as e:  # noqa: BLE001 - reported to the client like a stream thread's failure
            self.error = e
            log.error("global thread failed: %s", e, exc_info=True)
            self.streams._thread_failed(self, e)

    def _checkpoint(self) -> None:
        offsets = {tp: o - 1 for tp, o in self.task.committable_offsets().items()}
        if offsets:
            write_checkpoint(self.task_dir, offsets)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        try:
            if self.task.initialized and not self.task.closed and self.error is None:
                self.task.commit()
                self._checkpoint()
            self.task.close()
        finally:
            if self.consumer is not None:
                self.consumer.close()
                self.consumer = None
            self.lock.unlock()
