// Runs random DSL programs (JSON from fuzz_drive.py) on Kafka's TopologyTestDriver. Args: programs.json
// input.jsonl. Prints "=== <name>" then every output record as JSON {"topic","key","value","ts"}, topic by
// topic in program order. Functions are the fixed, language-neutral ones documented in fuzz_drive.py.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.kstream.*;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

@SuppressWarnings({"unchecked", "rawtypes"})
public class S1FuzzDriveOracle {
    static Object apply(StreamsBuilder b, List<Object> h, JsonNode op, Map<String, Boolean> outputs) {
        String kind = op.get("op").asText();
        Object src = op.has("src") ? h.get(op.get("src").asInt()) : null;
        KStream<String, String> s = src instanceof KStream ? (KStream) src : null;
        KTable<String, String> t = src instanceof KTable ? (KTable) src : null;
        switch (kind) {
            case "stream": return b.stream(op.get("topic").asText());
            case "table": return b.table(op.get("topic").asText());
            case "filter": return s.filter((k, v) -> v != null && v.contains("1"));
            case "filterNot": return s.filterNot((k, v) -> v != null && v.contains("1"));
            case "mapValues": return s.mapValues(v -> v == null ? null : v.toUpperCase());
            case "flatMapValues": return s.flatMapValues(v -> v == null ? List.<String>of() : Arrays.asList(v.split("-")));
            case "selectKey": return s.selectKey((k, v) -> v == null ? null : v.substring(0, 1));
            case "map": return s.map((k, v) -> KeyValue.pair(v, k));
            case "merge": return s.merge((KStream) h.get(op.get("other").asInt()));
            case "repartition": return s.repartition();
            case "toTable": return s.toTable();
            case "groupByKey": return s.groupByKey();
            case "groupBy": return s.groupBy((k, v) -> v);
            case "count": {
                if (src instanceof KGroupedStream) return ((KGroupedStream) src).count();
                return ((KGroupedTable) src).count();
            }
            case "reduce": return ((KGroupedStream<String, String>) src).reduce((a, v) -> a + "|" + v);
            case "tfilter": return t.filter((k, v) -> v.contains("1"));
            case "tmapValues": return t.mapValues(v -> v.toUpperCase());
            case "tgroupBy": return t.groupBy((k, v) -> KeyValue.pair(v.substring(0, 1), v));
            case "toStream": return ((KTable) src).toStream();
            case "to": {
                boolean longs = op.get("long").asBoolean();
                outputs.put(op.get("topic").asText(), longs);
                if (longs) ((KStream) src).to(op.get("topic").asText(), Produced.with(Serdes.String(), Serdes.Long()));
                else ((KStream) src).to(op.get("topic").asText());
                return null;
            }
            default: throw new IllegalArgumentException("unknown op " + kind);
        }
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode programs = json.readTree(Files.readString(Path.of(args[0])));
        List<JsonNode> input = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[1]))) if (!line.isBlank()) input.add(json.readTree(line));
        StringBuilder out = new StringBuilder();
        for (JsonNode program : programs) {
            out.append("=== ").append(program.get("name").asText()).append('\n');
            StreamsBuilder b = new StreamsBuilder();
            List<Object> h = new ArrayList<>();
            Map<String, Boolean> outputs = new LinkedHashMap<>();
            for (JsonNode op : program.get("ops")) h.add(apply(b, h, op, outputs));
            Properties config = new Properties();
            config.put(StreamsConfig.APPLICATION_ID_CONFIG, "s1-fuzz");
            config.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
            config.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
            config.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                       org.apache.kafka.streams.state.BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
            if (program.get("optimize").asBoolean()) config.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
            if (program.has("cache_bytes")) config.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, program.get("cache_bytes").asLong());
            Set<String> sources = new HashSet<>();
            program.get("sources").forEach(x -> sources.add(x.asText()));
            org.apache.kafka.streams.Topology topology;
            try {
                topology = b.build(config);
            } catch (RuntimeException e) {  // Kafka refuses the graph (we must too)
                out.append("{\"error\":true}\n");
                continue;
            }
            try (TopologyTestDriver driver = new TopologyTestDriver(topology, config)) {
                Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
                for (JsonNode r : input) {
                    String topic = r.get("topic").asText();
                    if (!sources.contains(topic)) continue;
                    TestInputTopic<String, String> in = inputs.computeIfAbsent(topic,
                        x -> driver.createInputTopic(x, new StringSerializer(), new StringSerializer()));
                    in.pipeInput(new TestRecord<>(r.get("key").isNull() ? null : r.get("key").asText(),
                        r.get("value").isNull() ? null : r.get("value").asText(), null, r.get("ts").asLong()));
                }
                for (Map.Entry<String, Boolean> e : outputs.entrySet()) {
                    org.apache.kafka.common.serialization.Deserializer values = e.getValue()
                        ? Serdes.Long().deserializer() : Serdes.String().deserializer();
                    TestOutputTopic<String, ?> topic = driver.createOutputTopic(e.getKey(), Serdes.String().deserializer(), values);
                    for (TestRecord<String, ?> rec : topic.readRecordsToList()) {
                        ObjectNode o = json.createObjectNode();
                        o.put("topic", e.getKey());
                        if (rec.key() == null) o.putNull("key"); else o.put("key", rec.key());
                        Object v = rec.value();
                        if (v == null) o.putNull("value"); else if (v instanceof Long) o.put("value", (Long) v); else o.put("value", v.toString());
                        o.put("ts", rec.timestamp());
                        out.append(json.writeValueAsString(o)).append('\n');
                    }
                }
            }
        }
        System.out.print(out);
    }
}
