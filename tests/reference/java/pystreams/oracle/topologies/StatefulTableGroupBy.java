package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's table group_by (tests/integration/oracle_stateful): table(in: String, Long).groupBy(
 * (floorMod(v, 5) as text, v)) -> count -> out-count, reduce(+, -) -> out-sum,
 * aggregate("", agg + "+v", agg + "-v", both cut to the last 30 chars) -> out-agg.
 * Config "oracle.caching" = "false" disables caching on the aggregate stores.
 */
public final class StatefulTableGroupBy implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-count", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-sum", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-agg", Codecs.STRING, Codecs.STRING));
    }

    static String last30(String s) {
        return s.length() > 30 ? s.substring(s.length() - 30) : s;
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KGroupedTable<String, Long> grouped = builder.table("in", Consumed.with(Serdes.String(), Serdes.Long()))
            .groupBy((k, v) -> KeyValue.pair(Long.toString(Math.floorMod(v, 5L)), v),
                     Grouped.with(Serdes.String(), Serdes.Long()));
        grouped.count(StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("group-count"), config))
            .toStream()
            .to("out-count", Produced.with(Serdes.String(), Serdes.Long()));
        grouped.reduce(Long::sum, (agg, v) -> agg - v, StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("group-sum"), config))
            .toStream()
            .to("out-sum", Produced.with(Serdes.String(), Serdes.Long()));
        grouped.aggregate(() -> "", (k, v, agg) -> last30(agg + "+" + v), (k, v, agg) -> last30(agg + "-" + v),
                          StatefulStreamAggregations.caching(
                              Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("group-agg")
                                  .withValueSerde(Serdes.String()), config))
            .toStream()
            .to("out-agg", Produced.with(Serdes.String(), Serdes.String()));
        return builder.build(config);
    }
}
