// Interprets random DSL programs (JSON, written by fuzz_programs.py) with Kafka Streams' StreamsBuilder
// and prints "=== <name>" then describe() for each, or "ERROR <exception class>" when Kafka refuses it.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

@SuppressWarnings({"unchecked", "rawtypes"})
public class S1FuzzOracle {
    static class Noop implements org.apache.kafka.streams.processor.api.Processor<Object, Object, Object, Object> {
        public void process(org.apache.kafka.streams.processor.api.Record<Object, Object> record) { }
    }

    static class NoopValues implements org.apache.kafka.streams.processor.api.FixedKeyProcessor<Object, Object, Object> {
        public void process(org.apache.kafka.streams.processor.api.FixedKeyRecord<Object, Object> record) { }
    }

    static Named named(JsonNode op) {
        return op.has("name") ? Named.as(op.get("name").asText()) : null;
    }

    static Materialized mat(JsonNode op) {
        if (!op.has("store")) return null;
        String store = op.get("store").asText();
        return store.isEmpty() ? Materialized.with(null, null) : Materialized.as(store);  // "" = anonymous
    }

    static Object apply(StreamsBuilder b, List<Object> h, JsonNode op) {
        String kind = op.get("op").asText();
        Named n = named(op);
        Materialized m = mat(op);
        Object src = op.has("src") ? h.get(op.get("src").asInt()) : null;
        KStream s = src instanceof KStream ? (KStream) src : null;
        KTable t = src instanceof KTable ? (KTable) src : null;
        Predicate p = (k, v) -> true;
        switch (kind) {
            case "stream": {
                List<String> topics = new ArrayList<>();
                op.get("topics").forEach(x -> topics.add(x.asText()));
                return topics.size() == 1 ? b.stream(topics.get(0)) : b.stream(topics);
            }
            case "table": return m == null ? b.table(op.get("topic").asText()) : b.table(op.get("topic").asText(), m);
            case "print":
                s.print(n == null ? Printed.toSysOut() : Printed.toSysOut().withName(op.get("name").asText()));
                return null;
            case "repartitionN":
                return s.repartition(Repartitioned.numberOfPartitions(op.get("partitions").asInt()));
            case "splitNamed": {
                BranchedKStream br = n == null ? s.split() : s.split(n);
                List<Object> list = new ArrayList<>();
                for (JsonNode bn : op.get("branchNames")) br = br.branch((k, v) -> true, Branched.as(bn.asText()));
                Map<String, KStream> out = op.get("default").asBoolean() ? br.defaultBranch(Branched.as("dflt")) : br.noDefaultBranch();
                return new ArrayList<Object>(new TreeMap<String, KStream>(out).values());
            }
            case "filter": return n == null ? s.filter(p) : s.filter(p, n);
            case "filterNot": return n == null ? s.filterNot(p) : s.filterNot(p, n);
            case "mapValues": return n == null ? s.mapValues(v -> v) : s.mapValues(v -> v, n);
            case "flatMapValues": return n == null ? s.flatMapValues(v -> List.of(v)) : s.flatMapValues(v -> List.of(v), n);
            case "selectKey": return n == null ? s.selectKey((k, v) -> v) : s.selectKey((k, v) -> v, n);
            case "map": return n == null ? s.map((k, v) -> KeyValue.pair(v, k)) : s.map((k, v) -> KeyValue.pair(v, k), n);
            case "peek": return n == null ? s.peek((k, v) -> { }) : s.peek((k, v) -> { }, n);
            case "flatMap": return n == null ? s.flatMap((k, v) -> List.of(KeyValue.pair(v, k)))
                                             : s.flatMap((k, v) -> List.of(KeyValue.pair(v, k)), n);
            case "foreach":
                if (n == null) s.foreach((k, v) -> { }); else s.foreach((k, v) -> { }, n);
                return null;
            case "process": return n == null ? s.process(Noop::new) : s.process(Noop::new, n);
            case "processValues": return n == null ? s.processValues(NoopValues::new) : s.processValues(NoopValues::new, n);
            case "pattern": return b.stream(java.util.regex.Pattern.compile(op.get("pattern").asText()));
            case "aggregate": {
                Initializer i = () -> 0;
                if (src instanceof KGroupedStream) {
                    KGroupedStream g = (KGroupedStream) src;
                    Aggregator a = (k, v, agg) -> agg;
                    if (m != null) return n == null ? g.aggregate(i, a, m) : g.aggregate(i, a, n, m);
                    return g.aggregate(i, a);
                }
                KGroupedTable g = (KGroupedTable) src;
                Aggregator a = (k, v, agg) -> agg;
                if (m != null) return n == null ? g.aggregate(i, a, a, m) : g.aggregate(i, a, a, n, m);
                return n == null ? g.aggregate(i, a, a) : g.aggregate(i, a, a, n);
            }
            case "merge": {
                KStream o = (KStream) h.get(op.get("other").asInt());
                return n == null ? s.merge(o) : s.merge(o, n);
            }
            case "repartition":
                return op.has("name") ? s.repartition(Repartitioned.as(op.get("name").asText())) : s.repartition();
            case "to":
                if (n == null) s.to(op.get("topic").asText()); else s.to(op.get("topic").asText(), Produced.as(op.get("name").asText()));
                return null;
            case "toTable":
                if (m != null) return n == null ? s.toTable(m) : s.toTable(n, m);
                return n == null ? s.toTable() : s.toTable(n);
            case "groupByKey": return n == null ? s.groupByKey() : s.groupByKey(Grouped.as(op.get("name").asText()));
            case "groupBy": return n == null ? s.groupBy((k, v) -> v) : s.groupBy((k, v) -> v, Grouped.as(op.get("name").asText()));
            case "count": {
                if (src instanceof KGroupedStream) {
                    KGroupedStream g = (KGroupedStream) src;
                    if (m != null) return n == null ? g.count(m) : g.count(n, m);
                    return n == null ? g.count() : g.count(n);
                }
                KGroupedTable g = (KGroupedTable) src;
                if (m != null) return n == null ? g.count(m) : g.count(n, m);
                return n == null ? g.count() : g.count(n);
            }
            case "reduce": {
                if (src instanceof KGroupedStream) {
                    KGroupedStream g = (KGroupedStream) src;
                    Reducer r = (a, v) -> a;
                    if (m != null) return n == null ? g.reduce(r, m) : g.reduce(r, n, m);
                    return g.reduce(r);
                }
                KGroupedTable g = (KGroupedTable) src;
                Reducer r = (a, v) -> a;
                if (m != null) return n == null ? g.reduce(r, r, m) : g.reduce(r, r, n, m);
                return g.reduce(r, r);
            }
            case "tfilter":
                if (m != null) return n == null ? t.filter(p, m) : t.filter(p, n, m);
                return n == null ? t.filter(p) : t.filter(p, n);
            case "tmapValues":
                if (m != null) return n == null ? t.mapValues(v -> v, m) : t.mapValues(v -> v, n, m);
                return n == null ? t.mapValues(v -> v) : t.mapValues(v -> v, n);
            case "toStream": return n == null ? t.toStream() : t.toStream(n);
            case "toStreamMapped": return n == null ? t.toStream((k, v) -> v) : t.toStream((k, v) -> v, n);
            case "tableNamed": {
                Consumed c = Consumed.as(op.get("source").asText());
                return m == null ? b.table(op.get("topic").asText(), c) : b.table(op.get("topic").asText(), c, m);
            }
            case "tgroupBy":
                return n == null ? t.groupBy((k, v) -> KeyValue.pair(v, k))
                                 : t.groupBy((k, v) -> KeyValue.pair(v, k), Grouped.as(op.get("name").asText()));
            case "split": {
                BranchedKStream br = n == null ? s.split() : s.split(n);
                int branches = op.get("branches").asInt();
                for (int i = 0; i < branches; i++) br = br.branch(p);
                Map<String, KStream> out = op.get("default").asBoolean() ? br.defaultBranch() : br.noDefaultBranch();
                return new ArrayList<Object>(new TreeMap<String, KStream>(out).values());
            }
            default:
                throw new IllegalArgumentException("unknown op " + kind);
        }
    }

    public static void main(String[] args) throws Exception {
        JsonNode programs = new ObjectMapper().readTree(Files.readString(Path.of(args[0])));
        StringBuilder out = new StringBuilder();
        for (JsonNode program : programs) {
            out.append("=== ").append(program.get("name").asText()).append('\n');
            try {
                StreamsBuilder b = new StreamsBuilder();
                List<Object> h = new ArrayList<>();
                for (JsonNode op : program.get("ops")) {
                    Object r = apply(b, h, op);
                    if (r instanceof List) h.addAll((List<Object>) r); else h.add(r);
                }
                Properties props = new Properties();
                if (program.get("optimize").asBoolean()) {
                    props.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
                }
                out.append(b.build(props).describe());
            } catch (RuntimeException e) {
                out.append("ERROR ").append(e.getClass().getSimpleName()).append('\n');
            }
        }
        System.out.print(out);
    }
}
