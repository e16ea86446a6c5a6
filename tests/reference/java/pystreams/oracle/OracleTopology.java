package pystreams.oracle;

import java.util.List;
import java.util.Locale;
import java.util.Properties;

import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;

/**
 * A Kafka Streams topology the oracle can describe and drive. Put one class per topology in
 * package {@code pystreams.oracle.topologies} with a public no-argument constructor; the oracle
 * finds it by {@link #name()} (no registry to edit).
 *
 * <p>Inputs and outputs declare each topic's key and value {@link Codec}: how the driver turns
 * JSON into typed records and typed records back into JSON. Outputs are read in declaration order.
 */
public interface OracleTopology {

    /** The name on the oracle's command line; by default the class name lower-cased. */
    default String name() {
        return getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }

    /** Topics the test pipes records into, with their codecs. */
    List<TopicSpec> inputs();

    /** Topics the driver reads after every input, in this order, with their codecs. */
    List<TopicSpec> outputs();

    /**
     * Build the topology. {@code builder} is configured from {@code config}, the streams config
     * the driver runs with (so store suppliers follow it); a DSL topology returns
     * {@code builder.build(config)} (which honours {@code topology.optimization}), a Processor API
     * one may ignore the builder. Topology parameters can be read from {@code config} too.
     */
    Topology build(StreamsBuilder builder, Properties config);
}
