package pystreams.oracle.topologies;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

import pystreams.oracle.Codecs;
import pystreams.oracle.OracleTopology;
import pystreams.oracle.TopicSpec;

/**
 * One input record fans out to two output topics, interleaved: words-input -> flatMapValues
 * (lower-cased, split on whitespace) -> split: words starting with a..m to words-low, the rest
 * to words-high. The oracle's own test of "oracle.output.order" (global vs per topic).
 */
public final class SplitWords implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("words-input", Codecs.STRING, Codecs.STRING));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("words-low", Codecs.STRING, Codecs.STRING),
                       TopicSpec.of("words-high", Codecs.STRING, Codecs.STRING));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        builder.stream("words-input", Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.stream(line.toLowerCase(Locale.ROOT).split("\\s+"))
                                         .filter(word -> !word.isEmpty()).toList())
            .split(Named.as("by-letter-"))
            .branch((key, word) -> word.charAt(0) <= 'm', Branched.withConsumer(
                low -> low.to("words-low", Produced.with(Serdes.String(), Serdes.String())), "low"))
            .defaultBranch(Branched.withConsumer(
                high -> high.to("words-high", Produced.with(Serdes.String(), Serdes.String())), "high"));
        return builder.build(config);
    }
}
