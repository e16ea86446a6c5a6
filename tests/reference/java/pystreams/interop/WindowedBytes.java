package pystreams.interop;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.kstream.SessionWindowedDeserializer;
import org.apache.kafka.streams.kstream.SessionWindowedSerializer;
import org.apache.kafka.streams.kstream.TimeWindowedDeserializer;
import org.apache.kafka.streams.kstream.TimeWindowedSerializer;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.kstream.internals.TimeWindow;

/**
 * Kafka's windowed key serializers and deserializers, built with their no-arg constructors and configured from
 * config maps only (the way default.key.serde = WindowedSerdes$TimeWindowedSerde is set up), for
 * tests/integration/reference/test_windowed_serde_bytes.py.
 *
 * Args: innerSerdeClass configKey kind [windowSizeMs] then commands:
 *   ser:KEY:START:END   serialize Windowed(KEY parsed for the inner serde, window) -> prints "ser <hex>"
 *   de:HEX             deserialize -> prints "de <key>|<start>|<end>"
 * kind is "time" or "session"; configKey is the config naming the inner serde class
 * (windowed.inner.serializer.class / windowed.inner.deserializer.class, or the deprecated windowed.inner.class.serde,
 * which is then given to both). The inner key is a String unless innerSerdeClass is Serdes$LongSerde.
 */
public final class WindowedBytes {

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static void main(String[] args) {
        String inner = args[0];
        String configKey = args[1];
        boolean time = args[2].equals("time");
        int first = time ? 4 : 3;
        boolean longKey = inner.endsWith("LongSerde");
        Map<String, Object> serConfig = new HashMap<>();
        Map<String, Object> deConfig = new HashMap<>();
        if (configKey.equals("windowed.inner.class.serde")) {
            serConfig.put(configKey, inner);
            deConfig.put(configKey, inner);
        } else {
            serConfig.put("windowed.inner.serializer.class", inner);
            deConfig.put("windowed.inner.deserializer.class", inner);
        }
        if (time) {
            deConfig.put("window.size.ms", args[3]);  // a String, as in a properties file
        }
        Serializer ser = time ? new TimeWindowedSerializer() : new SessionWindowedSerializer();
        Deserializer de = time ? new TimeWindowedDeserializer() : new SessionWindowedDeserializer();
        ser.configure(serConfig, true);
        de.configure(deConfig, true);
        HexFormat hex = HexFormat.of();
        for (int i = first; i < args.length; i++) {
            String[] parts = args[i].split(":", -1);
            if (parts[0].equals("ser")) {
                Object key = longKey ? (Object) Long.parseLong(parts[1]) : parts[1];
                long start = Long.parseLong(parts[2]);
                long end = Long.parseLong(parts[3]);
                Windowed windowed = new Windowed(key, time ? new TimeWindow(start, end) : new SessionWindow(start, end));
                System.out.println("ser " + hex.formatHex(ser.serialize("topic", windowed)));
            } else {
                Windowed<?> windowed = (Windowed<?>) de.deserialize("topic", hex.parseHex(parts[1]));
                System.out.println("de " + windowed.key() + "|" + windowed.window().start() + "|" + windowed.window().end());
            }
        }
    }
}
