// Kafka Streams' own SubscriptionInfo / AssignmentInfo (kafka-streams 4.1.1) as the reference for
// pystreams/runtime/assignment/kafka_info.py: `encode` prints Java's bytes for fixed inputs (the fixtures in
// tests/unit/runtime/assignment/test_kafka_info.py were captured with it), `decode` reads "kind version hex" lines
// on stdin (bytes pystreams wrote) and prints what Java's decoders make of them, one canonical line each.
// Run by tests/integration/reference/test_mixed_group.py (javac + java with .cache/reference/lib on the classpath).
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.internals.assignment.AssignmentInfo;
import org.apache.kafka.streams.processor.internals.assignment.SubscriptionInfo;
import org.apache.kafka.streams.state.HostInfo;

public class KafkaInfoBytes {
    static final UUID PROCESS = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    static String hex(final ByteBuffer buf) {
        final StringBuilder sb = new StringBuilder();
        final ByteBuffer b = buf.duplicate();
        b.rewind();
        while (b.hasRemaining()) {
            sb.append(String.format("%02x", b.get()));
        }
        return sb.toString();
    }

    static byte[] unhex(final String s) {
        final byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static Set<TopicPartition> tps(final String... specs) {
        final Set<TopicPartition> out = new HashSet<>();
        for (final String spec : specs) {
            final int dash = spec.lastIndexOf('-');
            out.add(new TopicPartition(spec.substring(0, dash), Integer.parseInt(spec.substring(dash + 1))));
        }
        return out;
    }

    static SubscriptionInfo subscription(final int version, final int latest) {
        final Map<TaskId, Long> sums = new HashMap<>();
        sums.put(new TaskId(0, 0), -2L);  // Task.LATEST_OFFSET: running
        sums.put(new TaskId(1, 1), 42L);
        sums.put(new TaskId(1, 3), 7L);
        final Map<String, String> tags = new HashMap<>();
        tags.put("zone", "eu-1");
        return new SubscriptionInfo(version, latest, new ProcessId(PROCESS), "localhost:8080", sums, (byte) 5,
            version >= 9 ? 4 : 0, tags);
    }

    static AssignmentInfo assignment(final int version) {
        // one entry per assigned partition in (topic, partition) order: app-repartition-2, left-0, right-0
        final List<TaskId> active = Arrays.asList(new TaskId(1, 2), new TaskId(0, 0), new TaskId(0, 0));
        final Map<TaskId, Set<TopicPartition>> standby = new HashMap<>();
        standby.put(new TaskId(0, 1), tps("left-1", "right-1"));
        final Map<HostInfo, Set<TopicPartition>> hosts = new HashMap<>();
        hosts.put(new HostInfo("localhost", 8080), tps("left-0", "right-0", "app-repartition-2"));
        hosts.put(new HostInfo("other", 9090), tps("left-1", "right-1"));
        final Map<HostInfo, Set<TopicPartition>> standbyHosts = new HashMap<>();
        standbyHosts.put(new HostInfo("localhost", 8080), tps("left-1", "right-1"));
        final AssignmentInfo info = new AssignmentInfo(version, 11, active,
            standby, hosts, standbyHosts, 0);
        info.setNextRebalanceTime(1_700_000_000_000L);
        return info;
    }

    static String canonical(final Map<?, ? extends Set<TopicPartition>> map) {
        final TreeMap<String, TreeSet<String>> out = new TreeMap<>();
        for (final Map.Entry<?, ? extends Set<TopicPartition>> e : map.entrySet()) {
            final TreeSet<String> set = new TreeSet<>();
            for (final TopicPartition tp : e.getValue()) {
                set.add(tp.toString());
            }
            final Object key = e.getKey();
            out.put(key instanceof HostInfo ? ((HostInfo) key).host() + ":" + ((HostInfo) key).port() : key.toString(),
                set);
        }
        return out.toString();
    }

    public static void main(final String[] args) throws Exception {
        if (args[0].equals("encode")) {
            for (final int v : new int[] {2, 7, 9, 11}) {
                System.out.println("subscription " + v + " " + hex(subscription(v, v <= 2 ? -1 : 11).encode()));
            }
            for (final int v : new int[] {2, 4, 5, 6, 7, 10, 11}) {
                System.out.println("assignment " + v + " " + hex(assignment(v).encode()));
            }
            return;
        }
        final java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            final String[] parts = line.trim().split(" ");
            if (parts.length < 3) {
                continue;
            }
            final ByteBuffer data = ByteBuffer.wrap(unhex(parts[2]));
            if (parts[0].equals("subscription")) {
                final SubscriptionInfo info = SubscriptionInfo.decode(data);
                System.out.println(parts[0] + " " + parts[1] + " version=" + info.version()
                    + " latest=" + info.latestSupportedVersion() + " process=" + info.processId().id()
                    + " endpoint=" + info.userEndPoint() + " sums=" + new TreeMap<>(info.taskOffsetSums())
                    + " error=" + info.errorCode() + " tags=" + new TreeMap<>(info.clientTags()));
            } else {
                final AssignmentInfo info = AssignmentInfo.decode(data);
                System.out.println(parts[0] + " " + parts[1] + " version=" + info.version()
                    + " common=" + info.commonlySupportedVersion() + " active=" + info.activeTasks()
                    + " standby=" + canonical(info.standbyTasks()) + " hosts=" + canonical(info.partitionsByHost())
                    + " standbyHosts=" + canonical(info.standbyPartitionByHost()) + " error=" + info.errCode()
                    + " next=" + info.nextRebalanceMs());
            }
        }
    }
}
