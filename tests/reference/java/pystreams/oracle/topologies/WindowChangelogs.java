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
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_windows): the changelog bytes of a window store (windowed count
 * "wstore"), a session store (session count "sstore") and the join window stores of a left join (store
 * name "jstore"), read as output topics with application.id "windowchangelogs".
 */
public final class WindowChangelogs implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("cl-in", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("cl-in2", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("windowchangelogs-wstore-changelog", Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("windowchangelogs-sstore-changelog", Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("windowchangelogs-jstore-this-join-store-changelog", Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("windowchangelogs-jstore-outer-other-join-store-changelog", Codecs.BYTES,
                                    Codecs.BYTES),
                       TopicSpec.of("cl-out", Codecs.STRING, Codecs.STRING));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KStream<String, Long> in = builder.stream("cl-in", Consumed.with(Serdes.String(), Serdes.Long()));
        KStream<String, Long> in2 = builder.stream("cl-in2", Consumed.with(Serdes.String(), Serdes.Long()));
        KGroupedStream<String, Long> grouped = in.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()));
        grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(10)))
            .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("wstore")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()));
        grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(Duration.ofMillis(30)))
            .count(Materialized.<String, Long, SessionStore<Bytes, byte[]>>as("sstore")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()));
        in.leftJoin(in2, (l, r) -> l + "|" + r, JoinWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(20)),
                    StreamJoined.with(Serdes.String(), Serdes.Long(), Serdes.Long()).withStoreName("jstore"))
            .to("cl-out", Produced.with(Serdes.String(), Serdes.String()));
        return builder.build(config);
    }
}
