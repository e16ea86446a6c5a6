package pystreams.oracle.topologies;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.Joined;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_joins): user-given names everywhere (StreamJoined name/store name, Named
 * windowed count with a named store, named suppression, named stream-table and table-table joins) and a
 * stream-table join after a key change (repartition), for describe() naming.
 */
public final class NamedWindowsJoins implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("nl", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("nr", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("nt", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("nt2", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("n-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("n-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("n-outer", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("n-final", Codecs.timeWindowed(Codecs.STRING, 100), Codecs.LONG),
                       TopicSpec.of("n-st", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("n-rekeyed", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("n-tt", Codecs.STRING, Codecs.STRING));
    }

    static String j(Object l, Object r) {
        return l + "|" + r;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KStream<String, Long> left = builder.stream("nl", consumed);
        KStream<String, Long> right = builder.stream("nr", consumed);
        KTable<String, Long> table = builder.table("nt", consumed);
        KTable<String, Long> table2 = builder.table("nt2", consumed);
        Produced<String, String> produced = Produced.with(Serdes.String(), Serdes.String());
        StreamJoined<String, Long, Long> sj = StreamJoined.with(Serdes.String(), Serdes.Long(), Serdes.Long());
        left.join(right, NamedWindowsJoins::j, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(20)),
                  sj.withName("sj").withStoreName("sjstore")).to("n-inner", produced);
        left.leftJoin(right, NamedWindowsJoins::j, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(20)),
                      sj.withName("lj")).to("n-left", produced);
        left.outerJoin(right, NamedWindowsJoins::j, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(20)),
                       sj.withStoreName("oj")).to("n-outer", produced);
        left.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(10)))
            .count(Named.as("wcount"), Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("wstore")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("final"))
            .toStream()
            .to("n-final", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 100), Serdes.Long()));
        Joined<String, Long, Long> joined = Joined.with(Serdes.String(), Serdes.Long(), Serdes.Long());
        left.join(table, NamedWindowsJoins::j, joined.withName("stj")).to("n-st", produced);
        left.selectKey((k, v) -> v == null ? null : "a" + Math.floorMod(v, 3L))
            .leftJoin(table, NamedWindowsJoins::j, joined).to("n-rekeyed", produced);
        table.join(table2, NamedWindowsJoins::j, Named.as("ttj"),
                   Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("ttstore")
                       .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
            .toStream().to("n-tt", produced);
        return builder.build(config);
    }
}
