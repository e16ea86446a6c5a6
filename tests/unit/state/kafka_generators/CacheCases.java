import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.processor.api.*;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.*;
import org.apache.kafka.streams.test.TestRecord;

/** Emits JSON lines: {"cache": N, "inputs": [...], "changelog": [[key, value|null, ts], ...]} */
public class CacheCases {
  static class Ops implements Processor<String, String, Void, Void> {
    KeyValueStore<String, String> store;
    public void init(ProcessorContext<Void, Void> c) { store = c.getStateStore("s"); }
    public void process(Record<String, String> r) {
      for (String op : r.value().split(" ")) {
        if (op.endsWith("?")) { store.get(op.substring(0, op.length() - 1)); continue; }
        String[] kv = op.split("=");
        if (kv[1].equals("-")) store.delete(kv[0]); else store.put(kv[0], kv[1]);
      }
    }
  }
  static String q(String s) { return s == null ? "null" : "\"" + s + "\""; }
  public static void main(String[] a) {
    Random rnd = new Random(2024);
    long[] caches = {10485760L, 0L, 120L, 250L, 600L};
    for (int c = 0; c < 30; c++) {
      long cache = caches[c % caches.length];
      List<String> inputs = new ArrayList<>();
      int n = 3 + rnd.nextInt(6);
      for (int i = 0; i < n; i++) {
        StringBuilder sb = new StringBuilder();
        int ops = 1 + rnd.nextInt(7);
        for (int j = 0; j < ops; j++) {
          if (j > 0) sb.append(' ');
          String k = "k" + rnd.nextInt(5);
          int kind = rnd.nextInt(10);
          if (kind < 2) sb.append(k).append('?');
          else if (kind < 4) sb.append(k).append("=-");
          else sb.append(k).append('=').append("v".repeat(1 + rnd.nextInt(8)));
        }
        inputs.add(sb.toString());
      }
      Properties p = new Properties();
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, "cc");
      p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1");
      p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.toString(cache));
      Topology t = new Topology();
      t.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
      t.addProcessor("ops", Ops::new, "src");
      t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s"), Serdes.String(), Serdes.String()).withCachingEnabled(), "ops");
      StringBuilder out = new StringBuilder();
      try (TopologyTestDriver d = new TopologyTestDriver(t, p)) {
        TestInputTopic<String, String> in = d.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
        for (int i = 0; i < inputs.size(); i++) in.pipeInput("x", inputs.get(i), i * 10L);
        TestOutputTopic<String, String> log = d.createOutputTopic("cc-s-changelog", Serdes.String().deserializer(), Serdes.String().deserializer());
        boolean first = true;
        for (TestRecord<String, String> r : log.readRecordsToList()) {
          out.append(first ? "" : ", ").append("[").append(q(r.key())).append(", ").append(q(r.value())).append(", ").append(r.timestamp()).append("]");
          first = false;
        }
      }
      StringBuilder ins = new StringBuilder();
      for (int i = 0; i < inputs.size(); i++) ins.append(i == 0 ? "" : ", ").append(q(inputs.get(i)));
      System.out.println("{\"cache\": " + cache + ", \"inputs\": [" + ins + "], \"changelog\": [" + out + "]}");
    }
  }
}
