package pystreams.oracle;

import java.util.Base64;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.kstream.internals.TimeWindow;

/**
 * The built-in codecs. JSON forms: string as a string; long/integer/short as an integral number;
 * double/float as a number; boolean; bytes as base64 text; uuid as its text form; void is always
 * null. Windowed keys are objects {"key": inner, "start": ms, "end": ms}.
 */
public final class Codecs {

    public static final Codec<String> STRING = simple("string", Serdes.String(),
        (n, name) -> require(n, n.isTextual(), name).asText(), (v, j) -> j.textNode(v));
    public static final Codec<Long> LONG = simple("long", Serdes.Long(),
        (n, name) -> require(n, n.canConvertToLong() && n.isIntegralNumber(), name).asLong(),
        (v, j) -> j.numberNode(v));
    public static final Codec<Integer> INTEGER = simple("integer", Serdes.Integer(),
        (n, name) -> require(n, n.isIntegralNumber() && n.canConvertToInt(), name).asInt(),
        (v, j) -> j.numberNode(v));
    public static final Codec<Short> SHORT = simple("short", Serdes.Short(),
        (n, name) -> (short) require(n, n.isIntegralNumber() && n.asInt() == (short) n.asInt(),
                                     name).asInt(),
        (v, j) -> j.numberNode(v));
    public static final Codec<Double> DOUBLE = simple("double", Serdes.Double(),
        (n, name) -> require(n, n.isNumber(), name).asDouble(), (v, j) -> j.numberNode(v));
    public static final Codec<Float> FLOAT = simple("float", Serdes.Float(),
        (n, name) -> (float) require(n, n.isNumber(), name).asDouble(),
        (v, j) -> j.numberNode(v));
    public static final Codec<Boolean> BOOLEAN = simple("boolean", Serdes.Boolean(),
        (n, name) -> require(n, n.isBoolean(), name).asBoolean(), (v, j) -> j.booleanNode(v));
    public static final Codec<byte[]> BYTES = simple("bytes", Serdes.ByteArray(),
        (n, name) -> decodeBase64(require(n, n.isTextual(), name).asText()),
        (v, j) -> j.textNode(Base64.getEncoder().encodeToString(v)));
    public static final Codec<UUID> UUID_CODEC = simple("uuid", Serdes.UUID(),
        (n, name) -> UUID.fromString(require(n, n.isTextual(), name).asText()),
        (v, j) -> j.textNode(v.toString()));
    public static final Codec<Void> VOID = simple("void", Serdes.Void(),
        (n, name) -> { throw new IllegalArgumentException("void takes only null, got " + n); },
        (v, j) -> j.nullNode());

    private Codecs() {
    }

    /** Keys of a time-windowed KTable turned into a stream (windowedBy(TimeWindows...)). */
    public static <K> Codec<Windowed<K>> timeWindowed(Codec<K> inner, long windowSizeMs) {
        return windowed("time-windowed<" + inner.name() + ">", inner,
            WindowedSerdes.timeWindowedSerdeFrom(typeOf(inner), windowSizeMs),
            (start, end) -> new TimeWindow(start, end));
    }

    /** Keys of a session-windowed KTable turned into a stream (windowedBy(SessionWindows...)). */
    public static <K> Codec<Windowed<K>> sessionWindowed(Codec<K> inner) {
        return windowed("session-windowed<" + inner.name() + ">", inner,
            WindowedSerdes.sessionWindowedSerdeFrom(typeOf(inner)),
            (start, end) -> new SessionWindow(start, end));
    }

    /** A codec from its parts, for custom types in a topology class. */
    public static <T> Codec<T> simple(String name, Serde<T> serde,
                                      BiFunction<JsonNode, String, T> fromJson,
                                      BiFunction<T, JsonNodeFactory, JsonNode> toJson) {
        return new Codec<>() {
            public String name() { return name; }
            public Serde<T> serde() { return serde; }
            public T fromJson(JsonNode node) { return fromJson.apply(node, name); }
            public JsonNode toJson(T value, JsonNodeFactory json) { return toJson.apply(value, json); }
        };
    }

    private static <K> Codec<Windowed<K>> windowed(
            String name, Codec<K> inner, Serde<Windowed<K>> serde,
            BiFunction<Long, Long, org.apache.kafka.streams.kstream.Window> window) {
        return new Codec<>() {
            public String name() { return name; }
            public Serde<Windowed<K>> serde() { return serde; }
            public Windowed<K> fromJson(JsonNode node) {
                require(node, node.isObject() && node.has("start") && node.has("end"), name);
                JsonNode key = node.get("key");
                K innerKey = key == null || key.isNull() ? null : inner.fromJson(key);
                return new Windowed<>(innerKey,
                    window.apply(node.get("start").asLong(), node.get("end").asLong()));
            }
            public JsonNode toJson(Windowed<K> value, JsonNodeFactory json) {
                ObjectNode out = json.objectNode();
                out.set("key", value.key() == null ? json.nullNode()
                                                   : inner.toJson(value.key(), json));
                out.put("start", value.window().start());
                out.put("end", value.window().end());
                return out;
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static <K> Class<K> typeOf(Codec<K> inner) {
        Function<String, Class<?>> of = n -> switch (n) {
            case "string" -> String.class;
            case "long" -> Long.class;
            case "integer" -> Integer.class;
            case "short" -> Short.class;
            case "double" -> Double.class;
            case "float" -> Float.class;
            case "boolean" -> Boolean.class;
            case "bytes" -> byte[].class;
            case "uuid" -> UUID.class;
            default -> throw new IllegalArgumentException("no windowed serde for " + n);
        };
        return (Class<K>) of.apply(inner.name());
    }

    private static JsonNode require(JsonNode node, boolean ok, String name) {
        if (!ok) {
            throw new IllegalArgumentException("expected JSON for " + name + ", got " + node);
        }
        return node;
    }

    private static byte[] decodeBase64(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bytes must be base64 text, got " + text, e);
        }
    }
}
