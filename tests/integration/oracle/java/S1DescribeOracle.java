// Topologies for the describe() equivalence tests of the DSL compiler (tests/integration/oracle).
// Each case mirrors a Python builder in topologies.py; main prints "=== <name>" then describe().
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.*;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.state.Stores;

import java.util.*;
import java.util.regex.Pattern;

public class S1DescribeOracle {
    static class Noop implements Processor<Object, Object, Object, Object> {
        public void process(org.apache.kafka.streams.processor.api.Record<Object, Object> record) { }
    }

    static class GlobalUpdater implements Processor<String, Long, Void, Void> {
        public void process(org.apache.kafka.streams.processor.api.Record<String, Long> record) { }
    }

    static Properties optimized() {
        Properties p = new Properties();
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
        return p;
    }

    static Properties build(String name, StreamsBuilder b) {
        switch (name) {
            case "stateless_chain": {
                b.stream("in").filter((k, v) -> true).mapValues(v -> v).filterNot((k, v) -> false)
                    .map((k, v) -> KeyValue.pair(k, v)).flatMapValues(v -> List.of(v)).to("out");
                return null;
            }
            case "word_count": {
                b.<String, String>stream("text").flatMapValues(v -> Arrays.asList(v.split(" ")))
                    .groupBy((k, v) -> v).count().toStream().to("out");
                return null;
            }
            case "word_count_named": {
                b.<String, String>stream("text").flatMapValues(v -> Arrays.asList(v.split(" ")))
                    .groupBy((k, v) -> v).count(Materialized.as("counts-store")).toStream().to("out");
                return null;
            }
            case "split_merge": {
                Map<String, KStream<Object, Object>> br = b.stream("in").split()
                    .branch((k, v) -> true).branch((k, v) -> false)
                    .branch((k, v) -> true, Branched.as("x")).defaultBranch();
                br.get("KSTREAM-BRANCH-00000000011").merge(br.get("KSTREAM-BRANCH-0000000001x")).to("out");
                br.get("KSTREAM-BRANCH-00000000010").peek((k, v) -> { }).foreach((k, v) -> { });
                return null;
            }
            case "split_named_chain": {
                b.stream("in").split(Named.as("route-"))
                    .branch((k, v) -> true, Branched.withFunction(s -> s.mapValues(v -> v), "a"))
                    .branch((k, v) -> true, Branched.withConsumer(s -> s.to("b-out"), "b"))
                    .noDefaultBranch()
                    .get("route-a").to("a-out");
                return null;
            }
            case "tables": {
                KTable<Object, Object> t = b.table("tin");
                t.filter((k, v) -> true).mapValues(v -> v).toStream().to("out");
                t.groupBy((k, v) -> KeyValue.pair(v, k)).reduce((a, v) -> a, (a, v) -> a).toStream().to("out2");
                t.groupBy((k, v) -> KeyValue.pair(v, k), Grouped.as("g"))
                    .aggregate(() -> 0, (k, v, a) -> a, (k, v, a) -> a, Materialized.as("aggs")).toStream().to("out3");
                return null;
            }
            case "table_named_source": {
                KTable<Object, Object> t = b.table("tin", Consumed.as("people"));
                t.mapValues(v -> v, Materialized.as("mapped")).groupBy((k, v) -> KeyValue.pair(v, k)).count()
                    .toStream().to("out");
                return null;
            }
            case "to_table": {
                b.stream("in").selectKey((k, v) -> v).toTable(Materialized.as("latest")).toStream().to("out");
                b.stream("in2").toTable().filter((k, v) -> true).toStream().to("out2");
                return null;
            }
            case "repartition": {
                KStream<Object, Object> s = b.stream("in");
                s.repartition().to("out");
                s.repartition(Repartitioned.as("named").withNumberOfPartitions(3)).filter((k, v) -> true).to("out2");
                return null;
            }
            case "global_tables": {
                b.globalTable("glob");
                b.stream("in").to("out");
                b.globalTable("glob2", Materialized.as("g2"));
                return null;
            }
            case "many_topics": {
                List<String> topics = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    topics.add("topic-" + (i * 7 % 20));
                }
                b.stream(topics).to("out");
                return null;
            }
            case "fan_out": {
                KStream<Object, Object> s = b.stream("in");
                s.filter((k, v) -> true).to("a");
                s.mapValues(v -> v).mapValues(v -> v).mapValues(v -> v).to("b");
                s.peek((k, v) -> { });
                s.map((k, v) -> KeyValue.pair(k, v)).filter((k, v) -> true).to("c");
                KStream<Object, Object> m = s.filterNot((k, v) -> true);
                m.merge(s.flatMapValues(v -> List.of(v))).merge(m).to("d");
                s.selectKey((k, v) -> v).mapValues(v -> v).to("e");
                return null;
            }
            case "three_groupings":
            case "three_groupings_optimized": {
                KStream<Object, Object> keyed = b.stream("in").selectKey((k, v) -> v);
                keyed.groupByKey().count().toStream().to("c1");
                keyed.filter((k, v) -> true).groupByKey().reduce((a, v) -> a).toStream().to("c2");
                keyed.mapValues(v -> v).groupByKey().count().toStream().to("c3");
                return name.endsWith("optimized") ? optimized() : null;
            }
            case "merge_then_group_optimized": {
                KStream<Object, Object> a = b.stream("a").map((k, v) -> KeyValue.pair(v, k));
                KStream<Object, Object> c = b.stream("c").selectKey((k, v) -> v);
                KStream<Object, Object> merged = a.merge(c);
                merged.groupByKey().count().toStream().to("o1");
                merged.groupByKey(Grouped.as("second")).reduce((x, y) -> x).toStream().to("o2");
                return optimized();
            }
            case "process_stores": {
                b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s1"), Serdes.String(), Serdes.Long()));
                b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s2"), Serdes.String(), Serdes.Long()));
                KStream<Object, Object> s = b.stream("in");
                s.process(Noop::new, "s1", "s2").to("out");
                s.process(Noop::new, Named.as("mine"), "s1");
                s.process(Noop::new).groupByKey().count().toStream().to("counted");
                return null;
            }
            case "table_source_reuse": {
                b.table("people", Materialized.as("people-store")).toStream().to("out");
                return optimized();
            }
            case "pattern_count_named": {
                b.stream(Pattern.compile("in-.*")).groupByKey().count(Named.as("cnt")).toStream().to("out");
                return null;
            }
            case "grouped_reuse": {
                KGroupedStream<Object, Object> g = b.stream("in").groupBy((k, v) -> v, Grouped.as("grp"));
                g.count();
                g.reduce((a, v) -> a);
                return null;
            }
            case "grouped_reuse_interleaved": {
                KGroupedStream<Object, Object> g = b.stream("in").groupBy((k, v) -> v, Grouped.as("grp"));
                g.count().toStream().to("o1");
                b.stream("in2").filter((k, v) -> true).groupByKey().count().toStream().to("o3");
                g.reduce((x, y) -> x).toStream().to("o2");
                KGroupedTable<Object, Object> gt = b.table("t").groupBy((k, v) -> KeyValue.pair(v, k), Grouped.as("tg"));
                gt.count();
                b.stream("in3").to("o4");
                gt.reduce((x, y) -> x, (x, y) -> x);
                return null;
            }
            case "dsl_joins_windows": {
                KStream<Object, Object> s = b.stream("a");
                KStream<Object, Object> o = b.stream("b");
                KTable<Object, Object> t = b.table("t");
                s.join(o, (v1, v2) -> v1, JoinWindows.ofTimeDifferenceWithNoGrace(java.time.Duration.ofSeconds(5))).to("x");
                s.leftJoin(t, (v1, v2) -> v1).to("y");
                s.groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(java.time.Duration.ofMinutes(1))).count();
                t.join(b.table("t2"), (x, y) -> x).toStream().to("z");
                s.outerJoin(o, (v1, v2) -> v1, JoinWindows.ofTimeDifferenceAndGrace(java.time.Duration.ofSeconds(3),
                                                                                    java.time.Duration.ofSeconds(1))).to("w");
                return null;
            }
            case "named_everything": {
                b.stream("in", Consumed.as("src")).filter((k, v) -> true, Named.as("f"))
                    .selectKey((k, v) -> v, Named.as("sk"))
                    .groupByKey(Grouped.as("by"))
                    .aggregate(() -> 0, (k, v, a) -> a, Named.as("agg"), Materialized.as("agg-store"))
                    .toStream(Named.as("ts")).to("out", Produced.as("sink"));
                return null;
            }
            default:
                throw new IllegalArgumentException("unknown topology " + name);
        }
    }

    static org.apache.kafka.streams.state.StoreBuilder<?> store(String name) {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), Serdes.Long());
    }

    // Processor-API topologies (org.apache.kafka.streams.Topology built by hand)
    static org.apache.kafka.streams.Topology papi(String name) {
        org.apache.kafka.streams.Topology t = new org.apache.kafka.streams.Topology();
        switch (name) {
            case "papi_diamond": {
                t.addSource("src", "t1", "t2");
                t.addProcessor("p1", Noop::new, "src");
                t.addProcessor("p2", Noop::new, "src");
                t.addProcessor("p3", Noop::new, "p1", "p2");
                t.addSink("sink", "out", "p3", "p1");
                t.addStateStore(store("st"), "p1", "p3");
                return t;
            }
            case "papi_store_joins_subtopologies": {
                t.addSource("a", "ta");
                t.addSource("b", "tb");
                t.addSource("c", Pattern.compile("tc-[0-9]+"));
                t.addProcessor("pa", Noop::new, "a");
                t.addProcessor("pb", Noop::new, "b");
                t.addProcessor("pc", Noop::new, "c");
                t.addStateStore(store("shared"), "pa", "pb");
                t.addStateStore(store("s2"));
                t.connectProcessorAndStateStores("pc", "s2");
                t.addSink("out-b", "ob", "pb");
                return t;
            }
            case "papi_global_store": {
                t.addSource("src", "in");
                t.addProcessor("proc", Noop::new, "src");
                t.addGlobalStore(store("global").withLoggingDisabled(), "gsrc",
                    Serdes.String().deserializer(), Serdes.Long().deserializer(), "global-topic", "gproc", GlobalUpdater::new);
                t.addSource("src2", "in2");
                t.addSink("sink2", "out2", "src2");
                return t;
            }
            case "papi_read_only_store": {
                t.addSource("src", "in");
                t.addProcessor("proc", Noop::new, "src");
                t.addReadOnlyStateStore(store("ro").withLoggingDisabled(), "ro-source",
                    Serdes.String().deserializer(), Serdes.Long().deserializer(), "ro-topic", "ro-proc",
                    GlobalUpdater::new);
                t.connectProcessorAndStateStores("proc", "ro");
                return t;
            }
            case "papi_wide": {
                t.addSource("s", "in");
                String prev = "s";
                for (int i = 0; i < 12; i++) {
                    String n = "n" + (char) ('a' + (i * 5) % 12);
                    t.addProcessor(n, Noop::new, i % 3 == 0 ? "s" : prev);
                    prev = n;
                }
                t.addSink("z-sink", "out", prev, "s");
                return t;
            }
            default:
                throw new IllegalArgumentException("unknown topology " + name);
        }
    }

    public static void main(String[] args) {
        StringBuilder out = new StringBuilder();
        for (String name : args) {
            out.append("=== ").append(name).append('\n');
            if (name.startsWith("papi_")) {
                out.append(papi(name).describe());
                continue;
            }
            StreamsBuilder b = new StreamsBuilder();
            Properties props = build(name, b);
            out.append(props == null ? b.build().describe() : b.build(props).describe());
        }
        System.out.print(out);
    }
}
