package pystreams.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import org.apache.kafka.common.serialization.Serde;

/**
 * How one key or value type crosses the oracle's JSON boundary: the Kafka serde the topology
 * uses, plus JSON to value and value to JSON. JSON null is always Java null (a null key or a
 * tombstone), so implementations only see non-null input. Built-ins live in {@link Codecs}.
 */
public interface Codec<T> {

    /** A short name for listings and errors, e.g. "string", "long", "windowed<string>". */
    String name();

    /** The serde the driver's input/output topics use for this type. */
    Serde<T> serde();

    /** A non-null JSON node to a value; throw IllegalArgumentException with a clear message. */
    T fromJson(JsonNode node);

    /** A non-null value to JSON. */
    JsonNode toJson(T value, JsonNodeFactory json);
}
