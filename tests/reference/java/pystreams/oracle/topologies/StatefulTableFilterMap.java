package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's KTable filter/map_values (tests/integration/oracle_stateful): table(in: String, Long)
 * [materialized "source-store" if oracle.materialize.source=true] .filter(v even) [materialized
 * "filter-store", with explicit serdes, if oracle.materialize.filter=true] .mapValues(v * 10)
 * [materialized "map-store" if oracle.materialize.map=true] -> out; and
 * table.filterNot(v > 50) -> out-not. "oracle.caching" = "false" disables caching on those stores.
 */
public final class StatefulTableFilterMap implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-not", Codecs.STRING, Codecs.LONG));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KTable<String, Long> table = "true".equals(config.getProperty("oracle.materialize.source"))
            ? builder.table("in", consumed, StatefulStreamAggregations.caching(
                  Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("source-store"), config))
            : builder.table("in", consumed);
        KTable<String, Long> evens = "true".equals(config.getProperty("oracle.materialize.filter"))
            ? table.filter((k, v) -> v % 2 == 0, StatefulStreamAggregations.caching(
                  Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("filter-store")
                  .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()), config))
            : table.filter((k, v) -> v % 2 == 0);
        KTable<String, Long> tens = "true".equals(config.getProperty("oracle.materialize.map"))
            ? evens.mapValues(v -> v * 10, StatefulStreamAggregations.caching(
                  Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("map-store")
                      .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()), config))
            : evens.mapValues(v -> v * 10);
        tens.toStream().to("out", Produced.with(Serdes.String(), Serdes.Long()));
        table.filterNot((k, v) -> v > 50).toStream().to("out-not", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
