package pystreams.oracle;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.function.Function;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * Records every output record in the order the topology produced it, across topics.
 *
 * <p>TopologyTestDriver keeps outputs in one queue per topic (its private field
 * outputRecordsByTopic, filled from its MockProducer's history in production order), so the
 * order between topics within one input is lost to TestOutputTopic readers. This swaps that map
 * for one whose queues also append to a shared log. Used with config
 * "oracle.output.order" = "global"; pinned to the Kafka Streams version of the oracle's jars.
 */
final class GlobalOrder {

    /** One produced record and the topic it went to. */
    record Produced(String topic, ProducerRecord<byte[], byte[]> record) {
    }

    private final List<Produced> log = new ArrayList<>();
    private final Map<String, Queue<ProducerRecord<byte[], byte[]>>> queues;

    @SuppressWarnings("unchecked")
    GlobalOrder(TopologyTestDriver driver) {
        try {
            Field field = TopologyTestDriver.class.getDeclaredField("outputRecordsByTopic");
            field.setAccessible(true);
            Map<String, Queue<ProducerRecord<byte[], byte[]>>> original =
                (Map<String, Queue<ProducerRecord<byte[], byte[]>>>) field.get(driver);
            queues = new RecordingMap();
            original.forEach((topic, queue) -> queues.computeIfAbsent(topic, t -> null).addAll(queue));
            field.set(driver, queues);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("oracle.output.order=global needs TopologyTestDriver's "
                                            + "outputRecordsByTopic field: " + e, e);
        }
    }

    /** The records produced since the last call, oldest first; their per-topic queues emptied. */
    List<Produced> drain() {
        List<Produced> out = new ArrayList<>(log);
        log.clear();
        queues.values().forEach(Queue::clear);
        return out;
    }

    private final class RecordingMap extends HashMap<String, Queue<ProducerRecord<byte[], byte[]>>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Queue<ProducerRecord<byte[], byte[]>> computeIfAbsent(
                String topic, Function<? super String, ? extends Queue<ProducerRecord<byte[], byte[]>>> ignored) {
            return super.computeIfAbsent(topic, RecordingQueue::new);
        }
    }

    private final class RecordingQueue extends LinkedList<ProducerRecord<byte[], byte[]>> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        RecordingQueue(String topic) {
            this.topic = topic;
        }

        @Override
        public boolean add(ProducerRecord<byte[], byte[]> record) {
            log.add(new Produced(topic, record));
            return super.add(record);
        }
    }
}
