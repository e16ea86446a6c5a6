package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's to_table (tests/integration/oracle_stateful): stream(in: String, Long).toTable("latest")
 * .filter(v > 0) -> out; and selectKey(first letter).toTable() (a repartition first) -> out-rekeyed.
 * "oracle.caching" = "false" disables caching on "latest".
 */
public final class StatefulToTable implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("out-rekeyed", Codecs.STRING, Codecs.LONG));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        KStream<String, Long> in = builder.stream("in", Consumed.with(Serdes.String(), Serdes.Long()));
        in.toTable(StatefulStreamAggregations.caching(
                Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("latest")
                    .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()), config))
            .filter((k, v) -> v > 0)
            .toStream()
            .to("out", Produced.with(Serdes.String(), Serdes.Long()));
        in.selectKey((k, v) -> k == null ? null : k.substring(0, 1))
            .toTable(Materialized.with(Serdes.String(), Serdes.Long()))
            .toStream()
            .to("out-rekeyed", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
