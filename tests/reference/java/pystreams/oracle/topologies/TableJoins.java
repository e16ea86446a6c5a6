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
 * Issue 5 (tests/integration/oracle_joins): tables t1, t2 (String, Long); joiner "l|r" ("null" for a
 * missing side). t1.join(t2) -> out-tt-inner; t1.leftJoin(t2) -> out-tt-left; t1.outerJoin(t2,
 * Materialized.as("outer-store")) -> out-tt-outer; the inner join's result joined again with t2
 * (left join, joiner "l+r") -> out-tt-chain.
 */
public final class TableJoins implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("t1", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("t2", Codecs.STRING, Codecs.LONG));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("out-tt-inner", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-tt-left", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-tt-outer", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("out-tt-chain", Codecs.STRING, Codecs.STRING));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        Consumed<String, Long> consumed = Consumed.with(Serdes.String(), Serdes.Long());
        KTable<String, Long> t1 = builder.table("t1", consumed);
        KTable<String, Long> t2 = builder.table("t2", consumed);
        Produced<String, String> produced = Produced.with(Serdes.String(), Serdes.String());
        KTable<String, String> inner = t1.join(t2, (l, r) -> l + "|" + r);
        inner.toStream().to("out-tt-inner", produced);
        t1.leftJoin(t2, (l, r) -> l + "|" + r).toStream().to("out-tt-left", produced);
        t1.outerJoin(t2, (l, r) -> l + "|" + r,
                     Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("outer-store")
                         .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
            .toStream().to("out-tt-outer", produced);
        inner.leftJoin(t2, (l, r) -> l + "+" + r).toStream().to("out-tt-chain", produced);
        return builder.build(config);
    }
}
