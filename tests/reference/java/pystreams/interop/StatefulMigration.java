package pystreams.interop;

import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Java side of tests/integration/reference/test_stateful_migration.py: the same application.id is run
 * by pystreams and by this app one after the other, so each must continue from the other's committed
 * offsets and restore its RocksDB stores from the other's changelogs.
 *
 * Args: bootstrap applicationId stateDir inputTopic countsTopic windowsTopic windowSizeMs sessionsTopic gapMs
 *       [processingGuarantee]  (at_least_once by default)
 * Topology: lines (String, String) -> words -> groupBy(word, Grouped.as("words")) [repartition
 * "<app>-words-repartition"]; count(Materialized.as("counts")) -> countsTopic (String, Long);
 * windowedBy(tumbling windowSizeMs, grace 1 h).count(Materialized.as("window-counts")) -> windowsTopic
 * (TimeWindowedSerde(String), Long); windowedBy(sessions of gapMs, grace 1 h).count(Materialized.as("session-counts"))
 * -> sessionsTopic (SessionWindowedSerde(String), Long; null for a session merged away). Prints "STATE <state>" on every transition and
 * "RESTORED <store> <partition> <records>" when a store partition finished restoring; a SIGTERM closes
 * the app cleanly (commit, checkpoint), prints "CLOSED true" and exits. Kafka Streams' main consumer does not leave the group
 * on close (dynamic members; CloseOptions.leaveGroup removes static members only), so the next system's
 * first rebalance waits for this member's session timeout: 6 s (the broker's minimum) instead of 45 s.
 */
public final class StatefulMigration {

    public static void main(String[] args) throws Exception {
        long windowSizeMs = Long.parseLong(args[6]);
        StreamsBuilder builder = new StreamsBuilder();
        KGroupedStream<String, String> words = builder
            .stream(args[3], Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase().split(" ")))
            .groupBy((key, word) -> word, Grouped.<String, String>as("words")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()));
        words.count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .toStream()
            .to(args[4], Produced.with(Serdes.String(), Serdes.Long()));
        words.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowSizeMs), Duration.ofHours(1)))
            .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("window-counts")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .toStream()
            .to(args[5], Produced.with(
                WindowedSerdes.timeWindowedSerdeFrom(String.class, windowSizeMs), Serdes.Long()));
        words.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(Long.parseLong(args[8])),
                                                                Duration.ofHours(1)))
            .count(Materialized.<String, Long, SessionStore<Bytes, byte[]>>as("session-counts")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .toStream()
            .to(args[7], Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.Long()));

        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[2]);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        if (args.length > 9) {
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[9]);
        }
        props.put("auto.offset.reset", "earliest");
        props.put(StreamsConfig.mainConsumerPrefix("session.timeout.ms"), 6000);
        props.put(StreamsConfig.mainConsumerPrefix("heartbeat.interval.ms"), 1500);
        KafkaStreams streams = new KafkaStreams(builder.build(props), props);
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            public void onRestoreStart(TopicPartition tp, String store, long start, long end) { }
            public void onBatchRestored(TopicPartition tp, String store, long end, long n) { }
            public void onRestoreEnd(TopicPartition tp, String store, long total) {
                System.out.println("RESTORED " + store + " " + tp.partition() + " " + total);
                System.out.flush();
            }
        });
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean closed = streams.close(Duration.ofSeconds(30));
            System.out.println("CLOSED " + closed);  // the state listener may still be printing NOT_RUNNING
            System.out.flush();
            done.countDown();
        }));
        streams.setStateListener((now, before) -> {
            System.out.println("STATE " + now);
            System.out.flush();
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.out.println("ERROR " + e);
            e.printStackTrace(System.out);
            System.out.flush();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        done.await();
    }
}
