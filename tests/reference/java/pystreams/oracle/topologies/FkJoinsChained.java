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
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.state.KeyValueStore;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * Issue 5, foreign-key joins on derived tables (tests/integration/oracle_fkjoin): tables fk-left and fk-right
 * (String, Long). A left join with a (key, value) extractor (no foreign key for keys starting with "a" or
 * negative values), materialized with serdes only -> out-fkc-left; its result joined again by foreign key
 * ("f" + length % 5 of the joined string) with fk-right, named "chain" -> out-fkc-chain; a left join of a
 * filtered left table whose result is materialized in a named store -> out-fkc-filtered.
 */
public final class FkJoinsChained implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("fk-left", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("fk-right", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-fkc-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-fkc-chain", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-fkc-filtered", Codecs.STRING, Codecs.STRING));
    }

    private static String show(Object o) {
        return o == null ? "null" : o.toString();
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KTable<String, Long> left = builder.table("fk-left", consumed);
        KTable<String, Long> right = builder.table("fk-right", consumed);
        Produced<String, String> produced = Produced.with(Serdes.String(), Serdes.String());
        KTable<String, String> joined = left.leftJoin(right,
            (k, v) -> k.startsWith("a") || v < 0 ? null : "f" + (v % 5),
            (l, r) -> show(l) + "|" + show(r),
            Materialized.with(Serdes.String(), Serdes.String()));
        joined.toStream().to("out-fkc-left", produced);
        joined.join(right, v -> "f" + (v.length() % 5), (l, r) -> show(l) + "+" + show(r),
                    TableJoined.as("chain"))
            .toStream().to("out-fkc-chain", produced);
        left.filter((k, v) -> v % 3 != 0)
            .leftJoin(right, v -> "f" + (Math.abs(v) % 6), (l, r) -> show(l) + "/" + show(r),
                      Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("fkc-store")
                          .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
            .toStream().to("out-fkc-filtered", produced);
        return builder.build(config);
    }
}
