package pystreams.oracle.topologies;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
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
 * Kafka's WordCountDemo shape, as in DESIGN.md's example: text-input -> flatMapValues -> groupBy
 * word -> count into store "word-counts" -> word-counts-output (String, Long).
 *
 * <p>Words: the line lower-cased (Locale.ROOT) and split on runs of whitespace, empty strings
 * dropped; the same as Python's {@code line.lower().split()} for ASCII text. (WordCountDemo
 * itself splits on "\\W+", which keeps a leading empty word; whitespace matches our DSL example.)
 */
public final class WordCount implements OracleTopology {

    public List<TopicSpec> inputs() {
        return List.of(TopicSpec.of("text-input", Codecs.STRING, Codecs.STRING));
    }

    public List<TopicSpec> outputs() {
        return List.of(TopicSpec.of("word-counts-output", Codecs.STRING, Codecs.LONG));
    }

    public Topology build(StreamsBuilder builder, Properties config) {
        builder.stream("text-input", Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.stream(line.toLowerCase(Locale.ROOT).split("\\s+"))
                                         .filter(word -> !word.isEmpty()).toList())
            .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
            .count(Materialized.as("word-counts"))
            .toStream()
            .to("word-counts-output", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build(config);
    }
}
