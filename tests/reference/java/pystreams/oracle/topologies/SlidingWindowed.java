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
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.StateStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_windows): sliding windows over slide-in (String, Long).
 * count (difference 50, grace 20) -> out-sliding-count; reduce sum (difference 30, no grace) -> out-sliding-sum;
 * aggregate of last digits (difference 40, grace 10) -> out-sliding-agg; count (difference 50, grace 20)
 * suppressed until the window closes -> out-sliding-final; count (difference 50, grace 20) with
 * EmitStrategy.onWindowClose() -> out-sliding-emit. Config "oracle.caching" = "false" disables
 * caching on every store (default: on).
 */
public final class SlidingWindowed implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("slide-in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-sliding-count", Codecs.timeWindowed(Codecs.STRING, 50), Codecs.LONG),
                       TopicSpec.of("out-sliding-sum", Codecs.timeWindowed(Codecs.STRING, 30), Codecs.LONG),
                       TopicSpec.of("out-sliding-agg", Codecs.timeWindowed(Codecs.STRING, 40), Codecs.STRING),
                       TopicSpec.of("out-sliding-final", Codecs.timeWindowed(Codecs.STRING, 50), Codecs.LONG),
                       TopicSpec.of("out-sliding-emit", Codecs.timeWindowed(Codecs.STRING, 50), Codecs.LONG));
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
        KGroupedStream<String, Long> grouped = builder.stream("slide-in", Consumed.with(Serdes.String(), Serdes.Long()))
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()));
        grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-sliding-count", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 50), Serdes.Long()));
        grouped.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(Duration.ofMillis(30)))
            .reduce(Long::sum, caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-sliding-sum", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 30), Serdes.Long()));
        grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(40), Duration.ofMillis(10)))
            .aggregate(() -> "",
                       (k, v, agg) -> digits(agg + (v == null ? "n" : String.valueOf(Math.floorMod(v, 10L)))),
                       caching(Materialized.with(Serdes.String(), Serdes.String()), config))
            .toStream()
            .to("out-sliding-agg", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 40), Serdes.String()));
        grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .to("out-sliding-final", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 50), Serdes.Long()));
        grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(Duration.ofMillis(50), Duration.ofMillis(20)))
            .emitStrategy(org.apache.kafka.streams.kstream.EmitStrategy.onWindowClose())
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-sliding-emit", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 50), Serdes.Long()));
        return builder.build(config);
    }
}
