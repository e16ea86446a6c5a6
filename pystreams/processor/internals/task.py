"""StreamTask: runs the nodes of (part of) a compiled Topology for one task.

The Topology is read through its introspection API only (nodes(), store_builders(), subtopologies(), ...), never
imported. Per input record: pick the queue with the smallest head timestamp, advance stream time, set the
record context, hand the record to its source node, which forwards depth-first to children in the order they
were added. Commit = flush store caches in registration order, then the collector, then the stores.
"""
from __future__ import annotations

import copy
import logging
import os
import time as _time
from typing import Any, Callable, Iterable, Mapping

from pystreams.errors import ConfigError, PystreamsError, TopologyError
from pystreams.processor.api import FixedKeyProcessor, PunctuationType
from pystreams.processor.internals.collector import RecordCollector
from pystreams.processor.internals.context import FixedKeyProcessorContextImpl, ProcessorContextImpl
from pystreams.processor.internals.errors import StreamsException
from pystreams.processor.internals.java_heap import JavaPriorityQueue
from pystreams.processor.internals.nodes import ProcessorRuntime, SinkRuntime, SourceRuntime
from pystreams.processor.internals.read_only import read_only
from pystreams.processor.internals.punctuation import PunctuationQueue, PunctuationSchedule
from pystreams.processor.internals.record_queue import RawRecord, RecordQueue
from pystreams.processor.internals.task_idling import TaskIdling
from pystreams.processor.handlers import resolve_processing_handler, resolve_production_handler
from pystreams.processor.record import Record
from pystreams.processor.timestamps import default_extractor, resolve_timestamp_extractor
from pystreams.serdes import resolve_serde
from pystreams.serdes.handlers import resolve_deserialization_handler
from pystreams.state.context import RecordContext, StateStoreContext
from pystreams.state.internals.cache import ThreadCache

log = logging.getLogger("pystreams.processor.internals")

CACHE_MAX_BYTES_CONFIG = "statestore.cache.max.bytes"
DEFAULT_CACHE_MAX_BYTES = 10 * 1024 * 1024


def cache_max_bytes(configs: Mapping[str, Any]) -> int:
    """statestore.cache.max.bytes (or the deprecated cache.max.bytes.buffering), default 10 MiB."""
    value = configs.get(CACHE_MAX_BYTES_CONFIG, configs.get("cache.max.bytes.buffering", DEFAULT_CACHE_MAX_BYTES))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{CACHE_MAX_BYTES_CONFIG} must be a number of bytes, got {value!r}") from None


class TaskMetrics:
    """Per-task counters with Kafka's meanings (process-total, dropped-records-total, ...)."""

    __slots__ = ("processed", "dropped_records", "punctuations", "commits")

    def __init__(self) -> None:
        self.processed = 0
        self.dropped_records = 0
        self.punctuations = 0
        self.commits = 0

    def record_dropped(self) -> None:
        """A record was skipped on purpose (bad data, null key in an aggregation, ...)."""
        self.dropped_records += 1

    def as_dict(self) -> dict[str, int]:
        return {"process-total": self.processed, "dropped-records-total": self.dropped_records,
                "punctuate-total": self.punctuations, "commit-total": self.commits}


def _where(node: Any, text: str) -> str:
    """Node description for errors, with the DSL operation it came from when the compiler recorded one."""
    origin = getattr(node, "origin", "")
    return f"{text}, from {origin}," if origin else text


def _head_timestamp(queue: RecordQueue) -> int:
    return queue.head[0]  # type: ignore[index]


_new_record = tuple.__new__


def _default_time() -> int:
    return int(_time.time() * 1000)


class StreamTask:
    """One task: its nodes, stores, input queues, stream time and punctuation schedules."""

    def __init__(self, topology: Any, task_id: Any, configs: Mapping[str, Any], collector: RecordCollector, *,
                 state_dir: str, node_names: Iterable[str] | None = None, time: Callable[[], int] = _default_time,
                 cache: ThreadCache | None = None, global_stores: Mapping[str, Any] | None = None,
                 task_dir_name: str | None = None) -> None:
        self.id = task_id
        self.configs = dict(configs)
        app_id = self.configs.get("application.id")
        if not app_id:
            raise ConfigError("application.id is required: it names internal topics and the state directory")
        self.application_id = str(app_id)
        self.collector = collector
        self.time = time
        self.metrics = TaskMetrics()
        self.default_key_serde = self._config_serde("default.key.serde")
        self.default_value_serde = self._config_serde("default.value.serde")
        self.deserialization_handler = resolve_deserialization_handler(self.configs)
        self.processing_handler = resolve_processing_handler(self.configs)
        self.production_handler = resolve_production_handler(self.configs)
        self._default_extractor = default_extractor(self.configs)
        self.topology = topology
        self._internal = set(topology.internal_topics().get("repartition", []))
        self.global_stores: dict[str, Any] = {n: read_only(s) for n, s in (global_stores or {}).items()}
        changelogs = {}
        for store in topology.store_builders():
            topic = topology.changelog_topic(store, self.application_id)
            if topic:
                changelogs[store] = topic
        self.store_context = StateStoreContext(
            self.application_id, task_id,
            os.path.join(state_dir, self.application_id, task_dir_name or str(task_id)),
            self.configs, self.default_key_serde, self.default_value_serde,
            cache if cache is not None else ThreadCache(cache_max_bytes(self.configs)),
            self._send_changelog, changelogs, record_sender=collector.send)
        self.no_record_context = RecordContext()
        self.store_context.record_context = self.no_record_context
        self.stream_time = -1
        self.commit_requested = False
        self._seeded_times: dict[tuple[str, int], int] = {}
        # Kafka's ProcessorMetadata (name -> long, e.g. an emit-final aggregate's last emitted window-close time
        # under its store name): committed with every input partition's offset, restored before it is first read
        self.processor_metadata: dict[str, int] = {}
        self._stream_punctuations = PunctuationQueue(PunctuationType.STREAM_TIME)
        self._system_punctuations = PunctuationQueue(PunctuationType.WALL_CLOCK_TIME)
        self.stores: dict[str, Any] = {}
        self.contexts: dict[str, ProcessorContextImpl] = {}
        self.processors: list[ProcessorRuntime] = []
        self.sources: dict[str, SourceRuntime] = {}
        self.sinks: dict[str, SinkRuntime] = {}
        self._source_by_topic: dict[str, SourceRuntime] = {}
        self._queues: dict[tuple[str, int], RecordQueue] = {}
        self._queue_list: list[RecordQueue] = []
        # non-empty queues by head timestamp, ties broken as Kafka's PartitionGroup (a java PriorityQueue) does
        self._ready: JavaPriorityQueue[RecordQueue] = JavaPriorityQueue(_head_timestamp)
        # max.task.idle.ms (task_idling.py): the runtime sets it for a task with several input partitions;
        # process_batch then stops when a queue empties, so readiness is checked again before the next record
        self.idling: TaskIdling | None = None
        self.initialized = False
        self.closed = False
        self._build(self._select_nodes(node_names))

    # ------------------------------------------------------------------ building
    def _config_serde(self, key: str) -> Any:
        value = self.configs.get(key)
        return None if value is None else resolve_serde(value)

    def physical_topic(self, topic: str) -> str:
        """Internal (repartition) topics get the `<application.id>-` prefix, as in Kafka."""
        return f"{self.application_id}-{topic}" if topic in self._internal else topic

    def _select_nodes(self, node_names: Iterable[str] | None) -> list[Any]:
        nodes = self.topology.nodes()
        if node_names is None:
            wanted = {n for sub in self.topology.subtopologies() for n in sub.node_names}
        else:
            wanted = set(node_names)
        return [n for n in nodes if n.name in wanted]

    def _node_serde(self, serde: Any, is_key: bool, where: str, fix: str) -> Any:
        if serde is not None and not (hasattr(serde, "serialize") and hasattr(serde, "deserialize")):
            serde = resolve_serde(serde)
        if serde is None:
            serde = self.default_key_serde if is_key else self.default_value_serde
        what, key = ("key", "default.key.serde") if is_key else ("value", "default.value.serde")
        if serde is None:
            raise ConfigError(f"{where} has no {what} serde and {key} is not set: pass {what}_serde=... to "
                              f"{fix} (or to the Topology node), or set {key} in the config.")
        set_if_unset = getattr(serde, "set_if_unset", None)
        if callable(set_if_unset):  # wrapping serdes (Kafka's WrappingNullableSerde) take the defaults
            set_if_unset(self.default_key_serde, self.default_value_serde)
            configure = getattr(serde, "configure", None)
            if callable(configure):
                configure(self.configs, is_key)
        return serde

    def _build(self, nodes: list[Any]) -> None:
        runtimes: dict[str, Callable[[Any], None]] = {}
        for node in nodes:
            kind = node.kind
            processor = node.supplier() if kind == "processor" else None
            context_class = (FixedKeyProcessorContextImpl if isinstance(processor, FixedKeyProcessor)
                             else ProcessorContextImpl)
            ctx = context_class(self, node.name, list(getattr(node, "stores", []) or []))
            self.contexts[node.name] = ctx
            if kind == "source":
                topics = [self.physical_topic(t) for t in node.topics]
                where = _where(node, f"Source node {node.name} (topics {topics or node.pattern.pattern})")
                extractor = (resolve_timestamp_extractor(node.timestamp_extractor)
                             if node.timestamp_extractor is not None else self._default_extractor)
                fix = getattr(node, "serde_fix", "") or (
                    "Grouped or Repartitioned" if set(node.topics) & self._internal else "Consumed")
                src = SourceRuntime(node.name, ctx, self._node_serde(node.key_serde, True, where, fix),
                                    self._node_serde(node.value_serde, False, where, fix), extractor,
                                    topics, node.pattern)
                self.sources[node.name] = src
                for t in topics:
                    self._source_by_topic[t] = src
                runtimes[node.name] = src.process
            elif kind == "processor":
                if processor is None or not callable(getattr(processor, "process", None)):
                    raise TopologyError(f"The supplier of processor {node.name} returned {processor!r}: it must "
                                        "return a new Processor (with a process(record) method) on every call.")
                rt = ProcessorRuntime(node.name, processor, ctx, self)
                self.processors.append(rt)
                runtimes[node.name] = rt.process
            elif kind == "sink":
                topic = self.physical_topic(node.topic) if node.topic else None
                where = _where(node, f"Sink node {node.name} (topic {topic or 'chosen by a topic extractor'})")
                fix = getattr(node, "serde_fix", "") or (
                    "Grouped or Repartitioned" if node.topic in self._internal else "Produced")
                sink = SinkRuntime(node.name, self, topic, node.topic_extractor,
                                   self._node_serde(node.key_serde, True, where, fix),
                                   self._node_serde(node.value_serde, False, where, fix), node.partitioner)
                self.sinks[node.name] = sink
                runtimes[node.name] = sink.process
            else:
                raise TopologyError(f"node {node.name} has unknown kind {kind!r}")
        processors = {rt.name: rt for rt in self.processors}
        for node in reversed(nodes):  # children first, so a parent gets its children's direct paths
            ctx = self.contexts[node.name]
            for child in node.children:
                if child in runtimes:
                    ctx.add_child(child, runtimes[child])
            runtime = processors.get(node.name)
            direct = runtime.direct() if runtime is not None else None
            if direct is not None:
                runtimes[node.name] = direct
        self._store_order: list[str] = []
        for node in nodes:
            for store in getattr(node, "stores", []) or []:
                if store not in self._store_order and store not in self.global_stores:
                    self._store_order.append(store)

    def initialize(self) -> None:
        """Open stores (registration order), then init processors in topological order."""
        if self.initialized:
            return
        builders = {**self.topology.global_store_builders(), **self.topology.store_builders()}
        no_cache = cache_max_bytes(self.configs) == 0
        try:
            for name in self._store_order:
                builder = builders.get(name)
                if builder is None:
                    raise TopologyError(f"Store {name} is connected to a processor but was never added: "
                                        f"call topology.add_state_store(builder) for it.")
                if no_cache and getattr(builder, "caching_enabled", False):
                    # Kafka's rewriteTopology: a zero-byte cache means no caching layer at all (a cached
                    # store reads old values differently); copy so the user's builder stays as it was
                    builder = copy.copy(builder).with_caching_disabled()
                store = builder.build()
                store.init(self.store_context, store)
                self.stores[name] = store
            for rt in self.processors:
                rt.init()
        except BaseException:
            self._close_stores()
            raise
        self.initialized = True

    # ------------------------------------------------------------------ restore
    def changelog_topics(self) -> dict[str, str]:
        """store name -> changelog topic, for the stores of this task that log changes."""
        topics = self.store_context._changelog_topics
        return {name: topic for name in self._store_order if (topic := topics.get(name))}

    def _innermost(self, store_name: str) -> Any:
        store = self.stores[store_name]
        store = getattr(store, "wrapped", store)  # a store without layers (the suppression buffer) is its own
        return store.innermost() if hasattr(store, "innermost") else store

    def checkpoint(self, changelog_offsets: Mapping[str, int]) -> None:
        """Record, per store, the changelog offset its data reflects (persistent stores keep it with the data)."""
        for name, offset in changelog_offsets.items():
            writer = getattr(self._innermost(name), "write_changelog_offset", None)
            if writer is not None:
                writer(offset)

    def checkpointed_offsets(self) -> dict[str, int]:
        """store -> changelog offset stored with its data (restore starts after it); absent when unknown."""
        found: dict[str, int] = {}
        for name in self.changelog_topics():
            reader = getattr(self._innermost(name), "changelog_offset", None)
            offset = reader() if reader is not None else None
            if offset is not None:
                found[name] = offset
        return found

    def restore(self, store_name: str, records: list[tuple[bytes, bytes | None, int, int]]) -> None:
        """Write changelog records (key, value or None, timestamp, offset) into a store, before processing."""
        if not self.initialized:
            raise StreamsException(f"Task {self.id}: initialize() before restoring store {store_name}")
        self.store_context.restore(store_name, records)

    # ------------------------------------------------------------------ input
    def source_for(self, topic: str) -> SourceRuntime | None:
        """The source node reading topic (pattern sources match on first use)."""
        src = self._source_by_topic.get(topic)
        if src is None:
            for candidate in self.sources.values():
                if candidate.pattern is not None and candidate.pattern.fullmatch(topic):
                    self._source_by_topic[topic] = src = candidate
                    break
        return src

    def add_records(self, topic: str, partition: int, records: list[RawRecord]) -> None:
        """Buffer consumed records (offset, timestamp, key bytes, value bytes, headers) of one partition."""
        queue = self._queues.get((topic, partition))
        if queue is None:
            queue = self._new_queue(topic, partition)
        was_empty = queue.head is None
        queue.add(records)
        if was_empty and queue.head is not None:
            self._ready.offer(queue)

    def add_messages(self, topic: str, partition: int, messages: list[Any]) -> None:
        """Buffer consumed confluent_kafka Messages of one partition (none with an error): the stream thread's
        hand-over, without copying each Message's fields into a tuple first."""
        queue = self._queues.get((topic, partition))
        if queue is None:
            queue = self._new_queue(topic, partition)
        was_empty = queue.head is None
        queue.add_messages(messages)
        if was_empty and queue.head is not None:
            self._ready.offer(queue)

    def _new_queue(self, topic: str, partition: int) -> RecordQueue:
        src = self.source_for(topic)
        if src is None:
            raise StreamsException(f"Task {self.id} has no source node for topic {topic}")
        queue = self._queues[(topic, partition)] = RecordQueue(self, topic, partition, src)
        self._queue_list.append(queue)
        return queue

    def committable_offsets(self) -> dict[tuple[str, int], int]:
        """(topic, partition) -> offset to commit (last processed + 1, or past trailing skipped records), for
        partitions processed so far."""
        return {(q.topic, q.partition): off for q in self._queue_list if (off := q.committable_offset()) >= 0}

    def partition_time(self, topic: str, partition: int) -> int:
        """Largest timestamp seen on one input partition (-1 unknown): committed as Kafka Streams' offset metadata."""
        queue = self._queues.get((topic, partition))
        return queue.partition_time if queue is not None else self._seeded_times.get((topic, partition), -1)

    def initialize_partition_times(self, metadata: Mapping[tuple[str, int], str | bytes | None]) -> None:
        """StreamTask.initializeTaskTimeAndProcessorMetadata: seed partition times (and stream time = their max)
        from committed offsets' metadata, so stream time survives a hand-over (also from a Java app)."""
        from pystreams.runtime.offset_metadata import decode
        for (topic, partition), md in metadata.items():
            decoded = decode(md)
            ptime = decoded.partition_time
            for key, value in decoded.processor_metadata.items():  # every partition carries the task's map
                if value > self.processor_metadata.get(key, value - 1):
                    self.processor_metadata[key] = value
            self._seeded_times[(topic, partition)] = ptime
            queue = self._queues.get((topic, partition))
            if queue is None and ptime >= 0 and self.source_for(topic) is not None:
                queue = self._new_queue(topic, partition)
            if queue is not None:
                queue.partition_time = ptime
            if ptime > self.stream_time:
                self.stream_time = ptime

    def buffered(self, topic: str, partition: int) -> int:
        """Records buffered for one partition (the runtime pauses a partition above buffered.records.per.partition)."""
        queue = self._queues.get((topic, partition))
        return 0 if queue is None else len(queue)

    def has_records_queued(self) -> bool:
        return len(self._ready) > 0

    def process_batch(self, max_records: int) -> int:
        """Process up to max_records buffered records (no punctuation in between); how many were processed.

        The runtime's hot loop: one Python call per batch instead of per record. While only one queue holds
        records (one input partition, the common case) it is drained without heap work."""
        ready = self._ready
        rc = RecordContext()
        done = 0
        while done < max_records:
            queue = ready.poll()
            if queue is None:
                break
            if not len(ready):
                try:
                    done += queue.drain(rc, max_records - done)
                finally:
                    if queue.head is not None:
                        ready.push_only(queue)
                continue
            head = queue.pop()
            assert head is not None
            if queue.head is not None:
                ready.offer(queue)
            elif self.idling is not None and self.idling.may_wait:  # ran dry: Kafka checks readyToProcess next
                max_records = done + 1
            ts, key, value, headers, offset = head
            queue.next_offset = offset + 1
            if ts > self.stream_time:
                self.stream_time = ts
            rc.timestamp, rc.offset, rc.topic, rc.partition, rc.headers = ts, offset, queue.topic, queue.partition, \
                headers
            self.store_context.record_context = rc
            queue.source.process(_new_record(Record, (key, value, ts, headers)))
            done += 1
        self.metrics.processed += done
        return done

    def process(self) -> bool:
        """Process the next buffered record (smallest head timestamp first); False when nothing is buffered."""
        ready = self._ready
        queue = ready.poll()
        if queue is None:
            return False
        head = queue.pop()
        assert head is not None
        if queue.head is not None:
            if len(ready):
                ready.offer(queue)
            else:  # the only non-empty queue goes straight back (one partition: no heap work)
                ready.push_only(queue)
        ts, key, value, headers, offset = head
        queue.next_offset = offset + 1
        if ts > self.stream_time:
            self.stream_time = ts
        self.store_context.record_context = RecordContext(ts, offset, queue.topic, queue.partition, headers)
        queue.source.process(_new_record(Record, (key, value, ts, headers)))  # no timestamp check: done on input
        self.metrics.processed += 1
        return True

    # ------------------------------------------------------------------ punctuation
    def schedule(self, node: str, interval: int, punctuation_type: PunctuationType,
                 callback: Callable[[int], None]) -> PunctuationSchedule:
        if punctuation_type is PunctuationType.STREAM_TIME:  # aligned to 0: fires on the first record
            return self._stream_punctuations.schedule(PunctuationSchedule(node, 0, interval, callback))
        return self._system_punctuations.schedule(PunctuationSchedule(node, self.time() + interval, interval,
                                                                      callback))

    def maybe_punctuate_stream_time(self) -> bool:
        """Fire due STREAM_TIME punctuators (nothing before the first record: stream time unknown)."""
        if self.stream_time < 0:
            return False
        return self._stream_punctuations.may_punctuate(self.stream_time, self._punctuate)

    def maybe_punctuate_system_time(self) -> bool:
        """Fire due WALL_CLOCK_TIME punctuators."""
        return self._system_punctuations.may_punctuate(self.time(), self._punctuate)

    def _punctuate(self, sched: PunctuationSchedule, now: int, ptype: PunctuationType) -> None:
        sctx = self.store_context
        prev = sctx.record_context
        sctx.record_context = RecordContext(now, -1, None, -1, ())
        try:
            sched.punctuator(now)
        except PystreamsError:
            raise
        except Exception as e:
            raise StreamsException(f"Exception caught while punctuating processor '{sched.node}' "
                                   f"({ptype.name} at {now}) in task {self.id}: {type(e).__name__}: {e}") from e
        finally:
            sctx.record_context = prev
        self.metrics.punctuations += 1

    # ------------------------------------------------------------------ commit / close
    def flush_record_caches(self) -> int:
        """Forward the dirty entries of this task's record caches downstream, stores in registration order, as the
        commit's first step does (the flush writes them to the stores below the cache and their changelogs), and
        nothing else: no collector or store flush, no commit count. Stores without a record cache (a suppression
        buffer, an uncached store) are left alone. Returns how many caches held dirty entries.

        The stream thread calls it when its input ran dry (docs/adr/0006-flush-the-cache-when-input-runs-dry.md):
        Kafka's cache flushes on eviction outside commits too, so downstream sees the same kind of updates, sooner."""
        cache = self.store_context.cache
        named_caches = getattr(cache, "caches", None)
        if not named_caches:
            return 0
        flushed = 0
        for name in self._store_order:
            named = named_caches.get(ThreadCache.name_space(self.id, name))
            store = self.stores.get(name)
            if named is None or not named.dirty or store is None:
                continue
            flush_cache = getattr(store, "flush_cache", None)
            if flush_cache is not None:
                flush_cache()
                flushed += 1
        return flushed

    def commit(self) -> None:
        """Forward cached updates (stores in registration order), flush the collector, flush the stores."""
        stores = [self.stores[n] for n in self._store_order if n in self.stores]
        for store in stores:
            flush_cache = getattr(store, "flush_cache", None)
            if flush_cache is not None:
                flush_cache()
        self.collector.flush()
        for store in stores:
            store.flush()
        self.commit_requested = False
        self.metrics.commits += 1

    def close(self) -> None:
        """Close processors (topological order), then stores; idempotent."""
        if self.closed:
            return
        self.closed = True
        self._stream_punctuations.close()
        self._system_punctuations.close()
        errors: list[BaseException] = []
        if self.initialized:
            for rt in self.processors:
                try:
                    rt.close()
                except Exception as e:  # noqa: BLE001 - close everything, report the first failure
                    errors.append(e)
        self._close_stores()
        if errors:
            raise errors[0]

    def _close_stores(self) -> None:
        for name in self._store_order:
            store = self.stores.get(name)
            if store is not None and store.is_open():
                store.close()

    def _send_changelog(self, topic: str, key: bytes, value: bytes | None, timestamp: int, partition: int,
                        headers: tuple[tuple[str, bytes | None], ...] = ()) -> None:
        self.collector.send(topic, key, value, headers, timestamp, partition)

    def __repr__(self) -> str:
        return f"StreamTask({self.id}, nodes={list(self.contexts)})"
