"""Joins in the DSL with Kafka's naming (KStreamImpl.doJoin / KStreamImplJoin / doStreamTableJoin /
globalTableJoin): stream-stream windowed joins, stream-table and stream-globaltable joins. Nodes are data
only; pystreams.compiler.join_extensions writes them. Joiners take (value, other) or (key, value, other).

    left.join(right, lambda l, r: l + r, JoinWindows.of_time_difference_and_grace(5000, 1000),
              StreamJoined.with_(key_serde, left_serde, right_serde))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pystreams.dsl.windowed import ExtensionNode
from pystreams.dsl.windows import JoinWindows
from pystreams.errors import TopologyError

if TYPE_CHECKING:
    from pystreams.dsl.kstream import KStream
    from pystreams.dsl.ktable import GlobalKTable, KTable

WINDOWED_NAME = "KSTREAM-WINDOWED-"
JOINTHIS_NAME = "KSTREAM-JOINTHIS-"
JOINOTHER_NAME = "KSTREAM-JOINOTHER-"
OUTERTHIS_NAME = "KSTREAM-OUTERTHIS-"
OUTEROTHER_NAME = "KSTREAM-OUTEROTHER-"
OUTERSHARED_NAME = "KSTREAM-OUTERSHARED-"
MERGE_NAME = "KSTREAM-MERGE-"
JOIN_NAME = "KSTREAM-JOIN-"
LEFTJOIN_NAME = "KSTREAM-LEFTJOIN-"


@dataclass(frozen=True)
class StreamJoined:
    """Serdes, store name base and node name base of a stream-stream join (Kafka's StreamJoined)."""

    key_serde: Any = None
    value_serde: Any = None
    other_value_serde: Any = None
    name: str | None = None
    store_name: str | None = None
    logging_enabled: bool = True

    @staticmethod
    def with_(key_serde: Any = None, value_serde: Any = None, other_value_serde: Any = None) -> StreamJoined:
        return StreamJoined(key_serde, value_serde, other_value_serde)

    def with_name(self, name: str) -> StreamJoined:
        return StreamJoined(self.key_serde, self.value_serde, self.other_value_serde, name, self.store_name,
                            self.logging_enabled)

    def with_store_name(self, store_name: str) -> StreamJoined:
        return StreamJoined(self.key_serde, self.value_serde, self.other_value_serde, self.name, store_name,
                            self.logging_enabled)


@dataclass(frozen=True)
class Joined:
    """Serdes and name of a stream-table join (Kafka's Joined)."""

    key_serde: Any = None
    value_serde: Any = None
    other_value_serde: Any = None
    name: str | None = None

    @staticmethod
    def with_(key_serde: Any = None, value_serde: Any = None, other_value_serde: Any = None) -> Joined:
        return Joined(key_serde, value_serde, other_value_serde)

    def with_name(self, name: str) -> Joined:
        return Joined(self.key_serde, self.value_serde, self.other_value_serde, name)


def joiner_with_key(joiner: Callable[..., Any], operator: str) -> Callable[[Any, Any, Any], Any]:
    """ValueJoiner(value, other) or ValueJoinerWithKey(key, value, other) -> (key, value, other)."""
    import inspect

    try:
        params = [p for p in inspect.signature(joiner).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    except (TypeError, ValueError):
        params = []
    if len(params) == 2:
        return lambda key, value, other: joiner(value, other)
    if len(params) == 3:
        return joiner
    raise TopologyError(f"{operator}: joiner must take (value, other_value) or (key, value, other_value)")


@dataclass(frozen=True, eq=False)
class JoinWindowedNode(ExtensionNode):
    """KSTREAM-WINDOWED-n: writes one side into its join window store."""

    store_name: str = ""


@dataclass(frozen=True, eq=False)
class StreamStreamJoinNode(ExtensionNode):
    """The two join nodes + merge (`name` is the merge); parents are the two windowed nodes."""

    this_name: str = ""
    other_name: str = ""
    this_store: str = ""
    other_store: str = ""
    outer_store: str | None = None
    windows: JoinWindows | None = None
    joiner: Any = None
    left_outer: bool = False
    right_outer: bool = False
    key_serde: Any = None
    this_value_serde: Any = None
    other_value_serde: Any = None
    logging_enabled: bool = True
    null_key_relaxed_join: bool = False


@dataclass(frozen=True, eq=False)
class StreamTableJoinNode(ExtensionNode):
    """KSTREAM-JOIN-n / KSTREAM-LEFTJOIN-n reading a table (or global table) through its value getter."""

    table: str = ""
    global_store: str | None = None
    joiner: Any = None
    left_join: bool = False
    key_selector: Any = None
    null_key_relaxed_join: bool = False


def _repartition_for_join(stream: KStream[Any, Any], name: str, key_serde: Any, value_serde: Any) -> KStream[Any, Any]:
    from pystreams.dsl.kstream import KStream
    from pystreams.dsl.repartition import repartition_node

    node = repartition_node(stream._builder, stream.name, name, key_serde or stream.key_serde,
                            value_serde or stream.value_serde)
    stream._builder.add_node(node)
    return KStream(stream._builder, node.name, key_serde or stream.key_serde, value_serde or stream.value_serde)


def stream_stream_join(this: KStream[Any, Any], other: KStream[Any, Any], joiner: Callable[..., Any],
                       windows: JoinWindows, stream_joined: StreamJoined | None, left_outer: bool,
                       right_outer: bool) -> KStream[Any, Any]:
    """KStream.join/left_join/outer_join(KStream): Kafka's KStreamImplJoin wiring and names."""
    from pystreams.dsl.kstream import KStream

    op = "outer_join" if right_outer else "left_join" if left_outer else "join"
    if not isinstance(windows, JoinWindows):
        raise TopologyError(f"KStream.{op}(KStream) needs JoinWindows, got {windows!r}")
    if getattr(other, "_builder", None) is not this._builder:
        raise TopologyError(f"KStream.{op}: both streams must come from the same StreamsBuilder.")
    fn = joiner_with_key(joiner, f"KStream.{op}")
    sj = stream_joined or StreamJoined()
    builder = this._builder
    if this.repartition_required:
        this = _repartition_for_join(this, f"{sj.name}-left" if sj.name else this.name, sj.key_serde, sj.value_serde)
    if other.repartition_required:
        other = _repartition_for_join(other, f"{sj.name}-right" if sj.name else other.name, sj.key_serde,
                                      sj.other_value_serde)
    this_suffix = "-outer-this-join" if right_outer else "-this-join"
    other_suffix = "-outer-other-join" if left_outer else "-other-join"
    this_windowed = builder.suffixed_or_generate(sj.name, "-this-windowed", WINDOWED_NAME)
    other_windowed = builder.suffixed_or_generate(sj.name, "-other-windowed", WINDOWED_NAME)
    this_generated = builder.new_processor_name(OUTERTHIS_NAME if right_outer else JOINTHIS_NAME)
    other_generated = builder.new_processor_name(OUTEROTHER_NAME if left_outer else JOINOTHER_NAME)
    this_name = sj.name + this_suffix if sj.name else this_generated
    other_name = sj.name + other_suffix if sj.name else other_generated
    merge = builder.suffixed_or_generate(sj.name, "-merge", MERGE_NAME)
    base = sj.store_name
    this_store = (base + this_suffix if base else this_generated) + "-store"
    other_store = (base + other_suffix if base else other_generated) + "-store"
    outer_store = None
    if left_outer:
        shared = "-outer-shared-join" if right_outer else "-left-shared-join"
        outer_store = (base + shared if base else OUTERSHARED_NAME + this_generated[-10:]) + "-store"
    # Kafka takes serdes from StreamJoined only (None = default.key.serde / default.value.serde)
    key_serde, this_serde, other_serde = sj.key_serde, sj.value_serde, sj.other_value_serde
    builder.add_node(JoinWindowedNode(this_windowed, (this.name,), store_name=this_store))
    builder.add_node(JoinWindowedNode(other_windowed, (other.name,), store_name=other_store))
    builder.add_node(StreamStreamJoinNode(
        merge, (this_windowed, other_windowed), this_name=this_name, other_name=other_name, this_store=this_store,
        other_store=other_store, outer_store=outer_store, windows=windows, joiner=fn, left_outer=left_outer,
        right_outer=right_outer, key_serde=key_serde, this_value_serde=this_serde, other_value_serde=other_serde,
        logging_enabled=sj.logging_enabled, null_key_relaxed_join=left_outer or right_outer))
    return KStream(builder, merge, key_serde, None)


def stream_table_join(stream: KStream[Any, Any], table: KTable[Any, Any], joiner: Callable[..., Any],
                      joined: Joined | None, left_join: bool) -> KStream[Any, Any]:
    """KStream.join/left_join(KTable): KSTREAM-JOIN-n / KSTREAM-LEFTJOIN-n (repartitioned first if needed)."""
    from pystreams.dsl.kstream import KStream

    op = "left_join" if left_join else "join"
    if getattr(table, "_builder", None) is not stream._builder:
        raise TopologyError(f"KStream.{op}: the stream and the table must come from the same StreamsBuilder.")
    fn = joiner_with_key(joiner, f"KStream.{op}(KTable)")
    jd = joined or Joined()
    if stream.repartition_required:
        stream = _repartition_for_join(stream, jd.name or stream.name, jd.key_serde, jd.value_serde)
    builder = stream._builder
    name = builder.named_or_generate(jd.name, LEFTJOIN_NAME if left_join else JOIN_NAME)
    builder.add_node(StreamTableJoinNode(name, (stream.name,), table=table.name, joiner=fn, left_join=left_join,
                                         null_key_relaxed_join=left_join))
    return KStream(builder, name, stream.key_serde, None)


def stream_global_table_join(stream: KStream[Any, Any], table: GlobalKTable[Any, Any],
                             key_selector: Callable[[Any, Any], Any], joiner: Callable[..., Any],
                             named: str | None, left_join: bool) -> KStream[Any, Any]:
    """KStream.join/left_join(GlobalKTable, key_selector, joiner): named KSTREAM-LEFTJOIN-n for both, as
    Kafka names them."""
    from pystreams.dsl.kstream import KStream

    op = "left_join" if left_join else "join"
    fn = joiner_with_key(joiner, f"KStream.{op}(GlobalKTable)")
    builder = stream._builder
    name = builder.named_or_generate(named, LEFTJOIN_NAME)
    builder.add_node(StreamTableJoinNode(name, (stream.name,), global_store=table.queryable_store_name, joiner=fn,
                                         left_join=left_join, key_selector=key_selector))
    return KStream(builder, name, stream.key_serde, None, stream.repartition_required)


TABLE_JOINTHIS_NAME = "KTABLE-JOINTHIS-"
TABLE_JOINOTHER_NAME = "KTABLE-JOINOTHER-"
TABLE_MERGE_NAME = "KTABLE-MERGE-"


@dataclass(frozen=True, eq=False)
class TableTableJoinNode(ExtensionNode):
    """KTable-KTable join: this/other join nodes + merge (`name`); parents are the two tables."""

    this_name: str = ""
    other_name: str = ""
    joiner: Any = None
    left_outer: bool = False
    right_outer: bool = False
    store: Any = None  # StoreSpec when materialized


def table_table_join(this: KTable[Any, Any], other: KTable[Any, Any], joiner: Callable[[Any, Any], Any],
                     named: str | None, materialized: Any, left_outer: bool, right_outer: bool) -> KTable[Any, Any]:
    """KTable.join/left_join/outer_join(KTable): Kafka's KTableImpl.doJoin names (merge first) and wiring."""
    from pystreams.dsl.ktable import KTable

    op = "outer_join" if right_outer else "left_join" if left_outer else "join"
    if getattr(other, "_builder", None) is not this._builder:
        raise TopologyError(f"KTable.{op}: both tables must come from the same StreamsBuilder.")
    if not callable(joiner):
        raise TopologyError(f"KTable.{op}: joiner(value, other_value) must be callable")
    builder = this._builder
    store = None
    if materialized is not None:
        store = builder.store_spec(materialized, TABLE_MERGE_NAME)
    merge = builder.named_or_generate(named, TABLE_MERGE_NAME)
    this_name = builder.suffixed_or_generate(named, "-join-this", TABLE_JOINTHIS_NAME)
    other_name = builder.suffixed_or_generate(named, "-join-other", TABLE_JOINOTHER_NAME)
    if store is not None and store.key_serde is None:
        from dataclasses import replace

        store = replace(store, key_serde=this.key_serde)
    builder.add_node(TableTableJoinNode(merge, (this.name, other.name), this_name=this_name, other_name=other_name,
                                        joiner=joiner, left_outer=left_outer, right_outer=right_outer, store=store))
    if store is not None:
        return KTable(builder, merge, store.key_serde, store.value_serde)
    return KTable(builder, merge, this.key_serde, None)


# ---------------------------------------------------------------- foreign-key table-table join
FK_JOIN = "KTABLE-FK-JOIN-"
FK_JOIN_STATE_STORE_NAME = FK_JOIN + "SUBSCRIPTION-STATE-STORE-"
SUBSCRIPTION_REGISTRATION = FK_JOIN + "SUBSCRIPTION-REGISTRATION-"
SUBSCRIPTION_RESPONSE = FK_JOIN + "SUBSCRIPTION-RESPONSE-"
SUBSCRIPTION_PROCESSOR = FK_JOIN + "SUBSCRIPTION-PROCESSOR-"
SUBSCRIPTION_RESPONSE_RESOLVER_PROCESSOR = FK_JOIN + "SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-"
FK_JOIN_OUTPUT_NAME = FK_JOIN + "OUTPUT-"
FK_TOPIC_SUFFIX = "-topic"


@dataclass(frozen=True)
class TableJoined:
    """Name (and partitioners) of a foreign-key table join (Kafka's TableJoined)."""

    partitioner: Any = None
    other_partitioner: Any = None
    name: str | None = None

    @staticmethod
    def with_(partitioner: Any = None, other_partitioner: Any = None) -> TableJoined:
        return TableJoined(partitioner, other_partitioner)

    @staticmethod
    def as_(name: str) -> TableJoined:
        return TableJoined(None, None, name)

    def with_name(self, name: str) -> TableJoined:
        return TableJoined(self.partitioner, self.other_partitioner, name)


@dataclass(frozen=True)
class ForeignKeyJoinSpec:
    """Everything one foreign-key join needs (shared by its graph nodes); names are Kafka's."""

    this_table: str
    foreign_table: str
    key_serde: Any
    value_serde: Any
    foreign_key_serde: Any
    foreign_value_serde: Any
    extractor: Callable[[Any, Any], Any]
    joiner: Callable[[Any, Any], Any]
    left_join: bool
    subscription_topic: str
    send_name: str
    sink_name: str
    source_name: str
    store_name: str
    receive_name: str
    join_foreign_name: str
    foreign_join_name: str
    response_topic: str
    response_sink_name: str
    response_source_name: str
    resolver_name: str
    result_name: str
    result_store: Any
    partitioner: Any = None
    other_partitioner: Any = None


@dataclass(frozen=True, eq=False)
class ForeignKeyJoinNode(ExtensionNode):
    """One of a foreign-key join's graph nodes (`part`: send, sink, source, store, receive, join_foreign,
    foreign_join, response_sink, response_source, resolver, result), in Kafka's graph positions."""

    part: str = ""
    spec: ForeignKeyJoinSpec | None = None


def _fk_options(options: tuple[Any, ...], op: str) -> tuple[TableJoined, Any]:
    from pystreams.dsl.options import Materialized, Named, named_of

    table_joined, materialized = TableJoined(), None
    for option in options:
        if option is None:
            continue
        if isinstance(option, TableJoined):
            table_joined = option
        elif isinstance(option, Materialized):
            materialized = option
        elif isinstance(option, (Named, str)):
            table_joined = table_joined.with_name(named_of(option))  # type: ignore[arg-type]
        else:
            raise TopologyError(f"KTable.{op}(other, foreign_key_extractor, joiner, ...): options are "
                                f"TableJoined and Materialized, got {type(option).__name__}.")
    return table_joined, materialized


def foreign_key_join(this: KTable[Any, Any], other: KTable[Any, Any], extractor: Callable[..., Any],
                     joiner: Callable[[Any, Any], Any], options: tuple[Any, ...], left_join: bool) -> KTable[Any, Any]:
    """KTable.join/left_join(other, foreign_key_extractor, joiner[, TableJoined][, Materialized]): Kafka's
    KTableImpl.doJoinOnForeignKey names and graph. The extractor takes (value) or (key, value)."""
    from pystreams.dsl import arity
    from pystreams.dsl.ktable import KTable
    from pystreams.dsl.options import Materialized

    op = "left_join" if left_join else "join"
    if getattr(other, "_builder", None) is not this._builder:
        raise TopologyError(f"KTable.{op}: both tables must come from the same StreamsBuilder.")
    if not callable(extractor) or not callable(joiner):
        raise TopologyError(f"KTable.{op}: foreign_key_extractor and joiner(value, foreign_value) must be callable")
    if arity.accepts(extractor, 1) and not arity.accepts(extractor, 2):
        one_arg = extractor

        def extract(key: Any, value: Any) -> Any:
            return one_arg(value)
    else:
        extract = extractor
    table_joined, materialized = _fk_options(options, op)
    b, user = this._builder, table_joined.name
    topic = b.suffixed_or_generate(user, "-subscription-registration", SUBSCRIPTION_REGISTRATION) + FK_TOPIC_SUFFIX
    send = b.suffixed_or_generate(user, "-subscription-registration-processor", SUBSCRIPTION_REGISTRATION)
    sink = b.suffixed_or_generate(user, "-subscription-registration-sink", "KTABLE-SINK-")
    source = b.suffixed_or_generate(user, "-subscription-registration-source", "KTABLE-SOURCE-")
    store = b.suffixed_or_generate(user, "-subscription-store", FK_JOIN_STATE_STORE_NAME)
    receive = b.suffixed_or_generate(user, "-subscription-receive", SUBSCRIPTION_PROCESSOR)
    join_foreign = b.suffixed_or_generate(user, "-subscription-join-foreign", SUBSCRIPTION_PROCESSOR)
    foreign_join = b.suffixed_or_generate(user, "-foreign-join-subscription", SUBSCRIPTION_PROCESSOR)
    response = b.suffixed_or_generate(user, "-subscription-response", SUBSCRIPTION_RESPONSE) + FK_TOPIC_SUFFIX
    response_sink = b.suffixed_or_generate(user, "-subscription-response-sink", "KTABLE-SINK-")
    response_source = b.suffixed_or_generate(user, "-subscription-response-source", "KTABLE-SOURCE-")
    resolver = b.suffixed_or_generate(user, "-subscription-response-resolver", SUBSCRIPTION_RESPONSE_RESOLVER_PROCESSOR)
    result = b.suffixed_or_generate(user, "-result", FK_JOIN_OUTPUT_NAME)
    result_store = b.store_spec(materialized if materialized is not None else Materialized(), FK_JOIN_OUTPUT_NAME)
    if result_store.key_serde is None:
        from dataclasses import replace

        result_store = replace(result_store, key_serde=this.key_serde)
    spec = ForeignKeyJoinSpec(this.name, other.name, this.key_serde, this.value_serde, other.key_serde,
                              other.value_serde, extract, joiner, left_join, topic, send, sink, source, store,
                              receive, join_foreign, foreign_join, response, response_sink, response_source,
                              resolver, result, result_store, table_joined.partitioner,
                              table_joined.other_partitioner)
    for part, name, parents in (("send", send, (this.name,)), ("sink", sink, (send,)), ("source", source, (sink,)),
                                ("store", store, ()), ("receive", receive, (source,)),
                                ("join_foreign", join_foreign, (receive,)),
                                ("foreign_join", foreign_join, (other.name,)),
                                ("response_sink", response_sink, (join_foreign, foreign_join)),
                                ("response_source", response_source, (response_sink,)),
                                ("resolver", resolver, (response_source,)), ("result", result, (resolver,))):
        b.add_node(ForeignKeyJoinNode(name, parents, part=part, spec=spec))
    return KTable(b, result, this.key_serde, result_store.value_serde)
