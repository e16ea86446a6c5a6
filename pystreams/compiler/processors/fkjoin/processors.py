"""The five processors of Kafka's foreign-key table join (foreignkeyjoin.*ProcessorSupplier), same semantics:

left table -> SubscriptionSend -> subscription topic (keyed by fk) -> SubscriptionReceive (subscription store,
keyed {fk}{pk}) -> SubscriptionJoin (looks up the foreign table) -> response topic (keyed by pk);
foreign table -> ForeignTableJoin (prefix scan of the subscription store) -> response topic;
response topic -> ResponseJoin (drops responses whose value hash is stale, joins) -> result KTableSource.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.compiler.processors.fkjoin.murmur3 import hash128
from pystreams.compiler.processors.fkjoin.wrappers import (SUBSCRIPTION_VERSION, CombinedKeySchema, Instruction,
                                                           SubscriptionResponseWrapper, SubscriptionWrapper,
                                                           increment)
from pystreams.compiler.processors.stateful._state_types import change
from pystreams.compiler.processors.stateful.forwarding import log_skipped, record_dropped
from pystreams.errors import SerdeError, TopologyError
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.state import ValueAndTimestamp

I = Instruction


def _value_hash(serde: Any, topic: str, value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if serde is None:
        raise SerdeError("The foreign-key join needs the left table's value serde to hash its values: set "
                         "default.value.serde or give the table a value serde.")
    return hash128(serde.serialize(topic, value) or b"")


class SubscriptionSendProcessorSupplier:
    """Left-table changes -> subscription (un)registrations keyed by the old/new foreign key."""

    def __init__(self, fk_extractor: Callable[[Any, Any], Any], fk_serde: Any, value_serde: Any,
                 left_join: bool, fk_topic: str, vh_topic: str) -> None:
        self.fk_extractor, self.fk_serde, self.value_serde = fk_extractor, fk_serde, value_serde
        self.left_join, self.fk_topic, self.vh_topic = left_join, fk_topic, vh_topic

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SubscriptionSend(self)


class _SubscriptionSend(Processor[Any, Any, Any, Any]):
    def __init__(self, s: SubscriptionSendProcessorSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.fk_serde = self.s.fk_serde if self.s.fk_serde is not None else context.key_serde
        self.value_serde = self.s.value_serde if self.s.value_serde is not None else context.value_serde

    def _fk_bytes(self, fk: Any) -> bytes | None:
        if fk is None:
            return None
        if self.fk_serde is None:
            raise SerdeError("The foreign-key join needs the foreign key serde: give the foreign table a key "
                             "serde or set default.key.serde.")
        return self.fk_serde.serialize(self.s.fk_topic, fk)

    def process(self, record: Record[Any, Any]) -> None:
        self.hash: Any = False  # not computed yet
        new, old = record.value.new_value, record.value.old_value
        extract = self.s.fk_extractor
        if self.s.left_join:
            if old is not None:
                old_fk = extract(record.key, old)
                new_fk = None if new is None else extract(record.key, new)
                if old_fk is not None and self._fk_bytes(new_fk) != self._fk_bytes(old_fk):
                    self._forward(record, old_fk, I.DELETE_KEY_NO_PROPAGATE)
                self._forward(record, new_fk, I.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)
            elif new is not None:
                self._forward(record, extract(record.key, new), I.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)
            return
        if old is not None:
            old_fk = extract(record.key, old)
            new_fk = None if new is None else extract(record.key, new)
            if old_fk is None and new_fk is None:
                self._skip()
            elif old_fk is None:
                self._forward(record, new_fk, I.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE)
            elif new_fk is None:
                self._forward(record, old_fk, I.DELETE_KEY_AND_PROPAGATE)
            elif self._fk_bytes(new_fk) != self._fk_bytes(old_fk):
                self._forward(record, old_fk, I.DELETE_KEY_NO_PROPAGATE)
                self._forward(record, new_fk, I.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)
            else:
                self._forward(record, new_fk, I.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE)
        elif new is not None:
            new_fk = extract(record.key, new)
            if new_fk is None:
                self._skip()
            else:
                self._forward(record, new_fk, I.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE)

    def _skip(self) -> None:
        log_skipped(self.context, "null foreign key")
        record_dropped(self.context)

    def _forward(self, record: Record[Any, Any], fk: Any, instruction: Instruction) -> None:
        if self.hash is False:
            self.hash = _value_hash(self.value_serde, self.s.vh_topic, record.value.new_value)
        metadata = self.context.record_metadata()
        partition = metadata.partition if metadata is not None else -1
        wrapper = SubscriptionWrapper(self.hash, instruction, record.key, partition)
        self.context.forward(record.with_key(fk).with_value(wrapper))


class SubscriptionReceiveProcessorSupplier:
    """Subscriptions -> the subscription store ({fk}{pk} -> wrapper) and Change(new, old) of the subscription."""

    def __init__(self, store_name: str, schema: CombinedKeySchema) -> None:
        self.store_name, self.schema = store_name, schema

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SubscriptionReceive(self)


class _SubscriptionReceive(Processor[Any, Any, Any, Any]):
    def __init__(self, s: SubscriptionReceiveProcessorSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.s.schema.init(context)

    def process(self, record: Record[Any, Any]) -> None:
        wrapper: SubscriptionWrapper = record.value
        if record.key is None and wrapper.instruction != I.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE:
            log_skipped(self.context, "null foreign key")
            record_dropped(self.context)
            return
        if wrapper.version > SUBSCRIPTION_VERSION:
            raise TopologyError("SubscriptionWrapper is of an incompatible version.")
        new = ValueAndTimestamp(wrapper, record.timestamp)
        if record.key is None:
            value = change(new, None)
        else:
            key_bytes = self.s.schema.to_bytes(record.key, wrapper.primary_key)
            old = self.store.get(key_bytes)
            if wrapper.instruction in (I.DELETE_KEY_AND_PROPAGATE, I.DELETE_KEY_NO_PROPAGATE):
                self.store.delete(key_bytes)
            else:
                self.store.put(key_bytes, new)
            value = change(new, old)
        self.context.forward(record.with_key((record.key, wrapper.primary_key)).with_value(value)
                             .with_timestamp(record.timestamp))


class SubscriptionJoinProcessorSupplier:
    """A subscription joined with the foreign table's current value -> response keyed by the primary key."""

    def __init__(self, foreign_getter: Any) -> None:
        self.foreign_getter = foreign_getter

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _SubscriptionJoin(self)


class _SubscriptionJoin(Processor[Any, Any, Any, Any]):
    def __init__(self, s: SubscriptionJoinProcessorSupplier) -> None:
        self.getter = s.foreign_getter.get()

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.getter.init(context)

    def process(self, record: Record[Any, Any]) -> None:
        fk, pk = record.key
        vat = record.value.new_value
        wrapper: SubscriptionWrapper = vat.value
        if wrapper.version > SUBSCRIPTION_VERSION:
            raise TopologyError("SubscriptionWrapper is of an incompatible version.")
        foreign = None if fk is None else self.getter.get(fk)
        ts = vat.timestamp if foreign is None else max(vat.timestamp, foreign.timestamp)
        instruction = wrapper.instruction
        if instruction == I.DELETE_KEY_NO_PROPAGATE:
            return
        if instruction == I.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE and foreign is None:
            return
        value = None if instruction == I.DELETE_KEY_AND_PROPAGATE or foreign is None else foreign.value
        response = SubscriptionResponseWrapper(wrapper.hash, value, wrapper.primary_partition)
        self.context.forward(record.with_key(pk).with_value(response).with_timestamp(ts))


class ForeignTableJoinProcessorSupplier:
    """Foreign-table changes -> one response per subscriber of that foreign key (prefix scan)."""

    def __init__(self, store_name: str, schema: CombinedKeySchema) -> None:
        self.store_name, self.schema = store_name, schema

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _ForeignTableJoin(self)


class _ForeignTableJoin(Processor[Any, Any, Any, Any]):
    def __init__(self, s: ForeignTableJoinProcessorSupplier) -> None:
        self.s = s

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.store = context.get_state_store(self.s.store_name)
        self.s.schema.init(context)

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None:
            log_skipped(self.context, "null key")
            record_dropped(self.context)
            return
        prefix = self.s.schema.prefix_bytes(record.key)
        matches = []
        with _closing(self.store.range(prefix, increment(prefix))) as it:
            for key, vat in it:
                if key[:len(prefix)] == prefix[:len(key)]:
                    matches.append((key, vat))
        for key, vat in matches:
            _, pk = self.s.schema.from_bytes(key)
            wrapper: SubscriptionWrapper = vat.value
            response = SubscriptionResponseWrapper(wrapper.hash, record.value.new_value, wrapper.primary_partition)
            self.context.forward(record.with_key(pk).with_value(response))


class _closing:
    def __init__(self, it: Any) -> None:
        self.it = it

    def __enter__(self) -> Any:
        return self.it

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self.it, "close", None)
        if close is not None:
            close()


class ResponseJoinProcessorSupplier:
    """Responses -> the join result, when the response's hash still matches the left row's current value."""

    def __init__(self, this_getter: Any, value_serde: Any, vh_topic: str, joiner: Callable[[Any, Any], Any],
                 left_join: bool) -> None:
        self.this_getter, self.value_serde, self.vh_topic = this_getter, value_serde, vh_topic
        self.joiner, self.left_join = joiner, left_join

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _ResponseJoin(self)


class _ResponseJoin(Processor[Any, Any, Any, Any]):
    def __init__(self, s: ResponseJoinProcessorSupplier) -> None:
        self.s = s
        self.getter = s.this_getter.get()

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context
        self.getter.init(context)
        self.value_serde = self.s.value_serde if self.s.value_serde is not None else context.value_serde

    def process(self, record: Record[Any, Any]) -> None:
        response: SubscriptionResponseWrapper = record.value
        if response.version != 0:
            raise TopologyError("SubscriptionResponseWrapper is of an incompatible version.")
        current = self.getter.get(record.key)
        current_hash = None if current is None else _value_hash(self.value_serde, self.s.vh_topic, current.value)
        if _as_tuple(response.original_value_hash) != _as_tuple(current_hash):
            record_dropped(self.context)  # stale: the left row changed since this subscription
            return
        if response.foreign_value is None and (not self.s.left_join or current is None):
            result = None
        else:
            result = self.s.joiner(None if current is None else current.value, response.foreign_value)
        self.context.forward(record.with_value(result))


def _as_tuple(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))
