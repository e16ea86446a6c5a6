"""TopologyTestDriver: runs a Topology in-process, deterministically, without a broker or threads.

Like Kafka's driver, all sub-topologies run in ONE task (0_0, partition 0); every piped record is processed to
completion, followed by stream-time punctuation and a commit (caches flushed). Records written to repartition
topics (or to any topic the topology reads) are piped back in synchronously; everything written, changelog
records included, can be read with an output topic.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import deque
from datetime import datetime
from typing import Any, Mapping

from pystreams.errors import ConfigError, TopologyError
from pystreams.processor.internals.collector import SentRecord
from pystreams.processor.internals.errors import StreamsException
from pystreams.processor.internals.task import StreamTask
from pystreams.processor.task_id import TaskId
from pystreams.serdes import resolve_serde
from pystreams.state.api import KeyValueStore, TimestampedKeyValueStore
from pystreams.testing.facade import KeyValueStoreFacade, WindowStoreFacade
from pystreams.testing.records import DriverClosedError, duration_millis, to_millis
from pystreams.testing.topics import TestInputTopic, TestOutputTopic

DEFAULT_APPLICATION_ID = "dummy-topology-test-driver-app-id"
log = logging.getLogger("pystreams.testing")


class _Collector:
    """Buffers sent records until the driver captures them after the commit (as Kafka's MockProducer)."""

    def __init__(self) -> None:
        self.pending: list[SentRecord] = []

    def send(self, topic: str, key: bytes | None, value: bytes | None, headers: Any, timestamp: int,
             partition: int | None) -> None:
        if partition is not None and partition < 0:  # Kafka's ProducerRecord check, which its driver makes too
            raise StreamsException(f"Invalid partition: {partition}. Partition number should always be non-negative "
                                   f"or null (record for topic {topic}: check what the sink's StreamPartitioner "
                                   "returns)")
        self.pending.append(SentRecord(topic, key, value, headers, timestamp, partition))

    def flush(self) -> None:
        """Nothing to wait for: records are captured synchronously."""

    def partitions_for(self, topic: str) -> int | None:
        return 1  # every topic has one partition in the driver


class TopologyTestDriver:
    """Test a Topology without Kafka: pipe input, read output, inspect stores, advance time."""

    def __init__(self, topology: Any, config: Mapping[str, Any] | None = None,
                 initial_wall_clock_time_ms: int | datetime = 0) -> None:
        if not callable(getattr(topology, "nodes", None)):
            build = getattr(topology, "build", None)
            hint = " (call builder.build() first)" if callable(build) else ""
            raise TopologyError(f"TopologyTestDriver needs a Topology, got {type(topology).__name__}{hint}")
        cfg = dict(config or {})
        cfg.setdefault("application.id", DEFAULT_APPLICATION_ID)
        cfg.setdefault("bootstrap.servers", "dummy-bootstrap-host:0")
        # Kafka 4.1.1's driver makes windowed aggregations and outer joins emit on every record (javap-checked)
        cfg.setdefault("__emit.interval.ms.kstreams.outer.join.spurious.results.fix__", 0)
        cfg.setdefault("__emit.interval.ms.kstreams.windowed.aggregation__", 0)
        self._owns_state_dir = "state.dir" not in cfg
        self._state_dir = str(cfg.get("state.dir") or tempfile.mkdtemp(prefix="pystreams-ttd-"))
        self.config = cfg
        self._topology = topology
        self._wall = to_millis(initial_wall_clock_time_ms)
        self._collector = _Collector()
        self._outputs: dict[str, deque[SentRecord]] = {}
        self._produced: list[str] = []
        self._offsets: dict[str, int] = {}
        self._closed = False
        self.global_task: StreamTask | None = None
        self.task: StreamTask | None = None
        try:
            self._start()
        except BaseException:
            self._shutdown()
            raise

    def _start(self) -> None:
        topology, cfg = self._topology, self.config
        if getattr(topology, "logical_graph", None) is not None:  # built by the DSL: list every missing serde
            from pystreams.compiler.validate import check_serdes

            check_serdes(topology, cfg)
        globals_ = topology.global_subtopology_nodes() if hasattr(topology, "global_subtopology_nodes") else []
        if globals_:
            self.global_task = StreamTask(topology, "global", cfg, self._collector, state_dir=self._state_dir,
                                          node_names=[n for src, proc, _ in globals_ for n in (src, proc)],
                                          time=self._time)
            self.global_task.initialize()
        if topology.subtopologies():
            self.task = StreamTask(topology, TaskId(0, 0), cfg, self._collector, state_dir=self._state_dir,
                                   time=self._time,
                                   global_stores=self.global_task.stores if self.global_task else None)
            self.task.initialize()
        app = str(cfg["application.id"])
        self._internal = {f"{app}-{t}" for t in topology.internal_topics().get("repartition", [])}
        self._global_topics = set(self.global_task._source_by_topic) if self.global_task else set()
        self._sink_topics: set[str] = set()
        self._dynamic_sinks = False
        for task in (self.task, self.global_task):
            if task is not None:
                for sink in task.sinks.values():
                    if sink.topic is None:
                        self._dynamic_sinks = True
                    else:
                        self._sink_topics.add(sink.topic)
                self._sink_topics.update(t for t in task.store_context._changelog_topics.values() if t)

    def _time(self) -> int:
        return self._wall

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> TopologyTestDriver:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.close()
            return
        try:  # a test already failed: close, but never hide the original error behind a close error
            self.close()
        except Exception:  # noqa: BLE001
            log.warning("TopologyTestDriver.close() failed after an earlier error", exc_info=True)

    def close(self) -> None:
        """Final commit, close processors and stores, delete the driver's state directory; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            for task in (self.task, self.global_task):
                if task is not None and task.initialized and not task.closed:
                    task.commit()
            self._capture()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        try:
            for task in (self.task, self.global_task):
                if task is not None:
                    task.close()
        finally:
            if self._owns_state_dir:
                shutil.rmtree(self._state_dir, ignore_errors=True)
            else:  # like Kafka's driver (StateDirectory.clean()): the next driver starts from empty stores
                app_dir = os.path.join(self._state_dir, str(self.config["application.id"]))
                for task in (self.task, self.global_task):
                    if task is not None:
                        shutil.rmtree(task.store_context.state_dir, ignore_errors=True)
                try:
                    os.rmdir(app_dir)
                except OSError:
                    pass

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise DriverClosedError(f"Cannot {what}: this TopologyTestDriver is closed. Create a new driver "
                                    "for each test (e.g. `with TopologyTestDriver(topology, config) as driver:`).")

    # ------------------------------------------------------------------ topics
    def _serde(self, serde: Any, key: str, what: str) -> Any:
        if serde is None:
            serde = self.config.get(key)
            if serde is None:
                raise ConfigError(f"{what}: no serde given and {key} is not set; pass e.g. Serdes.String()")
        if not (hasattr(serde, "serialize") or hasattr(serde, "deserialize")):
            serde = resolve_serde(serde)
        return serde

    def _readable_topics(self) -> list[str]:
        return sorted(self._sink_topics | self._internal | self._source_topics())

    def _source_topics(self) -> set[str]:
        topics: set[str] = set(self._global_topics)
        if self.task is not None:
            topics.update(t for s in self.task.sources.values() for t in s.topics)
        return topics

    def create_input_topic(self, name: str, key_serde: Any = None, value_serde: Any = None,
                           start_timestamp: int | datetime | None = None,
                           auto_advance: Any = 0) -> TestInputTopic[Any, Any]:
        """An input topic; records without a timestamp start at start_timestamp (default: the driver's mocked
        wall clock when the topic is created, as in Kafka 4.1's driver)."""
        self._check_open("create an input topic")
        if not self._consumes(name):
            raise TopologyError(f"Unknown topic: {name}. The topology reads {sorted(self._source_topics())}; "
                                "pipe into one of those (internal topics carry the '<application.id>-' prefix).")
        start = self._wall if start_timestamp is None else to_millis(start_timestamp)
        return TestInputTopic(self, name, self._serde(key_serde, "default.key.serde", f"input topic {name}"),
                              self._serde(value_serde, "default.value.serde", f"input topic {name}"),
                              start, duration_millis(auto_advance))

    def create_output_topic(self, name: str, key_serde: Any = None, value_serde: Any = None
                            ) -> TestOutputTopic[Any, Any]:
        """An output topic reading what sinks (or changelogging stores) wrote to `name`."""
        if not self._dynamic_sinks and name not in self._sink_topics and name not in self._internal \
                and name not in self._outputs:
            raise TopologyError(f"No sink writes to topic {name}: the topology writes to "
                                f"{sorted(self._sink_topics | self._internal)}. Check the topic name, or add a "
                                f"sink (stream.to('{name}') / topology.add_sink(...)).")
        return TestOutputTopic(self, name, self._serde(key_serde, "default.key.serde", f"output topic {name}"),
                               self._serde(value_serde, "default.value.serde", f"output topic {name}"))

    def _consumes(self, topic: str) -> bool:
        return topic in self._global_topics or (self.task is not None and self.task.source_for(topic) is not None)

    def produced_topic_names(self) -> set[str]:
        """Every topic the topology wrote to so far (Kafka's producedTopicNames)."""
        return set(self._produced)

    # ------------------------------------------------------------------ processing
    def _next_offset(self, topic: str) -> int:
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        return offset

    def _pipe_raw(self, topic: str, key: bytes | None, value: bytes | None, timestamp: int, headers: Any) -> None:
        self._check_open("pipe input")
        if topic in self._global_topics:
            self._process_global(topic, key, value, timestamp, headers)
        elif self.task is not None and self.task.source_for(topic) is not None:
            self.task.add_records(topic, 0, [(self._next_offset(topic), timestamp, key, value, headers)])
        else:
            raise TopologyError(f"Unknown topic: {topic}")
        self._complete_all_processable_work()

    def _process_global(self, topic: str, key: bytes | None, value: bytes | None, timestamp: int,
                        headers: Any) -> None:
        task = self.global_task
        assert task is not None
        task.add_records(topic, 0, [(self._next_offset(topic), timestamp, key, value, headers)])
        while task.process():
            pass
        task.commit()

    def _complete_all_processable_work(self) -> None:
        self._capture()
        task = self.task
        if task is None:
            return
        while task.has_records_queued():
            task.process()
            task.maybe_punctuate_stream_time()
            task.commit()
            self._capture()

    def _capture(self) -> None:
        """Move sent records to the output queues; pipe records for topics the topology reads back in."""
        collector = self._collector
        while collector.pending:
            pending, collector.pending = collector.pending, []
            for rec in pending:
                queue = self._outputs.get(rec.topic)
                if queue is None:
                    queue = self._outputs[rec.topic] = deque()
                    self._produced.append(rec.topic)
                queue.append(rec)
                if rec.topic in self._global_topics:
                    self._process_global(rec.topic, rec.key, rec.value, rec.timestamp, rec.headers)
                elif self.task is not None and (rec.topic in self._internal or self.task.source_for(rec.topic)):
                    self.task.add_records(rec.topic, 0, [(self._next_offset(rec.topic), rec.timestamp, rec.key,
                                                          rec.value, rec.headers)])

    def advance_wall_clock_time(self, advance: Any) -> None:
        """Move the mocked wall clock forward (ms or timedelta) and fire due WALL_CLOCK_TIME punctuators."""
        self._check_open("advance the wall clock")
        ms = duration_millis(advance)
        if ms < 0:
            raise ValueError("advance must not be negative")
        self._wall += ms
        if self.task is not None:
            self.task.maybe_punctuate_system_time()
            self.task.commit()
        self._complete_all_processable_work()

    @property
    def wall_clock_time_ms(self) -> int:
        return self._wall

    def _read_raw(self, topic: str) -> SentRecord | None:
        queue = self._outputs.get(topic)
        return queue.popleft() if queue else None

    def _queue_size(self, topic: str) -> int:
        queue = self._outputs.get(topic)
        return len(queue) if queue else 0

    # ------------------------------------------------------------------ stores
    def get_all_state_stores(self) -> dict[str, Any]:
        """Every store by name, global ones included."""
        self._check_open("access state stores")
        stores: dict[str, Any] = {}
        for task in (self.global_task, self.task):
            if task is not None:
                stores.update(task.stores)
        return stores

    def get_state_store(self, name: str) -> Any:
        """The store called name, or None (Kafka returns null for an unknown store)."""
        return self.get_all_state_stores().get(name)

    def _store_of_kind(self, name: str, kind: type, facade: Any = None, plain_kind: type | None = None) -> Any:
        """The store called name if it is a `kind`, seen through `facade` (a timestamped store as a plain one); else
        itself if it is a `plain_kind`; else None (Kafka's typed getters answer null for another kind)."""
        store = self.get_state_store(name)
        if isinstance(store, kind):
            return store if facade is None else facade(store)
        return store if plain_kind is not None and isinstance(store, plain_kind) else None

    def get_key_value_store(self, name: str) -> Any:
        """A KeyValueStore; a timestamped store is viewed with plain values (Kafka's KeyValueStoreFacade)."""
        return self._store_of_kind(name, TimestampedKeyValueStore, KeyValueStoreFacade, KeyValueStore)

    def get_timestamped_key_value_store(self, name: str) -> Any:
        """A TimestampedKeyValueStore (values ValueAndTimestamp), or None."""
        return self._store_of_kind(name, TimestampedKeyValueStore)

    def get_window_store(self, name: str) -> Any:
        """A WindowStore; a timestamped one (what the DSL's windowed aggregations build) is viewed with plain values
        (Kafka's WindowStoreFacade); None for a missing or other kind of store."""
        from pystreams.state.window.metered import MeteredTimestampedWindowStore, MeteredWindowStore

        return self._store_of_kind(name, MeteredTimestampedWindowStore, WindowStoreFacade, MeteredWindowStore)

    def get_timestamped_window_store(self, name: str) -> Any:
        """A TimestampedWindowStore (values ValueAndTimestamp), or None."""
        from pystreams.state.window.metered import MeteredTimestampedWindowStore

        return self._store_of_kind(name, MeteredTimestampedWindowStore)

    def get_session_store(self, name: str) -> Any:
        """A SessionStore (keys Windowed with a SessionWindow), or None."""
        from pystreams.state.session.layers import MeteredSessionStore

        return self._store_of_kind(name, MeteredSessionStore)

    def metrics(self) -> dict[str, int]:
        """Task metrics (process-total, dropped-records-total, punctuate-total, commit-total)."""
        return self.task.metrics.as_dict() if self.task is not None else {}
