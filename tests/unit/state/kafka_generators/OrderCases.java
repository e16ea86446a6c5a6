import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.processor.api.*;
import org.apache.kafka.streams.processor.api.Record;

/** JSON lines: {"inputs": [[value, ts], ...], "log": [...]}; value = "t1@5 t3@2 ..." (forward to topic t at ts) */
public class OrderCases {
  static List<String> log = new ArrayList<>();
  static class Fan implements Processor<String, String, String, String> {
    ProcessorContext<String, String> ctx;
    public void init(ProcessorContext<String, String> c) { ctx = c; }
    public void process(Record<String, String> r) {
      int i = 0;
      for (String op : r.value().split(" ")) {
        String[] p = op.split("@");
        ctx.forward(new Record<>(r.key(), p[0] + "#" + (i++), Long.parseLong(p[1])), "to-" + p[0]);
      }
    }
  }
  static class Merge implements Processor<String, String, Void, Void> {
    ProcessorContext<Void, Void> ctx;
    public void init(ProcessorContext<Void, Void> c) { ctx = c; }
    public void process(Record<String, String> r) {
      log.add(ctx.recordMetadata().get().topic() + " " + r.value() + " " + r.timestamp() + " st=" + ctx.currentStreamTimeMs());
    }
  }
  public static void main(String[] a) {
    Random rnd = new Random(5);
    for (int c = 0; c < 25; c++) {
      log.clear();
      Properties p = new Properties();
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, "oc");
      p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1");
      Topology t = new Topology();
      t.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
      t.addProcessor("fan", Fan::new, "src");
      for (String topic : new String[]{"t1", "t2", "t3"}) {
        t.addSink("to-" + topic, topic, Serdes.String().serializer(), Serdes.String().serializer(), "fan");
        t.addSource("from-" + topic, Serdes.String().deserializer(), Serdes.String().deserializer(), topic);
      }
      t.addProcessor("merge", Merge::new, "from-t1", "from-t2", "from-t3");
      List<String> inputs = new ArrayList<>();
      try (TopologyTestDriver d = new TopologyTestDriver(t, p)) {
        TestInputTopic<String, String> in = d.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
          StringBuilder sb = new StringBuilder();
          int k = 1 + rnd.nextInt(7);
          for (int j = 0; j < k; j++) sb.append(j == 0 ? "" : " ").append("t").append(1 + rnd.nextInt(3)).append("@").append(rnd.nextInt(6));
          long ts = rnd.nextInt(6);
          inputs.add("[\"" + sb + "\", " + ts + "]");
          in.pipeInput("k", sb.toString(), ts);
        }
      }
      StringBuilder l = new StringBuilder();
      for (int i = 0; i < log.size(); i++) l.append(i == 0 ? "" : ", ").append("\"").append(log.get(i)).append("\"");
      System.out.println("{\"inputs\": [" + String.join(", ", inputs) + "], \"log\": [" + l + "]}");
    }
  }
}
