// Java Kafka Streams 4.1.1 side of tests/integration/runtime/test_java_interop.py (run in source-file mode).
// Args: bootstrap applicationId stateDir textTopic javaCountsTopic pyCountsTopic javaReadTopic
//       [processingGuarantee [cacheMaxBytes]]  (processing.guarantee, default at_least_once; statestore.cache.max.bytes,
//       default Kafka's; under exactly_once_v2 Kafka Streams reads its input read_committed and writes in transactions)
// Sub-topology 0-1: word count of textTopic into javaCountsTopic (String, Long), store "counts".
// Sub-topology 2: reads pystreams' counts (String, Long) and writes "py:<count>" to javaReadTopic.
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

public class InteropWordCount {
    public static void main(String[] args) throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[3], Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.toLowerCase().split(" ")))
            .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts"))
            .toStream()
            .to(args[4], Produced.with(Serdes.String(), Serdes.Long()));
        builder.stream(args[5], Consumed.with(Serdes.String(), Serdes.Long()))
            .mapValues(count -> "py:" + count)
            .to(args[6], Produced.with(Serdes.String(), Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[2]);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        props.put("auto.offset.reset", "earliest");
        if (args.length > 7) {
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[7]);
        }
        if (args.length > 8) {
            props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(args[8]));
        }
        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { streams.close(); done.countDown(); }));
        streams.setStateListener((now, before) -> System.out.println("STATE " + now));
        streams.start();
        done.await();
    }
}
