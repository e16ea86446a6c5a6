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
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's chained KTables (tests/integration/oracle_stateful), where old values must flow:
 * stream(in).groupByKey.count("counts").groupBy((count as text, key)).count("histogram") -> out-histogram
 * (a stream aggregate sending old values), counts.filter(n even).mapValues(n * 100) -> out-even
 * (a filter over an aggregate: old values, no needless tombstones); table(tin).filter(v >= 0).mapValues(floorMod(v, 7))
 * .groupBy(v == 3 ? (null, v) : (v as text, v)).reduce(+, -, "chain") -> out-chain (a non-materialized
 * filter/mapValues chain forced to send old values; null group keys dropped).
 * "oracle.caching" = "false" disables caching on the named stores.
 */
public final class StatefulChains implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("tin", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-histogram", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-chain", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-even", Codecs.STRING, Codecs.LONG));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KTable<String, Long> counts = builder.stream("in", Consumed.with(Serdes.String(), Serdes.Long()))
            .groupByKey()
            .count(StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts"), config));
        counts.filter((k, n) -> n % 2 == 0).mapValues(n -> n * 100)
            .toStream()
            .to("out-even", Produced.with(Serdes.String(), Serdes.Long()));
        counts.groupBy((k, n) -> KeyValue.pair(Long.toString(n), k), Grouped.with(Serdes.String(), Serdes.String()))
            .count(StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("histogram"), config))
            .toStream()
            .to("out-histogram", Produced.with(Serdes.String(), Serdes.Long()));
        builder.table("tin", Consumed.with(Serdes.String(), Serdes.Long()))
            .filter((k, v) -> v >= 0)
            .mapValues(v -> Math.floorMod(v, 7L))
            .groupBy((k, v) -> v == 3L ? KeyValue.pair((String) null, v) : KeyValue.pair(Long.toString(v), v),
                     Grouped.with(Serdes.String(), Serdes.Long()))
            .reduce(Long::sum, (agg, v) -> agg - v, StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("chain"), config))
            .toStream()
            .to("out-chain", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
