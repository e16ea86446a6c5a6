"""The context each processor node gets: bound to its node, so forward() always reaches that node's children."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

from pystreams.errors import PystreamsError
from pystreams.processor.api import (Cancellable, FixedKeyProcessorContext, Interval, ProcessorContext,
                                     PunctuationType, Punctuator, interval_ms)
from pystreams.processor.internals.chain import EmitFields, plain_change_fields
from pystreams.processor.internals.errors import StoreNotConnectedError, StreamsException
from pystreams.processor.record import FixedKeyRecord, RecordMetadata
from pystreams.processor.task_id import TaskId
from pystreams.state.context import RecordContext

if TYPE_CHECKING:
    from pystreams.processor.internals.task import StreamTask

Child = Callable[[Any], None]


class ProcessorContextImpl(ProcessorContext[Any, Any], FixedKeyProcessorContext[Any, Any]):
    """Kafka's ProcessorContextImpl for one node of one task."""

    def __init__(self, task: StreamTask, node_name: str, store_names: list[str]) -> None:
        self._task = task
        self._sctx = task.store_context
        self.node_name = node_name
        self._store_names = frozenset(store_names)
        self._children: list[Child] = []
        self._by_name: dict[str, Child] = {}

    def add_child(self, name: str, child: Child) -> None:
        self._children.append(child)
        self._by_name[name] = child

    # ---- forwarding (hot path)
    def forward(self, record: Any, child_name: str | None = None) -> None:
        sctx = self._sctx
        prev = sctx.record_context
        if child_name is None and record.timestamp == prev.timestamp and record.headers is prev.headers:
            # the common case: same timestamp and headers, so the record context stays as it is
            for child in self._children:
                child(record)
            return
        if record.timestamp != prev.timestamp or record.headers is not prev.headers:
            # downstream stores and sinks see the forwarded record's timestamp and headers (Kafka)
            sctx.record_context = RecordContext(record.timestamp, prev.offset, prev.topic, prev.partition,
                                                record.headers)
        try:
            if child_name is None:
                for child in self._children:
                    child(record)
            else:
                named = self._by_name.get(child_name)
                if named is None:
                    raise StreamsException(
                        f"Unknown downstream node: {child_name} either does not exist or is not connected to "
                        f"this processor ({self.node_name}); its children are {list(self._by_name)}")
                named(record)
        finally:
            sctx.record_context = prev

    def plain_change_forwarder(self, rewrap: Callable[[Any], Any]) -> EmitFields | None:
        """fields(key, new value, timestamp, headers): what forward(Record(key, rewrap(new value), timestamp,
        headers)) does, when this node's only child is a fused chain starting with KTable.to_stream()
        (chain.plain_change_fields), else None. Valid only while the record context's timestamp and headers are
        the forwarded ones (then forward() leaves the record context as it is): a store's cache flush that sets
        each entry's record context checks that per entry and calls forward() otherwise."""
        if len(self._children) != 1:
            return None
        return plain_change_fields(self._children[0], rewrap)

    # ---- identity and config
    @property
    def application_id(self) -> str:
        return self._task.application_id

    @property
    def task_id(self) -> TaskId:
        return self._task.id  # type: ignore[no-any-return]

    def app_configs(self) -> Mapping[str, Any]:
        return self._task.configs

    @property
    def key_serde(self) -> Any:
        return self._task.default_key_serde

    @property
    def value_serde(self) -> Any:
        return self._task.default_value_serde

    @property
    def state_dir(self) -> str:
        return self._sctx.state_dir

    def metrics(self) -> Any:
        """The task's metrics (record_dropped() for processors that drop records on purpose)."""
        return self._task.metrics

    # ---- time and punctuation
    def schedule(self, interval: Interval, punctuation_type: PunctuationType, callback: Punctuator) -> Cancellable:
        ms = interval_ms(interval)
        if ms < 1:
            raise ValueError("The minimum supported scheduling interval is 1 millisecond.")
        if not isinstance(punctuation_type, PunctuationType):
            raise TypeError(f"punctuation_type must be PunctuationType.STREAM_TIME or WALL_CLOCK_TIME, "
                            f"got {punctuation_type!r}")
        if not callable(callback):
            raise TypeError(f"punctuator of {self.node_name} must be callable(timestamp_ms)")
        return self._task.schedule(self.node_name, ms, punctuation_type, callback)

    def current_stream_time_ms(self) -> int:
        return self._task.stream_time

    def current_system_time_ms(self) -> int:
        return self._task.time()

    # ---- processor metadata (Kafka's InternalProcessorContext.processorMetadataForKey / addProcessorMetadataKeyValue)
    def processor_metadata_for_key(self, key: str) -> int | None:
        """The task's committed-and-restored value under `key`, None if none: how a processor's progress (an
        emit-final aggregate's last emitted window-close time) survives a restart or a task move."""
        return self._task.processor_metadata.get(key)

    def add_processor_metadata_key_value(self, key: str, value: int) -> None:
        """Record `value` under `key`; committed with every input partition's offset metadata from now on."""
        self._task.processor_metadata[key] = value

    # ---- stores, metadata, commit
    def get_state_store(self, name: str) -> Any:
        task = self._task
        global_store = task.global_stores.get(name)
        if global_store is not None:
            return global_store
        if name not in self._store_names:
            if name in task.stores:
                raise StoreNotConnectedError(
                    f"Processor {self.node_name} has no access to StateStore {name} as the store is not "
                    f"connected to the processor. Connect it: topology.add_state_store(builder, "
                    f"'{self.node_name}') or topology.connect_processor_and_state_stores('{self.node_name}', "
                    f"'{name}'); in the DSL pass the store name to process()/process_values(), or give the "
                    f"supplier a stores() method returning its StoreBuilders.")
            raise StoreNotConnectedError(
                f"Processor {self.node_name} asked for StateStore {name}, but no store of that name is in the "
                f"topology (stores: {sorted(task.stores)}). Add it with topology.add_state_store(builder, "
                f"'{self.node_name}').")
        return task.stores[name]

    def record_metadata(self) -> RecordMetadata | None:
        # outside process() (init, punctuators) Kafka 4.1's driver answers (None, -1, -1), not empty
        rc = self._sctx.record_context
        return RecordMetadata(rc.topic, rc.partition, rc.offset)

    def commit(self) -> None:
        self._task.commit_requested = True

    def __repr__(self) -> str:
        return f"ProcessorContext(task={self._task.id}, node={self.node_name})"


class FixedKeyProcessorContextImpl(ProcessorContextImpl):
    """The context of a FixedKeyProcessor: only FixedKeyRecords may be forwarded, so keys cannot change."""

    def forward(self, record: Any, child_name: str | None = None) -> None:
        if type(record) is not FixedKeyRecord:
            raise StreamsException(
                f"FixedKeyProcessor {self.node_name} forwarded a {type(record).__name__}: forward the "
                "FixedKeyRecord you received, changed with with_value()/with_timestamp()/with_headers(); use a "
                "Processor (process() instead of process_values()) to change keys.")
        super().forward(record, child_name)

    def plain_change_forwarder(self, rewrap: Callable[[Any], Any]) -> EmitFields | None:
        """None: every forward is checked for being a FixedKeyRecord."""
        return None


def wrap_user_error(e: Exception, task: StreamTask, node: str) -> PystreamsError:
    """Kafka's 'Exception caught in process' with task, node and record coordinates."""
    rc = task.store_context.record_context
    return StreamsException(
        f"Exception caught in process. taskId={task.id}, processor={node}, topic={rc.topic}, "
        f"partition={rc.partition}, offset={rc.offset}: {type(e).__name__}: {e}")
