// A Java (Apache Kafka client) transactional producer and read_committed/read_uncommitted
// consumers, for the exactly-once conformance tests. Prints one JSON-ish line per result.
//   java TxnClient BOOTSTRAP TOPIC TRANSACTIONAL_ID
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class TxnClient {
    static KafkaProducer<String, String> producer(String bootstrap, String tid) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("transactional.id", tid);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        KafkaProducer<String, String> producer = new KafkaProducer<>(p);
        producer.initTransactions();
        return producer;
    }

    static List<String> read(String bootstrap, String topic, String isolation) {
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("isolation.level", isolation);
        c.put("enable.auto.commit", "false");
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", StringDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(Collections.singletonList(tp));
            consumer.seekToBeginning(Collections.singletonList(tp));
            long end = consumer.endOffsets(Collections.singletonList(tp)).get(tp);  // LSO/HW
            long deadline = System.currentTimeMillis() + 30000;
            while (consumer.position(tp) < end && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(r.offset() + ":" + r.value());
                }
            }
        }
        return out;
    }

    public static void main(String[] args) {
        String bootstrap = args[0], topic = args[1], tid = args[2];
        try (KafkaProducer<String, String> p = producer(bootstrap, tid)) {
            String[] outcomes = {"commit", "abort", "commit"};
            for (int t = 0; t < outcomes.length; t++) {
                p.beginTransaction();
                for (int i = 0; i < 3; i++) {
                    p.send(new ProducerRecord<>(topic, 0, "k", outcomes[t] + "-" + t + "-" + i));
                }
                p.flush();
                if (outcomes[t].equals("commit")) p.commitTransaction(); else p.abortTransaction();
            }
            // zombie fencing: a second instance with the same id fences this one
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "zombie"));
            p.flush();
            try (KafkaProducer<String, String> successor = producer(bootstrap, tid)) {
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(topic, 0, "k", "successor"));
                successor.commitTransaction();
            }
            try {
                p.commitTransaction();
                System.out.println("zombie=committed");
            } catch (ProducerFencedException | InvalidProducerEpochException e) {
                System.out.println("zombie=fenced");
            }
        }
        System.out.println("read_committed=" + String.join(",", read(bootstrap, topic, "read_committed")));
        System.out.println("read_uncommitted=" + String.join(",", read(bootstrap, topic, "read_uncommitted")));
    }
}
