package pystreams.oracle.topologies;

import java.util.List;
import java.util.Properties;
import java.util.function.Function;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5, foreign-key table joins (tests/integration/oracle_fkjoin): tables fk-left and fk-right (String,
 * Long); the foreign key of a left value v is "f" + (v % 5), none (null) for v < 0; joiner "l|r" ("null" for a
 * missing side). left.join(right) -> out-fk-inner; left.leftJoin(right) -> out-fk-left; left.join(right,
 * TableJoined.as("fkn"), Materialized.as("fk-store")) -> out-fk-named.
 */
public final class FkJoins implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("fk-left", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("fk-right", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-fk-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-fk-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-fk-named", Codecs.STRING, Codecs.STRING));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KTable<String, Long> left = builder.table("fk-left", consumed);
        KTable<String, Long> right = builder.table("fk-right", consumed);
        Produced<String, String> produced = Produced.with(Serdes.String(), Serdes.String());
        Function<Long, String> fk = v -> v < 0 ? null : "f" + (v % 5);
        ValueJoiner<Long, Long, String> joiner = (l, r) -> (l == null ? "null" : l.toString()) + "|"
            + (r == null ? "null" : r.toString());
        left.join(right, fk, joiner).toStream().to("out-fk-inner", produced);
        left.leftJoin(right, fk, joiner).toStream().to("out-fk-left", produced);
        left.join(right, fk, joiner, TableJoined.as("fkn"),
                  Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("fk-store")
                      .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
            .toStream().to("out-fk-named", produced);
        return builder.build(config);
    }
}
