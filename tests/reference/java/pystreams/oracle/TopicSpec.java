package pystreams.oracle;

/** One input or output topic of an {@link OracleTopology}: its name and key/value codecs. */
public record TopicSpec(String topic, Codec<?> key, Codec<?> value) {

    /** Shorthand for {@code new TopicSpec(topic, key, value)}. */
    public static TopicSpec of(String topic, Codec<?> key, Codec<?> value) {
        return new TopicSpec(topic, key, value);
    }
}
