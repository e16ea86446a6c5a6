package pystreams.oracle.topologies;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5 (tests/integration/oracle_windows): time-windowed aggregations of win-in (String, Long).
 * tumbling count (size 100, grace 50) -> out-tumbling; hopping sum (size 100, advance 30, grace 20)
 * -> out-hopping; aggregate last digits (size 50, no grace) -> out-agg; count (size 100, grace 30)
 * suppressed until the window closes -> out-final; count (size 80, grace 10) with
 * EmitStrategy.onWindowClose -> out-emit; non-windowed count suppressed untilTimeLimit(50 ms,
 * maxRecords(5).emitEarlyWhenFull()) -> out-limit.
 * Config "oracle.caching" = "false" disables caching on every store (default: on).
 */
public final class TimeWindowed implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("win-in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-tumbling", Codecs.timeWindowed(Codecs.STRING, 100), Codecs.LONG),
                       TopicSpec.of("out-hopping", Codecs.timeWindowed(Codecs.STRING, 100), Codecs.LONG),
                       TopicSpec.of("out-agg", Codecs.timeWindowed(Codecs.STRING, 50), Codecs.STRING),
                       TopicSpec.of("out-final", Codecs.timeWindowed(Codecs.STRING, 100), Codecs.LONG),
                       TopicSpec.of("out-emit", Codecs.timeWindowed(Codecs.STRING, 80), Codecs.LONG),
                       TopicSpec.of("out-limit", Codecs.STRING, Codecs.LONG));
    }

    static <V, S extends org.apache.kafka.streams.processor.StateStore> Materialized<String, V, S> caching(
            Materialized<String, V, S> materialized, Properties config) {
        return "false".equals(config.getProperty("oracle.caching")) ? materialized.withCachingDisabled()
                                                                     : materialized;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KStream<String, Long> in = builder.stream("win-in", Consumed.with(Serdes.String(), Serdes.Long()));
        KGroupedStream<String, Long> grouped = in.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()));
        grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(50)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-tumbling", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 100), Serdes.Long()));
        grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(20))
                               .advanceBy(Duration.ofMillis(30)))
            .reduce(Long::sum, caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-hopping", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 100), Serdes.Long()));
        grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(50)))
            .aggregate(() -> "",
                       (k, v, agg) -> {
                           String next = agg + (v == null ? "n" : String.valueOf(Math.floorMod(v, 10L)));
                           return next.length() > 6 ? next.substring(next.length() - 6) : next;
                       },
                       caching(Materialized.with(Serdes.String(), Serdes.String()), config))
            .toStream()
            .to("out-agg", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 50), Serdes.String()));
        grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(100), Duration.ofMillis(30)))
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .to("out-final", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 100), Serdes.Long()));
        grouped.windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(80), Duration.ofMillis(10)))
            .emitStrategy(EmitStrategy.onWindowClose())
            .count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .toStream()
            .to("out-emit", Produced.with(WindowedSerdes.timeWindowedSerdeFrom(String.class, 80), Serdes.Long()));
        grouped.count(caching(Materialized.with(Serdes.String(), Serdes.Long()), config))
            .suppress(Suppressed.untilTimeLimit(Duration.ofMillis(50),
                                                Suppressed.BufferConfig.maxRecords(5).emitEarlyWhenFull()))
            .toStream()
            .to("out-limit", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
