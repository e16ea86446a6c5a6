import java.time.*;
import java.util.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.*;
import org.apache.kafka.streams.processor.api.Record;

/** JSON lines: {"stream": I1, "wall": I2, "cancel_after": N, "start": W0, "events": [["pipe", ts] | ["advance", ms]], "log": [...]} */
public class PunctuationCases {
  static List<String> log = new ArrayList<>();
  static long streamInterval, wallInterval; static int cancelAfter;
  static class P implements Processor<String, String, Void, Void> {
    ProcessorContext<Void, Void> ctx; Cancellable stream; int fired; boolean late;
    public void init(ProcessorContext<Void, Void> c) {
      ctx = c;
      stream = c.schedule(Duration.ofMillis(streamInterval), PunctuationType.STREAM_TIME, ts -> {
        log.add("stream " + ts + " st=" + ctx.currentStreamTimeMs());
        if (++fired >= cancelAfter) stream.cancel();
      });
      c.schedule(Duration.ofMillis(wallInterval), PunctuationType.WALL_CLOCK_TIME, ts -> log.add("wall " + ts));
    }
    public void process(Record<String, String> r) {
      log.add("proc " + r.timestamp() + " st=" + ctx.currentStreamTimeMs());
      if (!late) { late = true; ctx.schedule(Duration.ofMillis(streamInterval * 3), PunctuationType.STREAM_TIME, ts -> log.add("late " + ts)); }
    }
  }
  public static void main(String[] a) {
    Random rnd = new Random(77);
    for (int c = 0; c < 20; c++) {
      log.clear();
      streamInterval = 1 + rnd.nextInt(20); wallInterval = 1 + rnd.nextInt(50); cancelAfter = 1 + rnd.nextInt(6);
      long start = rnd.nextInt(1000);
      List<String> events = new ArrayList<>();
      Properties p = new Properties();
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, "pc");
      p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:1");
      Topology t = new Topology();
      t.addSource("src", Serdes.String().deserializer(), Serdes.String().deserializer(), "in");
      t.addProcessor("p", P::new, "src");
      try (TopologyTestDriver d = new TopologyTestDriver(t, p, Instant.ofEpochMilli(start))) {
        TestInputTopic<String, String> in = d.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());
        for (int i = 0; i < 15; i++) {
          if (rnd.nextInt(3) == 0) { long ms = rnd.nextInt(120); events.add("[\"advance\", " + ms + "]"); d.advanceWallClockTime(Duration.ofMillis(ms)); }
          else { long ts = rnd.nextInt(200); events.add("[\"pipe\", " + ts + "]"); in.pipeInput("k", "v", ts); }
        }
      }
      StringBuilder l = new StringBuilder();
      for (int i = 0; i < log.size(); i++) l.append(i == 0 ? "" : ", ").append("\"").append(log.get(i)).append("\"");
      System.out.println("{\"stream\": " + streamInterval + ", \"wall\": " + wallInterval + ", \"cancel_after\": " + cancelAfter
        + ", \"start\": " + start + ", \"events\": [" + String.join(", ", events) + "], \"log\": [" + l + "]}");
    }
  }
}
