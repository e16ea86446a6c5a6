// Kafka's own serializers, driven line by line from stdin, for tests/integration/serdes.
// Line: <Serde>\t<ser|de>\t<arg>. Numbers travel as text (floats as raw IEEE bits in hex),
// bytes and strings as hex, so no formatting differences can hide a byte difference.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;

public class SerdeOracle {
    static final HexFormat HEX = HexFormat.of();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split("\t", -1);
            try {
                out.append(p[1].equals("ser") ? ser(p[0], p[2]) : de(p[0], p[2]));
            } catch (RuntimeException e) {
                out.append("ERR ").append(e.getClass().getSimpleName());
            }
            out.append('\n');
        }
        System.out.print(out);
    }

    static String hex(byte[] b) { return b == null ? "null" : HEX.formatHex(b); }

    static String ser(String kind, String arg) {
        switch (kind) {
            case "Long": return hex(Serdes.Long().serializer().serialize("t", Long.parseLong(arg)));
            case "Integer": return hex(Serdes.Integer().serializer().serialize("t", Integer.parseInt(arg)));
            case "Short": return hex(Serdes.Short().serializer().serialize("t", Short.parseShort(arg)));
            case "Float": return hex(Serdes.Float().serializer().serialize("t",
                    Float.intBitsToFloat(Integer.parseUnsignedInt(arg, 16))));
            case "Double": return hex(Serdes.Double().serializer().serialize("t",
                    Double.longBitsToDouble(Long.parseUnsignedLong(arg, 16))));
            case "Boolean": return hex(Serdes.Boolean().serializer().serialize("t", Boolean.parseBoolean(arg)));
            case "String": return hex(Serdes.String().serializer().serialize("t",
                    new String(HEX.parseHex(arg), StandardCharsets.UTF_8)));
            case "UUID": return hex(Serdes.UUID().serializer().serialize("t", UUID.fromString(arg)));
            case "Bytes": return hex(Serdes.Bytes().serializer().serialize("t", Bytes.wrap(HEX.parseHex(arg))));
            case "ByteArray": return hex(Serdes.ByteArray().serializer().serialize("t", HEX.parseHex(arg)));
            case "ListLong": {  // comma-separated longs, "null" for a null entry
                List<Long> list = new ArrayList<>();
                for (String s : arg.isEmpty() ? new String[0] : arg.split(",")) {
                    list.add(s.equals("null") ? null : Long.parseLong(s));
                }
                return hex(Serdes.ListSerde(ArrayList.class, Serdes.Long()).serializer().serialize("t", list));
            }
            case "ListString": {  // comma-separated "=" + hex of UTF-8, "null" for a null entry
                List<String> list = new ArrayList<>();
                for (String s : arg.isEmpty() ? new String[0] : arg.split(",")) {
                    list.add(s.equals("null") ? null : new String(HEX.parseHex(s.substring(1)), StandardCharsets.UTF_8));
                }
                return hex(Serdes.ListSerde(ArrayList.class, Serdes.String()).serializer().serialize("t", list));
            }
            default: throw new IllegalArgumentException(kind);
        }
    }

    static String joinList(List<?> list, boolean hexStrings) {
        StringBuilder b = new StringBuilder();
        for (Object o : list) {
            if (b.length() > 0) b.append(',');
            b.append(o == null ? "null" : hexStrings
                    ? "=" + hex(((String) o).getBytes(StandardCharsets.UTF_8)) : o.toString());
        }
        return b.toString();
    }

    static String de(String kind, String arg) {
        byte[] data = HEX.parseHex(arg);
        switch (kind) {
            case "Long": return String.valueOf(Serdes.Long().deserializer().deserialize("t", data));
            case "Integer": return String.valueOf(Serdes.Integer().deserializer().deserialize("t", data));
            case "Short": return String.valueOf(Serdes.Short().deserializer().deserialize("t", data));
            case "Float": return Integer.toHexString(Float.floatToRawIntBits(
                    Serdes.Float().deserializer().deserialize("t", data)));
            case "Double": return Long.toHexString(Double.doubleToRawLongBits(
                    Serdes.Double().deserializer().deserialize("t", data)));
            case "Boolean": return String.valueOf(Serdes.Boolean().deserializer().deserialize("t", data));
            case "String": return hex(Serdes.String().deserializer().deserialize("t", data)
                    .getBytes(StandardCharsets.UTF_8));
            case "UUID": return String.valueOf(Serdes.UUID().deserializer().deserialize("t", data));
            case "Bytes": return hex(Serdes.Bytes().deserializer().deserialize("t", data).get());
            case "ByteArray": return hex(Serdes.ByteArray().deserializer().deserialize("t", data));
            case "ListLong": return joinList((List<?>) Serdes.ListSerde(ArrayList.class, Serdes.Long())
                    .deserializer().deserialize("t", data), false);
            case "ListString": return joinList((List<?>) Serdes.ListSerde(ArrayList.class, Serdes.String())
                    .deserializer().deserialize("t", data), true);
            default: throw new IllegalArgumentException(kind);
        }
    }
}
