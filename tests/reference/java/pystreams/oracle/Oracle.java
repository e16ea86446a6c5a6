package pystreams.oracle;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The Kafka Streams oracle's command line:
 * <pre>
 *   Oracle list                              names of the registered topologies
 *   Oracle NAME describe [CONFIG_JSON]       Topology.describe() text
 *   Oracle NAME topics [CONFIG_JSON]         declared input/output topics and codecs, as JSON
 *   Oracle NAME drive [CONFIG_JSON]          TopologyTestDriver: JSON lines in, JSON lines out
 *   Oracle serve                             the commands above, one per stdin line, in one JVM
 * </pre>
 * CONFIG_JSON is an object of streams config entries (see {@link Driver} for the defaults and
 * the oracle's own keys). Exit status 2 means bad input (message on stderr), 1 a failure.
 *
 * <p>{@code serve} saves a JVM start per call (~1 s each under load, a test suite makes
 * hundreds): each request line is {"args": [...], "stdin": TEXT or null} and gets one response
 * line {"code": EXIT_STATUS, "stdout": TEXT, "stderr": TEXT}, what the same command run on its
 * own would have exited with and printed. It ends at the end of stdin.
 */
public final class Oracle {

    private static final String PACKAGE = "pystreams.oracle.topologies";

    private Oracle() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("serve")) {
            serve();
            System.exit(0);
        }
        try {
            System.exit(run(args, System.in, System.out));
        } catch (BadInput e) {
            System.err.println("oracle: " + e.getMessage());
            System.exit(2);
        }
    }

    /** Answer one request per stdin line until its end (see the class comment). */
    private static void serve() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        PrintStream realOut = System.out;
        PrintStream realErr = System.err;
        BufferedReader requests = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = requests.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
            int code;
            System.setOut(outStream);
            System.setErr(errStream);
            try {
                JsonNode request = mapper.readTree(line);
                List<String> args = new ArrayList<>();
                request.path("args").forEach(arg -> args.add(arg.asText()));
                JsonNode stdin = request.path("stdin");
                InputStream in = new ByteArrayInputStream(
                    (stdin.isTextual() ? stdin.asText() : "").getBytes(StandardCharsets.UTF_8));
                code = run(args.toArray(new String[0]), in, outStream);
            } catch (BadInput e) {
                errStream.println("oracle: " + e.getMessage());
                code = 2;
            } catch (Exception | Error e) {  // what the one-shot JVM would die of, reported
                e.printStackTrace(errStream);
                code = 1;
            } finally {
                System.setOut(realOut);
                System.setErr(realErr);
            }
            outStream.flush();
            errStream.flush();
            ObjectNode response = mapper.createObjectNode();
            response.put("code", code);
            response.put("stdout", out.toString(StandardCharsets.UTF_8));
            response.put("stderr", err.toString(StandardCharsets.UTF_8));
            realOut.println(mapper.writeValueAsString(response));
            realOut.flush();
        }
    }

    static int run(String[] args, InputStream in, PrintStream out) throws Exception {
        if (args.length == 1 && args[0].equals("list")) {
            registry().keySet().forEach(out::println);
            return 0;
        }
        if (args.length < 2 || args.length > 3) {
            throw new BadInput("usage: Oracle list | Oracle serve | Oracle NAME describe|topics|drive "
                               + "[CONFIG_JSON]");
        }
        OracleTopology topology = registry().get(args[0]);
        if (topology == null) {
            throw new BadInput("no topology named '" + args[0] + "'; registered: "
                               + registry().keySet());
        }
        Properties config = Driver.config(topology, args.length == 3 ? args[2] : "{}");
        switch (args[1]) {
            case "describe" -> out.print(Driver.build(topology, config).describe());
            case "topics" -> out.println(topics(topology));
            case "drive" -> new Driver(topology, config).run(in, out);
            default -> throw new BadInput("unknown command '" + args[1]
                                          + "'; use describe, topics or drive");
        }
        out.flush();
        return 0;
    }

    /** Every OracleTopology class in package pystreams.oracle.topologies, by name. */
    static Map<String, OracleTopology> registry() throws IOException, ReflectiveOperationException {
        Map<String, OracleTopology> found = new TreeMap<>();
        for (String className : topologyClassNames()) {
            Class<?> type = Class.forName(className);
            if (OracleTopology.class.isAssignableFrom(type) && !type.isInterface()
                    && !java.lang.reflect.Modifier.isAbstract(type.getModifiers())) {
                OracleTopology topology = (OracleTopology) type.getConstructor().newInstance();
                OracleTopology clash = found.put(topology.name(), topology);
                if (clash != null) {
                    throw new BadInput("two topologies named '" + topology.name() + "': "
                                       + clash.getClass().getName() + " and " + className);
                }
            }
        }
        return found;
    }

    /** Top-level classes of the topologies package, from the oracle's jar or classes dir. */
    private static List<String> topologyClassNames() throws IOException {
        Path root;
        try {
            root = Path.of(Oracle.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        String prefix = PACKAGE.replace('.', '/') + "/";
        List<String> entries = new ArrayList<>();
        if (Files.isDirectory(root)) {
            Path dir = root.resolve(prefix);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.forEach(p -> entries.add(prefix + p.getFileName()));
                }
            }
        } else {
            try (JarFile jar = new JarFile(root.toFile())) {
                jar.stream().forEach(e -> entries.add(e.getName()));
            }
        }
        return entries.stream()
            .filter(n -> n.startsWith(prefix) && n.endsWith(".class") && !n.contains("$")
                         && n.indexOf('/', prefix.length()) < 0)
            .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.'))
            .sorted()
            .toList();
    }

    private static String topics(OracleTopology topology) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode out = mapper.createObjectNode();
        out.set("inputs", specs(mapper, topology.inputs()));
        out.set("outputs", specs(mapper, topology.outputs()));
        return mapper.writeValueAsString(out);
    }

    private static ArrayNode specs(ObjectMapper mapper, List<TopicSpec> specs) {
        ArrayNode array = mapper.createArrayNode();
        for (TopicSpec spec : specs) {
            array.addObject().put("topic", spec.topic()).put("key", spec.key().name())
                 .put("value", spec.value().name());
        }
        return array;
    }

    /** Bad input from the caller: reported on stderr with exit status 2, no stack trace. */
    static final class BadInput extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadInput(String message) {
            super(message);
        }

        BadInput(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
