package pystreams.oracle.topologies;

import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S1 (DSL compiler): split() into named branches with a default, a branch chained through a
 * function, a user repartition() (null keys dropped, as Kafka does), a groupByKey count after the
 * repartition, and a topic-name extractor sink. Mirrored in tests/integration/oracle/harness_cases.py.
 */
public final class S1SplitRepartition implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.STRING));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("digits", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("letters", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("other", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("counts", Codecs.STRING, Codecs.LONG),
                       TopicSpec.of("route-a", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("route-b", Codecs.STRING, Codecs.STRING));
    }

    public Topology build(StreamsBuilder b, Properties config) {
        KStream<String, String> s = b.stream("in");
        Map<String, KStream<String, String>> branches = s.split(Named.as("by-"))
            .branch((k, v) -> v != null && v.matches("[0-9]+"), Branched.as("digits"))
            .branch((k, v) -> v != null && v.matches("[a-z]+"),
                    Branched.withFunction(x -> x.mapValues(v -> v + "!"), "letters"))
            .defaultBranch(Branched.as("other"));
        branches.get("by-digits").to("digits");
        branches.get("by-letters").to("letters");
        branches.get("by-other").to("other");
        s.selectKey((k, v) -> v == null ? null : v.substring(0, 1))
            .repartition(Repartitioned.as("by-first"))
            .groupByKey().count().toStream().to("counts", Produced.with(Serdes.String(), Serdes.Long()));
        s.filter((k, v) -> v != null && (v.startsWith("a") || v.startsWith("b")))
            .to((k, v, ctx) -> "route-" + v.substring(0, 1));
        return b.build(config);
    }
}
