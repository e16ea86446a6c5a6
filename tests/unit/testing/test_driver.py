"""TopologyTestDriver behaviour: forwarding order, errors that name the fix, handlers, repartition, globals."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams.compiler import Topology
from pystreams.errors import ConfigError, PystreamsError, TopologyError
from pystreams.processor import (FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord, Processor,
                                 ProcessorContext, Record)
from pystreams.processor.internals import StreamsException
from pystreams.serdes import Serdes
from pystreams.state import KeyValueStore, Stores
from pystreams.testing import DriverClosedError, NoSuchElementError, TestRecord, TopologyTestDriver

pytestmark = pytest.mark.unit
S = Serdes.String


class Fn(Processor[Any, Any, Any, Any]):
    """A processor running fn(context, record)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        self.fn(self.context, record)


def fn(f: Any) -> Any:
    return lambda: Fn(f)


def test_forwarding_is_depth_first_in_child_insertion_order() -> None:
    order: list[str] = []
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("a", fn(lambda c, r: (order.append("a"), c.forward(r))), "src")
    t.add_processor("a1", fn(lambda c, r: order.append("a1")), "a")
    t.add_processor("b", fn(lambda c, r: order.append("b")), "src")
    t.add_processor("a2", fn(lambda c, r: order.append("a2")), "a")
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", S(), S()).pipe_input("k", "v")
    assert order == ["a", "a1", "a2", "b"]


def test_forward_to_named_child_and_unknown_child() -> None:
    def route(c: Any, r: Any) -> None:
        c.forward(r, r.key)

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("route", fn(route), "src")
    t.add_sink("left", "left-out", "route", key_serde=S(), value_serde=S())
    t.add_sink("right", "right-out", "route", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        inp = d.create_input_topic("in", S(), S())
        left, right = d.create_output_topic("left-out", S(), S()), d.create_output_topic("right-out", S(), S())
        inp.pipe_input("right", "1")
        inp.pipe_input("left", "2")
        assert right.read_values_to_list() == ["1"] and left.read_values_to_list() == ["2"]
        with pytest.raises(StreamsException, match="Unknown downstream node: nowhere"):
            inp.pipe_input("nowhere", "3")


def test_user_errors_name_task_processor_and_offset() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("boom", fn(lambda c, r: 1 / 0), "src")
    with TopologyTestDriver(t) as d:
        with pytest.raises(StreamsException, match=r"taskId=0_0, processor=boom, topic=in, partition=0, offset=0") as e:
            d.create_input_topic("in", S(), S()).pipe_input("k", "v")
        assert isinstance(e.value.__cause__, ZeroDivisionError)


def test_store_not_connected_names_processor_and_fix() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("owner", fn(lambda c, r: None), "src")
    t.add_processor("thief", fn(lambda c, r: c.get_state_store("s")), "src")
    t.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("s"), S(), S()), "owner")
    with TopologyTestDriver(t) as d:
        with pytest.raises(PystreamsError, match="Processor thief has no access to StateStore s.*"
                                                 "connect_processor_and_state_stores"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "v")


def test_missing_serde_names_node_and_config_key() -> None:
    t = Topology()
    t.add_source("src", "in")
    with pytest.raises(ConfigError, match="Source node src .* no key serde and default.key.serde is not set"):
        TopologyTestDriver(t)
    d = TopologyTestDriver(t, {"default.key.serde": "string", "default.value.serde": Serdes.Long()})
    d.close()


def test_unknown_topics_are_refused_with_the_known_ones() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_sink("sink", "out", "src", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        with pytest.raises(TopologyError, match=r"Unknown topic: inn.*\['in'\]"):
            d.create_input_topic("inn", S(), S())
        with pytest.raises(TopologyError, match=r"No sink writes to topic outt.*\['out'\]"):
            d.create_output_topic("outt", S(), S())
        out = d.create_output_topic("out", S(), S())
        with pytest.raises(NoSuchElementError, match="Empty topic: out"):
            out.read_value()


def test_closed_driver_refuses_use() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_sink("sink", "out", "src", key_serde=S(), value_serde=S())
    d = TopologyTestDriver(t)
    inp = d.create_input_topic("in", S(), S())
    out = d.create_output_topic("out", S(), S())
    inp.pipe_input("k", "v")
    d.close()
    d.close()  # idempotent
    for action in (lambda: inp.pipe_input("k", "v"), lambda: d.advance_wall_clock_time(1),
                   lambda: d.get_state_store("x"), lambda: d.create_input_topic("in", S(), S())):
        with pytest.raises(DriverClosedError, match="closed"):
            action()
    assert out.read_value() == "v"  # what was captured stays readable


def test_deserialization_handler_fail_and_continue(caplog: Any) -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=Serdes.Long())
    t.add_sink("sink", "out", "src", key_serde=S(), value_serde=Serdes.Long())
    with TopologyTestDriver(t) as d:
        bad = d.create_input_topic("in", S(), S())  # writes 1-byte strings where 8-byte longs are expected
        with pytest.raises(PystreamsError, match="Deserialization exception handler is set to fail"):
            bad.pipe_input("k", "x")
    cfg = {"deserialization.exception.handler": "LogAndContinueExceptionHandler"}
    with TopologyTestDriver(t, cfg) as d:
        bad = d.create_input_topic("in", S(), S())
        good = d.create_input_topic("in", S(), Serdes.Long())
        out = d.create_output_topic("out", S(), Serdes.Long())
        with caplog.at_level(logging.WARNING):
            bad.pipe_input("k", "x")
        good.pipe_input("k", 7)
        assert out.read_values_to_list() == [7]
        assert d.metrics()["dropped-records-total"] == 1


def test_negative_timestamps_are_refused_by_input_topics() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        with pytest.raises(ValueError, match="Invalid timestamp: -5. Timestamp should always be non-negative"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "v", -5)


def test_fixed_key_processor_and_headers_pass_through() -> None:
    class Upper(FixedKeyProcessor[str, str, str]):
        def init(self, context: FixedKeyProcessorContext[str, str]) -> None:
            self.context = context

        def process(self, record: FixedKeyRecord[str, str]) -> None:
            assert isinstance(record, FixedKeyRecord)
            self.context.forward(record.with_value(record.value.upper()))

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("upper", Upper, "src")
    t.add_processor("rekey", fn(lambda c, r: c.forward(r.with_key(r.key + "!"))), "upper")
    t.add_sink("sink", "out", "rekey", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        inp, out = d.create_input_topic("in", S(), S()), d.create_output_topic("out", S(), S())
        inp.pipe_input(TestRecord("k", "v", 3, [("h", b"1")]))
        assert out.read_record() == TestRecord("k!", "V", 3, (("h", b"1"),))


def test_topic_extractor_sink() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_sink("sink", lambda k, v, ctx: f"out-{k}-{ctx.topic}", "src", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", S(), S()).pipe_input("a", "1")
        assert d.create_output_topic("out-a-in", S(), S()).read_value() == "1"
        assert d.produced_topic_names() == {"out-a-in"}


def test_repartition_topics_are_prefixed_and_piped_back() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("rekey", fn(lambda c, r: c.forward(r.with_key(r.value))), "src")
    t.add_sink("rep-sink", "by-value-repartition", "rekey", key_serde=S(), value_serde=S())
    t.add_source("rep-src", "by-value-repartition", key_serde=S(), value_serde=S())
    t.add_processor("meta", fn(lambda c, r: c.forward(r.with_value(c.record_metadata().topic))), "rep-src")
    t.add_sink("sink", "out", "meta", key_serde=S(), value_serde=S())
    t.add_internal_topic("by-value-repartition")
    with TopologyTestDriver(t, {"application.id": "rp"}) as d:
        d.create_input_topic("in", S(), S()).pipe_input("k", "v", 42)
        out = d.create_output_topic("out", S(), S())
        assert out.read_record() == TestRecord("v", "rp-by-value-repartition", 42)
        rep = d.create_output_topic("rp-by-value-repartition", S(), S())
        assert rep.read_key_value() == ("v", "v")


def test_global_store_is_readable_from_any_processor() -> None:
    class Loader(Processor[str, str, None, None]):
        def init(self, context: ProcessorContext[None, None]) -> None:
            self.store = context.get_state_store("rates")

        def process(self, record: Record[str, str]) -> None:
            self.store.put(record.key, record.value)

    def enrich(c: Any, r: Any) -> None:
        c.forward(r.with_value(f"{r.value}@{c.get_state_store('rates').get(r.key)}"))

    t = Topology()
    builder = Stores.key_value_store_builder(Stores.in_memory_key_value_store("rates"), S(), S())
    t.add_global_store(builder.with_logging_disabled(), "g-src", "rates-topic", "g-proc", Loader,
                       key_serde=S(), value_serde=S())
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("enrich", fn(enrich), "src")
    t.add_sink("sink", "out", "enrich", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        d.create_input_topic("rates-topic", S(), S()).pipe_input("eur", "1.1")
        d.create_input_topic("in", S(), S()).pipe_input("eur", "10")
        assert d.create_output_topic("out", S(), S()).read_value() == "10@1.1"
        assert d.get_key_value_store("rates").get("eur") == "1.1"

    def write_global(c: Any, r: Any) -> None:
        store = c.get_state_store("rates")
        assert isinstance(store, KeyValueStore) and callable(getattr(store, "put", None))
        store.put("x", "y")

    t2 = Topology()
    t2.add_global_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("rates"), S(), S())
                        .with_logging_disabled(), "g-src", "rates-topic", "g-proc", Loader)
    t2.add_source("src", "in", key_serde=S(), value_serde=S())
    t2.add_processor("writer", fn(write_global), "src")
    with TopologyTestDriver(t2, {"default.key.serde": "string", "default.value.serde": "string"}) as d:
        with pytest.raises(PystreamsError, match="Global store rates is read-only"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "v")


def test_pattern_source() -> None:
    t = Topology()
    t.add_source("src", pattern=r"logs-.*", key_serde=S(), value_serde=S())
    t.add_processor("tag", fn(lambda c, r: c.forward(r.with_value(c.record_metadata().topic))), "src")
    t.add_sink("sink", "out", "tag", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        d.create_input_topic("logs-a", S(), S()).pipe_input("k", "v")
        d.create_input_topic("logs-b", S(), S()).pipe_input("k", "v")
        assert d.create_output_topic("out", S(), S()).read_values_to_list() == ["logs-a", "logs-b"]
        with pytest.raises(TopologyError, match="Unknown topic: metrics"):
            d.create_input_topic("metrics", S(), S())


def test_sink_serialization_error_names_sink_topic_and_fix() -> None:
    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("to-int", fn(lambda c, r: c.forward(r.with_value(len(r.value)))), "src")
    t.add_sink("the-sink", "out", "to-int", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        with pytest.raises(PystreamsError, match=r"Sink the-sink could not serialize <'k':1> for topic out.*"
                                                 r"default.value.serde"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "v")


def test_records_a_producer_refuses_fail_as_in_kafkas_driver() -> None:
    """Kafka 4.1.1's driver (checked): a negative partition fails the record (ProducerRecord's check), as a negative
    timestamp does (Record's check, before the sink's); a partition past the topic's count is kept (its producer has
    no partition counts)."""
    def driver(partition: int, timestamp: int) -> TopologyTestDriver:
        t = Topology()
        t.add_source("src", "in", key_serde=S(), value_serde=S())
        t.add_processor("stamp", fn(lambda c, r: c.forward(Record(r.key, r.value, timestamp))), "src")
        t.add_sink("sink", "out", "stamp", key_serde=S(), value_serde=S(),
                   partitioner=lambda topic, k, v, n: partition)
        return TopologyTestDriver(t)

    with driver(3, 7) as d:
        d.create_input_topic("in", S(), S()).pipe_input("k", "v")
        assert d.create_output_topic("out", S(), S()).read_record() == TestRecord("k", "v", 7)
    with driver(-1, 7) as d, pytest.raises(StreamsException, match=r"Invalid partition: -1\. .* topic out: check "
                                                                   "what the sink's StreamPartitioner returns"):
        d.create_input_topic("in", S(), S()).pipe_input("k", "v")
    with driver(0, -5) as d, pytest.raises(StreamsException, match=r"Malformed Record: Timestamp may not be "
                                                                   r"negative\. Got: -5"):
        d.create_input_topic("in", S(), S()).pipe_input("k", "v")


def test_store_getters_by_store_kind() -> None:
    def put(c: Any, r: Any) -> None:
        from pystreams.state import ValueAndTimestamp
        c.get_state_store("plain").put(r.key, r.value)
        c.get_state_store("ts").put(r.key, ValueAndTimestamp(r.value, r.timestamp))

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("p", fn(put), "src")
    t.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("plain"), S(), S()), "p")
    t.add_state_store(Stores.timestamped_key_value_store_builder(
        Stores.persistent_timestamped_key_value_store("ts"), S(), S()), "p")
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", S(), S()).pipe_input("k", "v", 9)
        assert d.get_timestamped_key_value_store("plain") is None
        assert d.get_timestamped_key_value_store("ts").get("k").timestamp == 9
        facade = d.get_key_value_store("ts")  # timestamped store seen with plain values (Kafka's facade)
        assert facade.get("k") == "v" and list(facade.all()) == [("k", "v")]
        facade.put("k2", "w")
        assert d.get_timestamped_key_value_store("ts").get("k2").timestamp == -1
        assert d.get_key_value_store("missing") is None
        assert set(d.get_all_state_stores()) == {"plain", "ts"}


def test_equal_timestamps_across_partitions_follow_kafkas_partition_group() -> None:
    # one input fans out to two repartition topics; Kafka's PartitionGroup (a java PriorityQueue by head
    # timestamp, re-offering a queue after each poll) interleaves them: a1, b1, a2, b2 (not a1, a2, b1, b2)
    def fan_out(c: Any, r: Any) -> None:
        for i in (1, 2):
            c.forward(r.with_value(f"a{i}"), "to-a")
            c.forward(r.with_value(f"b{i}"), "to-b")

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("fan", fn(fan_out), "src")
    t.add_sink("to-a", "a-repartition", "fan", key_serde=S(), value_serde=S())
    t.add_sink("to-b", "b-repartition", "fan", key_serde=S(), value_serde=S())
    t.add_source("from-a", "a-repartition", key_serde=S(), value_serde=S())
    t.add_source("from-b", "b-repartition", key_serde=S(), value_serde=S())
    t.add_processor("merge", fn(lambda c, r: c.forward(r)), "from-a", "from-b")
    t.add_sink("out", "out", "merge", key_serde=S(), value_serde=S())
    t.add_internal_topic("a-repartition")
    t.add_internal_topic("b-repartition")
    with TopologyTestDriver(t) as d:
        d.create_input_topic("in", S(), S()).pipe_input("k", "x", 5)
        assert d.create_output_topic("out", S(), S()).read_values_to_list() == ["a1", "b1", "a2", "b2"]


def test_headers_as_dict_and_global_only_topology() -> None:
    class Loader(Processor[str, str, None, None]):
        def init(self, context: ProcessorContext[None, None]) -> None:
            self.store = context.get_state_store("g")

        def process(self, record: Record[str, str]) -> None:
            self.store.put(record.key, dict(record.headers)["h"].decode())

    t = Topology()
    t.add_global_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("g"), S(), S())
                       .with_logging_disabled(), "g-src", "g-topic", "g-proc", Loader, key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        d.create_input_topic("g-topic", S(), S()).pipe_input("k", "v", headers={"h": b"from-header"})
        assert d.get_key_value_store("g").get("k") == "from-header"
    assert TestRecord("k", "v", 1, {"a": b"1"}).headers == (("a", b"1"),)


def test_fixed_key_processor_cannot_forward_a_new_key() -> None:
    class Rekey(FixedKeyProcessor[str, str, str]):
        def init(self, context: FixedKeyProcessorContext[str, str]) -> None:
            self.context = context

        def process(self, record: FixedKeyRecord[str, str]) -> None:
            self.context.forward(Record("other", record.value, record.timestamp))  # type: ignore[arg-type]

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("rekey", Rekey, "src")
    t.add_sink("sink", "out", "rekey", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t) as d:
        with pytest.raises(StreamsException, match="FixedKeyProcessor rekey forwarded a Record"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "v")


def test_processing_exception_handler_continue_skips_the_record() -> None:
    def fragile(c: Any, r: Any) -> None:
        if r.value == "bad":
            raise ValueError("cannot handle this")
        c.forward(r)

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("fragile", fn(fragile), "src")
    t.add_sink("sink", "out", "fragile", key_serde=S(), value_serde=S())
    cfg = {"processing.exception.handler": "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler"}
    with TopologyTestDriver(t, cfg) as d:
        inp, out = d.create_input_topic("in", S(), S()), d.create_output_topic("out", S(), S())
        for v in ("ok1", "bad", "ok2"):
            inp.pipe_input("k", v)
        assert out.read_values_to_list() == ["ok1", "ok2"]
        assert d.metrics()["dropped-records-total"] == 1
    with TopologyTestDriver(t) as d:  # default: LogAndFail
        with pytest.raises(StreamsException, match="processor=fragile"):
            d.create_input_topic("in", S(), S()).pipe_input("k", "bad")


def test_production_exception_handler_can_drop_unserializable_records() -> None:
    from pystreams.processor.handlers import ProductionHandlerResponse

    seen: list[Any] = []

    class SkipBadValues:
        def handle_serialization_exception(self, context: Any, record: Any, exception: Exception,
                                           origin: Any) -> ProductionHandlerResponse:
            seen.append((context.processor_node_id, record.value, origin.name))
            return ProductionHandlerResponse.CONTINUE

    t = Topology()
    t.add_source("src", "in", key_serde=S(), value_serde=S())
    t.add_processor("p", fn(lambda c, r: c.forward(r.with_value(r.value if r.value != "int" else 7))), "src")
    t.add_sink("the-sink", "out", "p", key_serde=S(), value_serde=S())
    with TopologyTestDriver(t, {"production.exception.handler": SkipBadValues}) as d:
        inp, out = d.create_input_topic("in", S(), S()), d.create_output_topic("out", S(), S())
        for v in ("a", "int", "b"):
            inp.pipe_input("k", v)
        assert out.read_values_to_list() == ["a", "b"]
    assert seen == [("the-sink", 7, "VALUE")]
