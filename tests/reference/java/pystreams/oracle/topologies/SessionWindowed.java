package pystreams.oracle.topologies;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.StateStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_windows): session windows over sess-in (String, Long).
 * count (gap 50, grace 20) -> out-session-count; reduce sum (gap 30, no grace) -> out-session-sum;
 * aggregate of last digits with a merger (gap 40, grace 10) -> out-session-agg; count (gap 50, grace 20)
 * suppressed until the window closes -> out-session-final; count (gap 50, grace 20) with
 * EmitStrategy.onWindowClose() -> out-session-emit. Config "oracle.caching" = "false" disables
 * caching on every store (default: on).
 */
public final class SessionWindowed implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("sess-in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-session-count", Codecs.sessionWindowed(Codecs.STRING), Codecs.LONG),
                       TopicSpec.of("out-session-sum", Codecs.sessionWindowed(Codecs.STRING), Codecs.LONG),
                       TopicSpec.of("out-session-agg", Codecs.sessionWindowed(Codecs.STRING), Codecs.STRING),
                       TopicSpec.of("out-session-final", Codecs.sessionWindowed(Codecs.STRING), Codecs.LONG),
                       TopicSpec.of("out-session-emit", Codecs.sessionWindowed(Codecs.STRING), Codecs.LONG));
    }

    static <V, S extends StateStore> Materialized<String, V, S> caching(Materialized<String, V, S> materialized,
                                                                        Properties config) {
        return "false".equals(config.getProperty("oracle.caching")) ? materialized.withCachingDisabled()
                                                                     : materialized;
    }

    static String digits(String agg) {
        return agg.length() > 6 ? agg.substring(agg.length() - 6) : agg;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KGroupedStream<String, Long> grouped = builder.stream("sess-in", Consumed.with(Serdes.String(), Serdes.Long()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()));
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-session-count", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.Long()));
        grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(Duration.ofMillis(30)))
            .reduce(Long::sum, caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-session-sum", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.Long()));
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(40), Duration.ofMillis(10)))
            .aggregate(() -> "",
                       (k, v, agg) -> digits(agg + (v == null ? "n" : String.valueOf(Math.floorMod(v, 10L)))),
                       (k, a, b) -> digits(a + "/" + b),
                       caching(Materialized.with(Serdes.String(), Serdes.String()), config))
            .toStream()
            .to("out-session-agg", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.String()));
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .to("out-session-final", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.Long()));
        grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .emitStrategy(org.apache.kafka.streams.kstream.EmitStrategy.onWindowClose())
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-session-emit", Produced.with(WindowedSerdes.sessionWindowedSerdeFrom(String.class), Serdes.Long()));
        return builder.build(config);
    }
}
