package pystreams.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Kafka Streams 4.1.1 doing bench/streams' three workloads (see bench/streams/workloads.py):
 * stateless (JSON decode, filter amount >= 50, map, produce keyed by user), count (per word, the
 * key, RocksDB + changelog) and window (per word per tumbling 60 s window, key "word@start").
 * Arguments as the Python systems take them: --bootstrap --workload --input --output --app-id
 * --state-dir --commit-interval-ms. Runs until SIGTERM, then closes cleanly.
 */
public final class StreamsBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double THRESHOLD = 50.0;
    private static final long WINDOW_MS = 60_000L;

    private StreamsBench() {}

    public static void main(String[] args) throws Exception {
        Properties argv = new Properties();
        for (int i = 0; i + 1 < args.length; i += 2) {
            argv.setProperty(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String workload = argv.getProperty("workload");
        String input = argv.getProperty("input");
        String output = argv.getProperty("output");

        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, byte[]> stream = builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
        switch (workload) {
            case "stateless":
                stream.mapValues(StreamsBench::decode)
                    .filter((k, v) -> v.get("amount").asDouble() >= THRESHOLD)
                    .map((k, v) -> {
                        ObjectNode out = JSON.createObjectNode();
                        out.put("id", v.get("id").asLong());
                        out.put("user", v.get("user").asText());
                        out.put("cents", (long) (v.get("amount").asDouble() * 100));
                        return KeyValue.pair(v.get("user").asText(), encode(out));
                    })
                    .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
                break;
            case "count":
                stream.mapValues(v -> decode(v).get("word").asText())
                    .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                    .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("word-counts"))
                    .toStream()
                    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
                break;
            case "window":
                stream.mapValues(v -> decode(v).get("word").asText())
                    .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                    .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(WINDOW_MS)))
                    .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("window-counts"))
                    .toStream((wk, v) -> wk.key() + "@" + wk.window().start())
                    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
                break;
            default:
                System.err.println("unknown workload " + workload);
                System.exit(2);
        }

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, argv.getProperty("app-id"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, argv.getProperty("bootstrap"));
        props.put(StreamsConfig.STATE_DIR_CONFIG, argv.getProperty("state-dir"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, argv.getProperty("commit-interval-ms", "1000"));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

        KafkaStreams streams = new KafkaStreams(builder.build(props), props);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(15));
            stopped.countDown();
        }));
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        stopped.await();
    }

    private static JsonNode decode(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON", e);
        }
    }

    private static byte[] encode(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
