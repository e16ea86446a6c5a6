package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's stream aggregations (tests/integration/oracle_stateful): in (String, Long) ->
 * groupByKey.count -> out-count; groupBy(first letter).reduce(+) -> out-sum (repartition, null keys
 * filtered); groupByKey.aggregate("", last 8 chars of agg + floorMod(v, 10)) -> out-agg.
 * Config "oracle.caching" = "false" disables caching on every store (default: on).
 */
public final class StatefulStreamAggregations implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-count", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-sum", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-agg", Codecs.STRING, Codecs.STRING));
    }

    static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> caching(
            Materialized<String, V, KeyValueStore<Bytes, byte[]>> materialized, Properties config) {
        return "false".equals(config.getProperty("oracle.caching")) ? materialized.withCachingDisabled()
                                                                     : materialized;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KStream<String, Long> in = builder.stream("in", Consumed.with(Serdes.String(), Serdes.Long()));
        in.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
            .count(caching(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("count-store"), config))
            .toStream()
            .to("out-count", Produced.with(Serdes.String(), Serdes.Long()));
        in.groupBy((k, v) -> k == null ? null : k.substring(0, 1), Grouped.with(Serdes.String(), Serdes.Long()))
            .reduce(Long::sum, caching(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("sum-store")
                                       .withValueSerde(Serdes.Long()), config))
            .toStream()
            .to("out-sum", Produced.with(Serdes.String(), Serdes.Long()));
        in.groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
            .aggregate(() -> "",
                       (k, v, agg) -> {
                           String next = agg + Math.floorMod(v, 10L);
                           return next.length() > 8 ? next.substring(next.length() - 8) : next;
                       },
                       caching(Materialized.<String, String, KeyValueStore<Bytes, byte[]>>with(
                           Serdes.String(), Serdes.String()), config))
            .toStream()
            .to("out-agg", Produced.with(Serdes.String(), Serdes.String()));
        return builder.build(config);
    }
}
