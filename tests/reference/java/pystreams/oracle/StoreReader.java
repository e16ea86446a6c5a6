package pystreams.oracle;

import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.TimestampedWindowStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.VersionedKeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The driver command {"read_store": NAME}: every entry of a state store, in the store's own
 * iteration order, as one JSON line {"store": NAME, "entries": [...]}. An entry is
 * {"key", "value"}, plus "timestamp" for timestamped stores and "start"/"end" for window and
 * session stores. Keys and values are the store's typed objects as JSON: strings, numbers,
 * booleans, bytes as base64 text, anything else as its toString().
 */
final class StoreReader {

    private final JsonNodeFactory json = JsonNodeFactory.instance;

    ObjectNode read(TopologyTestDriver driver, String name) {
        StateStore store = driver.getAllStateStores().get(name);
        if (store == null) {
            throw new IllegalArgumentException("no state store named " + name + "; stores: "
                                               + driver.getAllStateStores().keySet());
        }
        ArrayNode entries = json.arrayNode();
        if (store instanceof VersionedKeyValueStore) {
            throw new IllegalArgumentException("read_store does not read versioned store " + name);
        } else if (store instanceof TimestampedKeyValueStore) {
            try (KeyValueIterator<Object, ValueAndTimestamp<Object>> it =
                     driver.<Object, Object>getTimestampedKeyValueStore(name).all()) {
                it.forEachRemaining(kv -> entries.add(entry(kv.key, kv.value)));
            }
        } else if (store instanceof KeyValueStore) {
            try (KeyValueIterator<Object, Object> it = driver.<Object, Object>getKeyValueStore(name).all()) {
                it.forEachRemaining(kv -> entries.add(entry(kv.key, kv.value)));
            }
        } else if (store instanceof TimestampedWindowStore) {
            try (KeyValueIterator<Windowed<Object>, ValueAndTimestamp<Object>> it =
                     driver.<Object, Object>getTimestampedWindowStore(name).all()) {
                it.forEachRemaining(kv -> entries.add(windowed(kv)));
            }
        } else if (store instanceof WindowStore) {
            try (KeyValueIterator<Windowed<Object>, Object> it =
                     driver.<Object, Object>getWindowStore(name).all()) {
                it.forEachRemaining(kv -> entries.add(windowed(kv)));
            }
        } else if (store instanceof SessionStore) {
            try (KeyValueIterator<Windowed<Object>, Object> it =
                     driver.<Object, Object>getSessionStore(name).findSessions(Long.MIN_VALUE, Long.MAX_VALUE)) {
                it.forEachRemaining(kv -> entries.add(windowed(kv)));
            }
        } else {
            throw new IllegalArgumentException("read_store cannot read " + store.getClass().getName());
        }
        ObjectNode line = json.objectNode();
        line.put("store", name);
        line.set("entries", entries);
        return line;
    }

    private ObjectNode entry(Object key, Object value) {
        ObjectNode out = json.objectNode();
        out.set("key", toJson(key));
        if (value instanceof ValueAndTimestamp<?> vt) {
            out.set("value", toJson(vt.value()));
            out.put("timestamp", vt.timestamp());
        } else {
            out.set("value", toJson(value));
        }
        return out;
    }

    private <V> ObjectNode windowed(KeyValue<Windowed<Object>, V> kv) {
        ObjectNode out = entry(kv.key.key(), kv.value);
        out.put("start", kv.key.window().start());
        out.put("end", kv.key.window().end());
        return out;
    }

    private JsonNode toJson(Object value) {
        if (value == null) {
            return json.nullNode();
        } else if (value instanceof String s) {
            return json.textNode(s);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                   || value instanceof Byte) {
            return json.numberNode(((Number) value).longValue());
        } else if (value instanceof Number n) {
            return json.numberNode(n.doubleValue());
        } else if (value instanceof Boolean b) {
            return json.booleanNode(b);
        } else if (value instanceof byte[] bytes) {
            return json.textNode(Base64.getEncoder().encodeToString(bytes));
        } else if (value instanceof ValueAndTimestamp<?> vt) {
            ObjectNode out = json.objectNode();
            out.set("value", toJson(vt.value()));
            out.put("timestamp", vt.timestamp());
            return out;
        }
        return json.textNode(value.toString());
    }
}
