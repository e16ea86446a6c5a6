package pystreams.oracle;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Runs an {@link OracleTopology} in a TopologyTestDriver over JSON lines.
 *
 * <p>Input, one JSON object per line: a record {"topic", "key", "value", "timestamp", "headers"}
 * (topic required and declared in inputs(); key/value default to null; timestamp defaults to 0;
 * headers an object name to UTF-8 text, null, or {"base64": "..."}), or a command:
 * {"advance_wall_clock_ms": N}, or {"read_store": NAME} which prints the store's entries as one
 * line {"store": NAME, "entries": [...]} (see {@link StoreReader}). Blank lines are ignored.
 *
 * <p>Output, one JSON object per line, {"topic", "key", "value", "timestamp", "headers"}: after
 * each input line, every output topic is read in outputs() order. So records come out in the
 * order the inputs caused them; records caused by one input are grouped per output topic. With
 * config "oracle.output.order" = "global" they come out in the exact order the topology
 * produced them, across topics (see {@link GlobalOrder}).
 *
 * <p>Config: the JSON object's entries become the streams config (a JSON null removes a
 * default). Defaults: application.id = the topology's name, bootstrap.servers = dummy,
 * state.dir = a temp dir removed afterwards, and DSL stores in memory
 * (dsl.store.suppliers.class): outputs are the same as with RocksDB, but the driver commits
 * after every record and a RocksDB flush per commit costs ~100 ms. The oracle's own key
 * "oracle.initial.wall.clock.ms" (default 0) sets the driver's start time.
 */
final class Driver {

    static final String INITIAL_WALL_CLOCK = "oracle.initial.wall.clock.ms";
    static final String OUTPUT_ORDER = "oracle.output.order";

    private final OracleTopology topology;
    private final Properties config;
    private final ObjectMapper mapper = new ObjectMapper();
    private final JsonNodeFactory json = JsonNodeFactory.instance;

    Driver(OracleTopology topology, Properties config) {
        this.topology = topology;
        this.config = config;
    }

    /** The streams config from the command line's JSON object, over the oracle's defaults. */
    static Properties config(OracleTopology topology, String configJson) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, topology.name());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG,
                  BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class.getName());
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(configJson);
        } catch (JsonProcessingException e) {
            throw new Oracle.BadInput("config is not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new Oracle.BadInput("config must be a JSON object, got " + configJson);
        }
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            JsonNode value = entry.getValue();
            if (value.isNull()) {
                props.remove(entry.getKey());
            } else if (value.isValueNode()) {
                props.put(entry.getKey(), value.asText());
            } else {
                throw new Oracle.BadInput("config value of " + entry.getKey()
                                          + " must be a string, number or boolean");
            }
        }
        return props;
    }

    /** The topology built with a StreamsBuilder configured from props. */
    static Topology build(OracleTopology topology, Properties props) {
        Properties streamsProps = new Properties();
        streamsProps.putAll(props);
        streamsProps.remove(INITIAL_WALL_CLOCK);
        streamsProps.remove(OUTPUT_ORDER);
        return topology.build(new StreamsBuilder(new TopologyConfig(new StreamsConfig(streamsProps))),
                              streamsProps);
    }

    void run(InputStream in, OutputStream out) throws IOException {
        Properties props = new Properties();
        props.putAll(config);
        long wallClock = Long.parseLong((String) props.getOrDefault(INITIAL_WALL_CLOCK, "0"));
        props.remove(INITIAL_WALL_CLOCK);
        String order = (String) props.getOrDefault(OUTPUT_ORDER, "topic");
        props.remove(OUTPUT_ORDER);
        if (!order.equals("topic") && !order.equals("global")) {
            throw new Oracle.BadInput(OUTPUT_ORDER + " must be topic or global, got " + order);
        }
        Path stateDir = Files.createTempDirectory("oracle-state-");
        props.putIfAbsent(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
        try (TopologyTestDriver driver = new TopologyTestDriver(
                build(topology, props), props, Instant.ofEpochMilli(wallClock))) {
            Map<String, TestInputTopic<Object, Object>> inputs = new LinkedHashMap<>();
            Map<String, TestOutputTopic<Object, Object>> outputs = new LinkedHashMap<>();
            for (TopicSpec spec : topology.inputs()) {
                inputs.put(spec.topic(), driver.createInputTopic(spec.topic(),
                    serializer(spec.key()), serializer(spec.value()), Instant.EPOCH, Duration.ZERO));
            }
            for (TopicSpec spec : topology.outputs()) {
                outputs.put(spec.topic(), driver.createOutputTopic(spec.topic(),
                    deserializer(spec.key()), deserializer(spec.value())));
            }
            GlobalOrder global = order.equals("global") ? new GlobalOrder(driver) : null;
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode printed;
                try {
                    printed = step(driver, inputs, mapper.readTree(line));
                } catch (JsonProcessingException | IllegalArgumentException e) {
                    throw new Oracle.BadInput("input line " + lineNo + ": " + e.getMessage(), e);
                }
                drain(outputs, global, writer);
                if (printed != null) {
                    writer.write(mapper.writeValueAsString(printed));
                    writer.write('\n');
                }
            }
            drain(outputs, global, writer);
        } finally {
            writer.flush();
            deleteTree(stateDir);
        }
    }

    /** Pipe one record or run one command; returns a line to print, if the command has one. */
    private ObjectNode step(TopologyTestDriver driver, Map<String, TestInputTopic<Object, Object>> inputs,
                            JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object, got " + node);
        }
        if (node.has("advance_wall_clock_ms")) {
            driver.advanceWallClockTime(Duration.ofMillis(node.get("advance_wall_clock_ms").asLong()));
            return null;
        }
        if (node.has("read_store")) {
            return new StoreReader().read(driver, node.get("read_store").asText());
        }
        JsonNode topic = node.get("topic");
        if (topic == null || !topic.isTextual()) {
            throw new IllegalArgumentException("a record needs \"topic\"; commands are "
                + "{\"advance_wall_clock_ms\": N} and {\"read_store\": NAME}; got " + node);
        }
        TopicSpec spec = topology.inputs().stream().filter(s -> s.topic().equals(topic.asText()))
            .findFirst().orElseThrow(() -> new IllegalArgumentException("topic " + topic
                + " is not an input of " + topology.name() + "; inputs: "
                + topology.inputs().stream().map(TopicSpec::topic).toList()));
        JsonNode ts = node.get("timestamp");
        long timestamp = ts == null || ts.isNull() ? 0L : ts.asLong();
        inputs.get(spec.topic()).pipeInput(new TestRecord<>(
            fromJson(spec.key(), node.get("key")), fromJson(spec.value(), node.get("value")),
            headersFromJson(node.get("headers")), timestamp));
        return null;
    }

    private void drain(Map<String, TestOutputTopic<Object, Object>> outputs, GlobalOrder global,
                       Writer writer) throws IOException {
        if (global != null) {
            for (GlobalOrder.Produced produced : global.drain()) {
                TopicSpec spec = topology.outputs().stream()
                    .filter(s -> s.topic().equals(produced.topic())).findFirst().orElse(null);
                if (spec == null) {
                    continue;  // a repartition or changelog topic, or one not declared
                }
                Headers headers = produced.record().headers();
                write(writer, spec,
                      deserializer(spec.key()).deserialize(spec.topic(), headers, produced.record().key()),
                      deserializer(spec.value()).deserialize(spec.topic(), headers, produced.record().value()),
                      produced.record().timestamp(), headers);
            }
            return;
        }
        for (TopicSpec spec : topology.outputs()) {
            TestOutputTopic<Object, Object> topic = outputs.get(spec.topic());
            while (!topic.isEmpty()) {
                TestRecord<Object, Object> record = topic.readRecord();
                write(writer, spec, record.key(), record.value(), record.timestamp(), record.headers());
            }
        }
    }

    private void write(Writer writer, TopicSpec spec, Object key, Object value, Long timestamp,
                       Headers headers) throws IOException {
        ObjectNode line = json.objectNode();
        line.put("topic", spec.topic());
        line.set("key", toJson(spec.key(), key));
        line.set("value", toJson(spec.value(), value));
        line.put("timestamp", timestamp);
        line.set("headers", headersToJson(headers));
        writer.write(mapper.writeValueAsString(line));
        writer.write('\n');
    }

    @SuppressWarnings("unchecked")
    private static Serializer<Object> serializer(Codec<?> codec) {
        return (Serializer<Object>) codec.serde().serializer();
    }

    @SuppressWarnings("unchecked")
    private static Deserializer<Object> deserializer(Codec<?> codec) {
        return (Deserializer<Object>) codec.serde().deserializer();
    }

    private static Object fromJson(Codec<?> codec, JsonNode node) {
        return node == null || node.isNull() ? null : codec.fromJson(node);
    }

    @SuppressWarnings("unchecked")
    private JsonNode toJson(Codec<?> codec, Object value) {
        return value == null ? json.nullNode() : ((Codec<Object>) codec).toJson(value, json);
    }

    private static Headers headersFromJson(JsonNode node) {
        RecordHeaders headers = new RecordHeaders();
        if (node == null || node.isNull()) {
            return headers;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("headers must be an object, got " + node);
        }
        node.properties().forEach(e -> {
            JsonNode v = e.getValue();
            byte[] bytes;
            if (v.isNull()) {
                bytes = null;
            } else if (v.isTextual()) {
                bytes = v.asText().getBytes(StandardCharsets.UTF_8);
            } else if (v.isObject() && v.has("base64")) {
                bytes = Base64.getDecoder().decode(v.get("base64").asText());
            } else {
                throw new IllegalArgumentException("header " + e.getKey()
                    + " must be text, null or {\"base64\": ...}, got " + v);
            }
            headers.add(e.getKey(), bytes);
        });
        return headers;
    }

    private JsonNode headersToJson(Headers headers) {
        ObjectNode out = json.objectNode();
        for (Header header : headers) {
            if (out.has(header.key())) {
                throw new IllegalStateException("output header " + header.key()
                    + " repeats; the oracle's JSON form holds one value per header name");
            }
            byte[] value = header.value();
            if (value == null) {
                out.putNull(header.key());
                continue;
            }
            try {
                out.put(header.key(), StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value)).toString());
            } catch (CharacterCodingException notText) {
                out.putObject(header.key()).put("base64", Base64.getEncoder().encodeToString(value));
            }
        }
        return out;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
