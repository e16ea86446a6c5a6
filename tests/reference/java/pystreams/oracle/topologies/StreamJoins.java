package pystreams.oracle.topologies;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_joins): left, right (String, Long) streams, table and gtable
 * (String, Long). Joiner output "k|l|r" with "null" for a missing side.
 * inner (diff 50, grace 20) -> out-inner; left (diff 30, grace 10, after 60) -> out-left;
 * outer (diff 25, no grace) -> out-outer; left.join(table) -> out-st-inner;
 * left.leftJoin(table) -> out-st-left; left.join(gtable, key's first letter + "0") -> out-sg-inner;
 * left.leftJoin(gtable, same selector) -> out-sg-left.
 */
public final class StreamJoins implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("left", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("right", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("table", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("gtable", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-outer", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-st-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-st-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-sg-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-sg-left", Codecs.STRING, Codecs.STRING));
    }

    static String j(Object k, Object l, Object r) {
        return k + "|" + l + "|" + r;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KStream<String, Long> left = builder.stream("left", consumed);
        KStream<String, Long> right = builder.stream("right", consumed);
        KTable<String, Long> table = builder.table("table", consumed);
        GlobalKTable<String, Long> gtable = builder.globalTable("gtable", consumed);
        StreamJoined<String, Long, Long> joined = StreamJoined.with(Serdes.String(), Serdes.Long(), Serdes.Long());
        Produced<String, String> produced = Produced.with(Serdes.String(), Serdes.String());
        left.join(right, (k, l, r) -> j(k, l, r),
                  JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)), joined)
            .to("out-inner", produced);
        left.leftJoin(right, (k, l, r) -> j(k, l, r),
                      JoinWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(30), Duration.ofMillis(10))
                          .after(Duration.ofMillis(60)), joined)
            .to("out-left", produced);
        left.outerJoin(right, (k, l, r) -> j(k, l, r),
                       JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(25)), joined)
            .to("out-outer", produced);
        Joined<String, Long, Long> tableJoined = Joined.with(Serdes.String(), Serdes.Long(), Serdes.Long());
        left.join(table, (k, l, r) -> j(k, l, r), tableJoined).to("out-st-inner", produced);
        left.leftJoin(table, (k, l, r) -> j(k, l, r), tableJoined).to("out-st-left", produced);
        left.join(gtable, (k, v) -> k == null ? null : k.substring(0, 1) + "0", (k, l, r) -> j(k, l, r))
            .to("out-sg-inner", produced);
        left.leftJoin(gtable, (k, v) -> k == null ? null : k.substring(0, 1) + "0", (k, l, r) -> j(k, l, r))
            .to("out-sg-left", produced);
        return builder.build(config);
    }
}
