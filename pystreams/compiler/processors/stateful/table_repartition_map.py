"""KTableRepartitionMap: KTable.group_by re-keys table updates into subtract/add Changes (Kafka's KTableRepartitionMap)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from pystreams.compiler.processors.stateful._state_types import ValueAndTimestamp, change, is_latest
from pystreams.compiler.processors.stateful.errors import StatefulProcessingError
from pystreams.compiler.processors.stateful.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetter,
    KTableValueGetterSupplier,
)
from pystreams.processor import Processor, ProcessorContext, Record

if TYPE_CHECKING:
    from pystreams.compiler.processors.stateful.table_handle import KTableHandle

KeyValueMapper = Callable[[Any, Any], Any]

# upgrade.from values before 3.5: those versions cannot read a Change carrying both values in one record
_OLD_CHANGE_FORMAT_VERSIONS = frozenset({
    "0.10.0", "0.10.1", "0.10.2", "0.11.0", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
    "2.7", "2.8", "3.0", "3.1", "3.2", "3.3", "3.4",
})


def is_upgrade_from_old_change_format(app_configs: Any) -> bool:
    """Whether `upgrade.from` names a version that needs old and new values in separate records."""
    upgrade_from = app_configs.get("upgrade.from") if app_configs is not None else None
    return upgrade_from is not None and str(upgrade_from) in _OLD_CHANGE_FORMAT_VERSIONS


class KTableRepartitionMap(KTableProcessorSupplier):
    """Supplier of KTABLE-SELECT (table group_by): `selector(key, value) -> (new_key, new_value)`.

    For an update whose old and new pairs share the new key it forwards ONE Change(new, old) keyed by it
    (Kafka >= 3.5); otherwise a subtract Change(None, old) to the old key, then an add Change(new, None)
    to the new key. Pairs that are None or have a None key/value are dropped. It always needs old values:
    the compiler calls parent.enable_sending_old_values(True) when building group_by (KTableImpl.groupBy).
    """

    def __init__(self, parent: KTableHandle, selector: KeyValueMapper) -> None:
        self.parent = parent
        self.selector = selector

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        raise StatefulProcessingError("KTableRepartitionMap should always require sending old values.")

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        return _KTableMapProcessor(self.selector)

    def view(self) -> KTableValueGetterSupplier:
        return _RepartitionMapValueGetterSupplier(self.selector, self.parent.value_getter_supplier())

    def __repr__(self) -> str:
        return "KTableRepartitionMap()"


def _pair(selector: KeyValueMapper, key: Any, value: Any) -> tuple[Any, Any] | None:
    if value is None:
        return None
    result = selector(key, value)
    if result is None:
        return None
    try:
        new_key, new_value = result
    except (TypeError, ValueError):
        raise StatefulProcessingError(
            f"KTable group_by selector must return a (key, value) pair, got {result!r}") from None
    return new_key, new_value


class _KTableMapProcessor(Processor[Any, Any, Any, Any]):
    def __init__(self, selector: KeyValueMapper) -> None:
        self._selector = selector
        self._is_not_upgrade = True

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        self._is_not_upgrade = not is_upgrade_from_old_change_format(context.app_configs())

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None:
            raise StatefulProcessingError("Record key for the grouping KTable should not be null.")
        chg = record.value
        latest = is_latest(chg)
        new_pair = _usable(_pair(self._selector, record.key, chg.new_value))
        old_pair = _usable(_pair(self._selector, record.key, chg.old_value))
        if self._is_not_upgrade and old_pair is not None and new_pair is not None and old_pair[0] == new_pair[0]:
            self._context.forward(record.with_key(old_pair[0]).with_value(change(new_pair[1], old_pair[1], latest)))
            return
        if old_pair is not None:
            self._context.forward(record.with_key(old_pair[0]).with_value(change(None, old_pair[1], latest)))
        if new_pair is not None:
            self._context.forward(record.with_key(new_pair[0]).with_value(change(new_pair[1], None, latest)))


def _usable(pair: tuple[Any, Any] | None) -> tuple[Any, Any] | None:
    """The pair when both its key and value are set (Kafka drops the others)."""
    if pair is None or pair[0] is None or pair[1] is None:
        return None
    return pair


class _RepartitionMapValueGetterSupplier(KTableValueGetterSupplier):
    """Getters that map the parent's value to the (new_key, new_value) pair; no store of its own."""

    def __init__(self, selector: KeyValueMapper, parent: KTableValueGetterSupplier) -> None:
        self._selector = selector
        self._parent = parent

    def get(self) -> KTableValueGetter:
        return _RepartitionMapValueGetter(self._selector, self._parent.get())

    def store_names(self) -> Sequence[str]:
        raise StatefulProcessingError("Underlying state store not accessible due to repartitioning.")


class _RepartitionMapValueGetter:
    def __init__(self, selector: KeyValueMapper, parent: KTableValueGetter) -> None:
        self._selector = selector
        self._parent = parent

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self._context = context
        self._parent.init(context)

    def get(self, key: Any) -> Any:
        found = self._parent.get(key)
        value = None if found is None else found.value
        pair = self._selector(key, value)
        if pair is None:
            return None
        # Kafka uses the current record timestamp here; our context exposes stream time, the closest we have
        timestamp = found.timestamp if found is not None else self._context.current_stream_time_ms()
        return ValueAndTimestamp(pair, timestamp)

    def close(self) -> None:
        self._parent.close()
