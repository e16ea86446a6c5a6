"""KTable[K, V] and GlobalKTable[K, V]: changelog views (Kafka's KTableImpl naming and wiring)."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, overload

from pystreams.dsl import arity
from pystreams.dsl.options import Grouped, Materialized, Named, materialized_and_name, named_of
from pystreams.graph import StoreSpec, TableOpNode

if TYPE_CHECKING:
    from pystreams.dsl.builder import StreamsBuilder
    from pystreams.dsl.grouped import KGroupedTable
    from pystreams.dsl.kstream import KStream

K = TypeVar("K")
V = TypeVar("V")
KR = TypeVar("KR")
VR = TypeVar("VR")

FILTER_NAME = "KTABLE-FILTER-"
MAPVALUES_NAME = "KTABLE-MAPVALUES-"
SELECT_NAME = "KTABLE-SELECT-"
TOSTREAM_NAME = "KTABLE-TOSTREAM-"


class KTable(Generic[K, V]):
    """The latest value per key of a changelog (Kafka's KTable)."""

    def __init__(self, builder: StreamsBuilder, name: str, key_serde: Any, value_serde: Any) -> None:
        self._builder = builder
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde

    def __repr__(self) -> str:
        return f"KTable({self.name})"

    @property
    def queryable_store_name(self) -> str | None:
        """The store name when the user materialized this table by name, else None."""
        node = self._builder.node(self.name)
        store: StoreSpec | None = getattr(node, "store", None)
        return store.name if store is not None and store.queryable else None

    def _materialization(self, materialized: Materialized[Any, Any] | None,
                         prefix: str) -> StoreSpec | None:
        """Kafka: with Materialized but no name, burn a store name and do not materialize."""
        if materialized is None:
            return None
        if materialized.store_name is None:
            self._builder.new_store_name(prefix)
            return None
        return self._builder.store_spec(materialized, None)

    def filter(self, predicate: Callable[[K, V], bool], named: Named | str | Materialized[K, V] | None = None,
               materialized: Materialized[K, V] | None = None) -> KTable[K, V]:
        """Rows for which predicate(key, value) holds; others become deletes downstream."""
        return self._filter(predicate, named, materialized, "filter")

    def filter_not(self, predicate: Callable[[K, V], bool],
                   named: Named | str | Materialized[K, V] | None = None,
                   materialized: Materialized[K, V] | None = None) -> KTable[K, V]:
        """Rows for which predicate(key, value) does not hold."""
        return self._filter(predicate, named, materialized, "filter_not")

    def _filter(self, predicate: Any, named: Any, materialized: Any, op: str) -> KTable[K, V]:
        arity.check(predicate, 2, f"KTable.{op}", "predicate(key, value) -> bool")
        mat, name_arg = materialized_and_name(named, materialized)
        store = self._materialization(mat, FILTER_NAME)
        key_serde = mat.key_serde if mat is not None and mat.key_serde is not None else self.key_serde
        value_serde = mat.value_serde if mat is not None and mat.value_serde is not None else self.value_serde
        if store is not None:
            store = replace(store, key_serde=key_serde, value_serde=value_serde)
        name = self._builder.named_or_generate(name_arg, FILTER_NAME)
        self._builder.add_node(TableOpNode(name, (self.name,), op=op, fn=predicate, store=store))
        return KTable(self._builder, name, key_serde, value_serde)

    @overload
    def map_values(self, mapper: Callable[[V], VR], named: Named | str | Materialized[K, VR] | None = None,
                   materialized: Materialized[K, VR] | None = None) -> KTable[K, VR]: ...

    @overload
    def map_values(self, mapper: Callable[[K, V], VR],
                   named: Named | str | Materialized[K, VR] | None = None,
                   materialized: Materialized[K, VR] | None = None) -> KTable[K, VR]: ...

    def map_values(self, mapper: Callable[..., Any], named: Any = None,
                   materialized: Any = None) -> KTable[K, Any]:
        """mapper(value) or mapper(key, value) -> new value per row."""
        with_key = arity.value_or_key_value(mapper, "KTable.map_values", "mapper(value)",
                                            "mapper(key, value)")
        mat, name_arg = materialized_and_name(named, materialized)
        store = self._materialization(mat, MAPVALUES_NAME)
        key_serde = mat.key_serde if mat is not None and mat.key_serde is not None else self.key_serde
        value_serde = mat.value_serde if mat is not None else None
        if store is not None:
            store = replace(store, key_serde=key_serde, value_serde=value_serde)
        name = self._builder.named_or_generate(name_arg, MAPVALUES_NAME)
        fn = mapper if with_key else _with_key(mapper)
        self._builder.add_node(TableOpNode(name, (self.name,), op="map_values", fn=fn, store=store))
        return KTable(self._builder, name, key_serde, value_serde)

    def to_stream(self, mapper: Callable[[K, V], KR] | None = None,
                  named: Named | str | None = None) -> KStream[Any, V]:
        """The table's updates as a stream (deletes arrive as None values)."""
        from pystreams.dsl.kstream import KStream

        if isinstance(mapper, (Named, str)) and named is None:
            mapper, named = None, mapper
        name = self._builder.named_or_generate(named_of(named), TOSTREAM_NAME)
        self._builder.add_node(TableOpNode(name, (self.name,), op="to_stream"))
        stream: KStream[Any, V] = KStream(self._builder, name, self.key_serde, self.value_serde, False)
        if mapper is not None:
            return stream.select_key(mapper)
        return stream

    def join(self, other: KTable[Any, Any], joiner: Callable[..., Any], named: Any = None,
             materialized: Any = None, *options: Any) -> KTable[K, Any]:
        """Inner join of two tables on their keys: joiner(value, other_value). Foreign-key variant:
        join(other, foreign_key_extractor, joiner[, TableJoined][, Materialized])."""
        if callable(named) and not isinstance(named, str):
            from pystreams.dsl import joins

            return joins.foreign_key_join(self, other, joiner, named, (materialized, *options), False)
        return self._join(other, joiner, named, materialized, False, False)

    def left_join(self, other: KTable[Any, Any], joiner: Callable[..., Any], named: Any = None,
                  materialized: Any = None, *options: Any) -> KTable[K, Any]:
        """Left join of two tables (other_value None when the key is missing there). Foreign-key variant:
        left_join(other, foreign_key_extractor, joiner[, TableJoined][, Materialized])."""
        if callable(named) and not isinstance(named, str):
            from pystreams.dsl import joins

            return joins.foreign_key_join(self, other, joiner, named, (materialized, *options), True)
        return self._join(other, joiner, named, materialized, True, False)

    def outer_join(self, other: KTable[K, Any], joiner: Callable[[Any, Any], VR], named: Any = None,
                   materialized: Any = None) -> KTable[K, VR]:
        """Outer join of two tables (either value may be None)."""
        return self._join(other, joiner, named, materialized, True, True)

    def _join(self, other: Any, joiner: Any, named: Any, materialized: Any, left: bool,
              outer: bool) -> KTable[K, Any]:
        from pystreams.dsl import joins

        mat, name_arg = materialized_and_name(named, materialized)
        return joins.table_table_join(self, other, joiner, name_arg, mat, left, outer)

    def suppress(self, suppressed: Any) -> KTable[K, V]:
        """Hold back updates (e.g. Suppressed.until_window_closes(...)) as Kafka's suppress does."""
        from pystreams.dsl import windowed

        return windowed.suppress(self, suppressed)

    def group_by(self, selector: Callable[[K, V], tuple[KR, VR]],
                 grouped: Grouped[KR, VR] | None = None) -> KGroupedTable[KR, VR]:
        """Re-key rows with selector(key, value) -> (new_key, new_value) for a table aggregation."""
        from pystreams.dsl.grouped import KGroupedTable

        arity.check(selector, 2, "KTable.group_by", "selector(key, value) -> (new_key, new_value)")
        grouped = grouped or Grouped()
        name = self._builder.named_or_generate(grouped.name, SELECT_NAME)
        self._builder.add_node(TableOpNode(name, (self.name,), key_changing=True, op="select", fn=selector))
        return KGroupedTable(self._builder, name, grouped)


def _with_key(mapper: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def with_key(_key: Any, value: Any) -> Any:
        return mapper(value)

    with_key.__qualname__ = getattr(mapper, "__qualname__", "mapper")
    return with_key


class GlobalKTable(Generic[K, V]):
    """A table fully replicated on every instance (Kafka's GlobalKTable); joined by streams."""

    def __init__(self, builder: StreamsBuilder, name: str, store_name: str, key_serde: Any,
                 value_serde: Any) -> None:
        self._builder = builder
        self.name = name
        self.queryable_store_name = store_name
        self.key_serde = key_serde
        self.value_serde = value_serde

    def __repr__(self) -> str:
        return f"GlobalKTable({self.queryable_store_name})"
