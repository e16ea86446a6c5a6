package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S2's repartition bytes check (tests/integration/oracle_stateful): table(in: String, Long)
 * .groupBy((floorMod(v, 3) as text, v), Grouped.as("regroup")).count("regroup-count") -> out-count,
 * and the raw bytes of the internal topics: "statefulrepartitionbytes-regroup-repartition"
 * (ChangedSerializer's format) and the changelogs of the source table's and the count's stores.
 * Run with the default application.id (the topology's name).
 */
public final class StatefulRepartitionBytes implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("statefulrepartitionbytes-regroup-repartition", Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("statefulrepartitionbytes-in-STATE-STORE-0000000000-changelog",
                                    Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("statefulrepartitionbytes-regroup-count-changelog", Codecs.BYTES, Codecs.BYTES),
                       TopicSpec.of("out-count", Codecs.STRING, Codecs.LONG));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        builder.table("in", Consumed.with(Serdes.String(), Serdes.Long()))
            .groupBy((k, v) -> KeyValue.pair(Long.toString(Math.floorMod(v, 3L)), v),
                     Grouped.<String, Long>as("regroup").withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .count(Materialized.as("regroup-count"))
            .toStream()
            .to("out-count", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
