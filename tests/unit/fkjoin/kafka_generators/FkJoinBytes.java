// Prints Kafka 4.1.1's Murmur3.hash128 of test byte strings and SubscriptionWrapper(Serde) / SubscriptionResponseWrapper(Serde)
// bytes; tests/unit/fkjoin/test_wire_formats.py pins its output. Run: javac -cp <kafka-streams + clients jars> FkJoinBytes.java && java ...
import org.apache.kafka.streams.state.internals.Murmur3;
import org.apache.kafka.streams.kstream.internals.foreignkeyjoin.*;
import org.apache.kafka.common.serialization.Serdes;
public class FkJoinBytes {
  public static void main(String[] a) {
    for (int n = 0; n < 40; n++) {
      byte[] b = new byte[n];
      for (int i = 0; i < n; i++) b[i] = (byte) (i * 37 + 200);
      long[] h = Murmur3.hash128(b);
      System.out.println("H " + n + " " + h[0] + " " + h[1]);
    }
    SubscriptionWrapperSerde<String> s = new SubscriptionWrapperSerde<>(() -> "t", Serdes.String());
    long[] h = Murmur3.hash128(new byte[]{1,2,3});
    System.out.println("S " + hex(s.serializer().serialize("t", new SubscriptionWrapper<>(h, SubscriptionWrapper.Instruction.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE, "pk1", 3))));
    System.out.println("S " + hex(s.serializer().serialize("t", new SubscriptionWrapper<>(null, SubscriptionWrapper.Instruction.DELETE_KEY_AND_PROPAGATE, "k", 0))));
    SubscriptionResponseWrapperSerde<Long> r = new SubscriptionResponseWrapperSerde<>(Serdes.Long());
    System.out.println("R " + hex(r.serializer().serialize("t", new SubscriptionResponseWrapper<>(h, 42L, 1))));
    System.out.println("R " + hex(r.serializer().serialize("t", new SubscriptionResponseWrapper<>(null, null, 1))));
  }
  static String hex(byte[] b) { StringBuilder sb = new StringBuilder(); for (byte x : b) sb.append(String.format("%02x", x)); return sb.toString(); }
}
