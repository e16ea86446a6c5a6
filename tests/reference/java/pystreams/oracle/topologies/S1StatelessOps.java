package pystreams.oracle.topologies;

import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * S1 (DSL compiler): the stateless operators on one String stream, each to its own topic:
 * filter (contains "1"), filterNot (null or longer than 3) + mapValues upper-case, flatMapValues
 * split on "-", selectKey first char, map swap, flatMap (k,v)+(v,k), peek, merge of two branches.
 * Mirrored in tests/integration/oracle/harness_cases.py.
 */
public final class S1StatelessOps implements OracleTopology {

    static final List<String> OUTS = List.of("filtered", "upper", "parts", "rekeyed", "swapped", "both", "merged");

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("in", Codecs.STRING, Codecs.STRING));
    }

    public List<TopicSpec> outputs() {
        return OUTS.stream().map(t -> TopicSpec.of(t, Codecs.STRING, Codecs.STRING)).toList();
    }

    public Topology build(StreamsBuilder b, Properties config) {
        KStream<String, String> s = b.stream("in");
        s.filter((k, v) -> v != null && v.contains("1"), Named.as("only-ones")).to("filtered");
        s.filterNot((k, v) -> v == null || v.length() > 3).mapValues(v -> v.toUpperCase()).to("upper");
        s.flatMapValues(v -> v == null ? List.<String>of() : Arrays.asList(v.split("-"))).to("parts");
        s.selectKey((k, v) -> v == null ? null : v.substring(0, 1)).to("rekeyed");
        s.map((k, v) -> KeyValue.pair(v, k)).to("swapped");
        s.flatMap((k, v) -> v == null ? List.<KeyValue<String, String>>of()
                                      : List.of(KeyValue.pair(k, v), KeyValue.pair(v, k))).to("both");
        KStream<String, String> a = s.peek((k, v) -> { }).filter((k, v) -> v != null && v.startsWith("a"));
        KStream<String, String> c = s.filter((k, v) -> v != null && v.startsWith("c"));
        a.merge(c).to("merged");
        return b.build(config);
    }
}
