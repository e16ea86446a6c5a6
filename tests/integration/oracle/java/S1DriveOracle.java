// Output-equivalence oracle for the DSL compiler. Arguments are pairs NAME INPUT_FILE: for each, builds
// the named topology, pipes the file's JSON lines ({"topic","key","value","ts"}; String serdes) through
// Kafka's TopologyTestDriver and prints "=== NAME" then every output record as a JSON line
// {"topic","key","value","ts"}, topic by topic. One JVM runs every case.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.kstream.*;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

public class S1DriveOracle {
    // forwards value + "#" + how many records this key had so far (a store per task)
    static class CountingProcessor implements org.apache.kafka.streams.processor.api.Processor<String, String, String, String> {
        private org.apache.kafka.streams.processor.api.ProcessorContext<String, String> context;
        private KeyValueStore<String, Long> store;

        public void init(org.apache.kafka.streams.processor.api.ProcessorContext<String, String> context) {
            this.context = context;
            this.store = context.getStateStore("seen");
        }

        public void process(org.apache.kafka.streams.processor.api.Record<String, String> record) {
            Long seen = store.get(record.key());
            long n = (seen == null ? 0 : seen) + 1;
            store.put(record.key(), n);
            context.forward(record.withValue(record.value() + "#" + n));
        }
    }

    static class UpperValues implements org.apache.kafka.streams.processor.api.FixedKeyProcessor<String, String, String> {
        private org.apache.kafka.streams.processor.api.FixedKeyProcessorContext<String, String> context;

        public void init(org.apache.kafka.streams.processor.api.FixedKeyProcessorContext<String, String> context) {
            this.context = context;
        }

        public void process(org.apache.kafka.streams.processor.api.FixedKeyRecord<String, String> record) {
            context.forward(record.withValue(record.value().toUpperCase()));
        }
    }

    static final Map<String, Deserializer<?>> OUT = new LinkedHashMap<>();

    static void out(String topic, boolean longValues) {
        OUT.put(topic, longValues ? Serdes.Long().deserializer() : Serdes.String().deserializer());
    }

    static String props = "none";

    static void build(String name, StreamsBuilder b) {
        Produced<String, Long> longs = Produced.with(Serdes.String(), Serdes.Long());
        switch (name) {
            case "stateless": {
                KStream<String, String> s = b.stream("in");
                s.filter((k, v) -> v != null && v.contains("1")).to("filtered"); out("filtered", false);
                s.filterNot((k, v) -> v == null || v.length() > 3).mapValues(v -> v.toUpperCase()).to("upper"); out("upper", false);
                s.flatMapValues(v -> v == null ? List.of() : Arrays.asList(v.split("-"))).to("parts"); out("parts", false);
                s.selectKey((k, v) -> v == null ? null : v.substring(0, 1)).to("rekeyed"); out("rekeyed", false);
                s.map((k, v) -> KeyValue.pair(v, k)).to("swapped"); out("swapped", false);
                s.flatMap((k, v) -> v == null ? List.<KeyValue<String, String>>of()
                        : List.of(KeyValue.pair(k, v), KeyValue.pair(v, k))).to("both"); out("both", false);
                return;
            }
            case "split_merge": {
                Map<String, KStream<String, String>> br = b.<String, String>stream("in").split(Named.as("b-"))
                    .branch((k, v) -> v != null && v.startsWith("a"), Branched.as("a"))
                    .branch((k, v) -> v != null && v.startsWith("b"), Branched.as("b"))
                    .defaultBranch(Branched.as("rest"));
                br.get("b-a").merge(br.get("b-b")).to("ab"); out("ab", false);
                br.get("b-rest").to("rest"); out("rest", false);
                b.<String, String>stream("in2").merge(br.get("b-a")).to("merged"); out("merged", false);
                return;
            }
            case "word_count": {
                b.<String, String>stream("in").flatMapValues(v -> v == null ? List.of() : Arrays.asList(v.split("-")))
                    .groupBy((k, v) -> v).count().toStream().to("counts", longs); out("counts", true);
                return;
            }
            case "aggregations": {
                KGroupedStream<String, String> g = b.<String, String>stream("in").groupByKey();
                g.reduce((a, v) -> a + "|" + v).toStream().to("reduced"); out("reduced", false);
                g.aggregate(() -> 0L, (k, v, a) -> a + v.length(), Materialized.with(Serdes.String(), Serdes.Long()))
                    .toStream().to("lengths", longs); out("lengths", true);
                g.count(Materialized.as("key-counts")).toStream().to("key-counts", longs); out("key-counts", true);
                return;
            }
            case "tables": {
                KTable<String, String> t = b.table("in");
                t.filter((k, v) -> v.contains("1")).toStream().to("t-filtered"); out("t-filtered", false);
                t.mapValues(v -> v.toUpperCase(), Materialized.as("upper-store")).toStream().to("t-upper"); out("t-upper", false);
                t.groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v)).count().toStream().to("t-count", longs); out("t-count", true);
                t.groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v))
                    .aggregate(() -> 0L, (k, v, a) -> a + v.length(), (k, v, a) -> a - v.length(),
                               Materialized.with(Serdes.String(), Serdes.Long()))
                    .toStream().to("t-len", longs); out("t-len", true);
                return;
            }
            case "to_table": {
                b.<String, String>stream("in").selectKey((k, v) -> v == null ? null : v.substring(0, 1))
                    .toTable(Materialized.as("latest")).toStream().to("latest"); out("latest", false);
                return;
            }
            case "three_groupings_optimized":
                props = StreamsConfig.OPTIMIZE;
                // fall through
            case "three_groupings": {
                KStream<String, String> keyed = b.<String, String>stream("in").selectKey((k, v) -> v == null ? k : v.substring(0, 1));
                keyed.groupByKey().count().toStream().to("c1", longs); out("c1", true);
                keyed.filter((k, v) -> v != null && v.length() > 2).groupByKey().reduce((a, v) -> a + v).toStream().to("c2"); out("c2", false);
                keyed.mapValues(v -> v == null ? "" : v).groupByKey().count().toStream().to("c3", longs); out("c3", true);
                return;
            }
            case "repartition": {
                b.<String, String>stream("in").selectKey((k, v) -> v).repartition(Repartitioned.as("shuffle"))
                    .groupByKey().count().toStream().to("counts", longs); out("counts", true);
                return;
            }
            case "extractor": {
                b.<String, String>stream("in").filter((k, v) -> v != null)
                    .to((k, v, ctx) -> "ex-" + v.substring(0, 1));
                for (String t : List.of("ex-a", "ex-b", "ex-c", "ex-x")) out(t, false);
                return;
            }
            case "process": {
                b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("seen"), Serdes.String(), Serdes.Long()));
                b.<String, String>stream("in").filter((k, v) -> k != null && v != null)
                    .process(CountingProcessor::new, "seen")
                    .processValues(UpperValues::new)
                    .to("processed"); out("processed", false);
                return;
            }
            case "table_chain": {
                b.<String, String>stream("in").toTable().filter((k, v) -> v.length() > 1)
                    .groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v)).count(Materialized.as("by-first"))
                    .toStream().to("chain", longs); out("chain", true);
                return;
            }
            default:
                throw new IllegalArgumentException("unknown topology " + name);
        }
    }

    public static void main(String[] args) throws Exception {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i + 1 < args.length; i += 2) {
            OUT.clear();
            props = "none";
            all.append("=== ").append(args[i]).append('\n').append(runCase(args[i], Path.of(args[i + 1])));
        }
        System.out.print(all);
    }

    static String runCase(String name, Path inputFile) throws Exception {
        StreamsBuilder b = new StreamsBuilder();
        build(name, b);
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "s1-oracle");
        config.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        config.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        config.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, props);
        // in-memory DSL stores: RocksDB flushes on every per-record commit make the Java side very slow
        config.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                   org.apache.kafka.streams.state.BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        try (TopologyTestDriver driver = new TopologyTestDriver(b.build(config), config)) {
            Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
            for (String line : Files.readAllLines(inputFile, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                JsonNode r = json.readTree(line);
                String topic = r.get("topic").asText();
                TestInputTopic<String, String> input = inputs.computeIfAbsent(topic,
                    t -> driver.createInputTopic(t, new StringSerializer(), new StringSerializer()));
                String key = r.get("key").isNull() ? null : r.get("key").asText();
                String value = r.get("value").isNull() ? null : r.get("value").asText();
                input.pipeInput(new TestRecord<>(key, value, null, r.get("ts").asLong()));
            }
            for (Map.Entry<String, Deserializer<?>> e : OUT.entrySet()) {
                TestOutputTopic<String, ?> topic = driver.createOutputTopic(e.getKey(), Serdes.String().deserializer(), e.getValue());
                for (TestRecord<String, ?> rec : topic.readRecordsToList()) {
                    ObjectNode o = json.createObjectNode();
                    o.put("topic", e.getKey());
                    if (rec.key() == null) o.putNull("key"); else o.put("key", rec.key());
                    Object v = rec.value();
                    if (v == null) o.putNull("value");
                    else if (v instanceof Long) o.put("value", (Long) v);
                    else o.put("value", v.toString());
                    o.put("ts", rec.timestamp());
                    out.append(json.writeValueAsString(o)).append('\n');
                }
            }
        }
        return out.toString();
    }
}
