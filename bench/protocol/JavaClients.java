// Used by capture_clients.py: the Apache Kafka Java client (4.x) produces one keyed record with a
// header to topic "cap", then reads it back in a consumer group and commits, so we see that it accepts our responses.
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaClients {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("linger.ms", "0");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>("cap", "k".getBytes(), "hello".getBytes());
            record.headers().add("h", "v".getBytes());
            RecordMetadata md = producer.send(record).get();
            System.out.println("delivered: " + md.topic() + "-" + md.partition() + "@" + md.offset());
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", args[0]);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("group.id", "capture");
        c.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of("cap"));
            long deadline = System.currentTimeMillis() + 20000;
            while (System.currentTimeMillis() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    System.out.println("consumed: " + new String(r.key()) + "=" + new String(r.value()) + "@" + r.offset());
                    consumer.commitSync();
                    return;
                }
            }
            System.out.println("consumed nothing");
            System.exit(1);
        }
    }
}
