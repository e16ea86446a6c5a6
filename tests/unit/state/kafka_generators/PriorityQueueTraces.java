import java.util.*;
public class PriorityQueueTraces {
  public static void main(String[] a) {
    Random r = new Random(42);
    StringBuilder out = new StringBuilder();
    for (int t = 0; t < 200; t++) {
      PriorityQueue<int[]> q = new PriorityQueue<>(Comparator.comparingLong(x -> x[1]));
      int id = 0;
      StringBuilder ops = new StringBuilder();
      for (int i = 0; i < 30; i++) {
        if (r.nextInt(3) > 0 || q.isEmpty()) { int ts = r.nextInt(4); q.offer(new int[]{id, ts}); ops.append("o").append(id).append(":").append(ts).append(" "); id++; }
        else { int[] p = q.poll(); ops.append("p").append(p[0]).append(" "); }
      }
      while (!q.isEmpty()) { ops.append("p").append(q.poll()[0]).append(" "); }
      out.append(ops.toString().trim()).append("\n");
    }
    System.out.print(out);
  }
}
