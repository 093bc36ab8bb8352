package squall.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.storm.Config;
import org.apache.storm.LocalCluster;
import org.apache.storm.generated.StormTopology;
import org.apache.storm.topology.TopologyBuilder;
import org.apache.storm.tuple.Fields;

/**
 * One run of a storm-perf shape on Apache Storm's LocalCluster (one worker,
 * one acker when acking), measured as squall's internal/perf measures its
 * runs: warm up, then count over a window. It prints one JSON line with the
 * fields of cmd/bench's perf.Run plus "impl":"storm" on stdout; Storm logs on
 * stderr. cmd/bench (-impl storm) runs it, one JVM per run.
 *
 * <pre>
 * java -cp target/classes:$(cat target/classpath.txt) squall.bench.StormBench \
 *   -workload ConstSpoutNullBolt -acking -max-pending 1000 -warmup 10s -measure 6s
 * </pre>
 */
public final class StormBench {
    private StormBench() {}

    public static void main(String[] args) throws Exception {
        String workload = null;
        String lines = null;
        boolean acking = false;
        int maxPending = 1000;
        int batch = 500;
        int spouts = 1;
        int bolts = 1;
        double rate = 0;
        long warmupMs = 10_000;
        long measureMs = 10_000;
        String description = "";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-workload": workload = args[++i]; break;
                case "-lines": lines = args[++i]; break;
                case "-acking": acking = true; break;
                case "-max-pending": maxPending = Integer.parseInt(args[++i]); break;
                case "-batch": batch = Integer.parseInt(args[++i]); break;
                case "-spouts": spouts = Integer.parseInt(args[++i]); break;
                case "-bolts": bolts = Integer.parseInt(args[++i]); break;
                case "-rate": rate = Double.parseDouble(args[++i]); break;
                case "-warmup": warmupMs = millis(args[++i]); break;
                case "-measure": measureMs = millis(args[++i]); break;
                case "-description": description = args[++i]; break;
                default: usage("unknown flag " + a);
            }
        }
        if (workload == null) {
            usage("-workload is required");
        }
        StormTopology topology = build(workload, acking, rate / spouts, spouts, bolts, lines);

        Map<String, Object> conf = new HashMap<>();
        conf.put(Config.TOPOLOGY_WORKERS, 1);
        conf.put(Config.TOPOLOGY_ACKER_EXECUTORS, acking ? 1 : 0);
        conf.put(Config.TOPOLOGY_MAX_SPOUT_PENDING, maxPending);
        conf.put(Config.TOPOLOGY_PRODUCER_BATCH_SIZE, batch);
        conf.put(Config.TOPOLOGY_EVENTLOGGER_EXECUTORS, 0);
        conf.put(Config.TOPOLOGY_DEBUG, false);

        // Halt if Storm's shutdown hangs: the figure is printed by then.
        final long deadline = warmupMs + measureMs + 120_000;
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(deadline);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("storm bench: did not finish in time; halting");
            Runtime.getRuntime().halt(3);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        String json;
        try (LocalCluster cluster = new LocalCluster()) {
            cluster.submitTopology("bench", conf, topology);
            Thread.sleep(warmupMs);
            LongCounter count = counter(workload, acking);
            Components.LATENCY.reset();
            long n0 = count.get();
            long f0 = Components.FAILED.get();
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            Thread.sleep(measureMs);
            long n1 = count.get();
            long f1 = Components.FAILED.get();
            double seconds = (System.nanoTime() - t0) / 1e9;
            double cores = (cpuNanos() - cpu0) / 1e9 / seconds;
            StringBuilder b = new StringBuilder();
            b.append("{\"impl\":\"storm\"");
            b.append(",\"workload\":").append(quote(workload));
            b.append(",\"acking\":").append(acking);
            b.append(",\"max_spout_pending\":").append(maxPending);
            if (rate > 0) {
                b.append(",\"rate_limit_per_sec\":").append(num(rate));
            }
            b.append(",\"spouts\":").append(spouts);
            b.append(",\"bolts_per_component\":").append(bolts);
            b.append(",\"metrics_latency\":false");
            b.append(",\"seconds\":").append(num(seconds));
            b.append(",\"tuples\":").append(n1 - n0);
            b.append(",\"tuples_per_sec\":").append(num((n1 - n0) / seconds));
            b.append(",\"unit\":").append(quote(workload.equals("FileReadWordCount") ? "words" : "tuples"));
            double p50 = 0, p99 = 0, p999 = 0;
            if (acking) {
                p50 = Components.LATENCY.quantile(0.5) / 1e6;
                p99 = Components.LATENCY.quantile(0.99) / 1e6;
                p999 = Components.LATENCY.quantile(0.999) / 1e6;
            }
            b.append(",\"complete_latency_p50_ms\":").append(num(p50));
            b.append(",\"complete_latency_p99_ms\":").append(num(p99));
            b.append(",\"complete_latency_p999_ms\":").append(num(p999));
            b.append(",\"cores_used\":").append(num(cores));
            b.append(",\"rss_mib\":").append(num(rssMiB()));
            b.append(",\"failed\":").append(f1 - f0);
            b.append(",\"storm_version\":").append(quote(org.apache.storm.utils.VersionInfo.getVersion()));
            if (!description.isEmpty()) {
                b.append(",\"description\":").append(quote(description));
            }
            b.append('}');
            json = b.toString();
            System.out.println(json);
            System.out.flush();
            cluster.killTopology("bench");
        }
        System.exit(0);
    }

    interface LongCounter {
        long get();
    }

    /** What a run counts, as internal/perf.Measure counts it. */
    static LongCounter counter(String workload, boolean acking) {
        if (workload.equals("ConstSpoutOnly")) {
            return Components.EMITTED::get;
        }
        if (acking && !workload.equals("FileReadWordCount")) {
            return Components.ACKED::get;
        }
        return Components.SEEN::get; // words counted, or tuples at the sink
    }

    static StormTopology build(String workload, boolean acking, double rate, int spouts, int bolts, String lines) {
        TopologyBuilder b = new TopologyBuilder();
        switch (workload) {
            case "ConstSpoutOnly":
                b.setSpout("spout", new Components.ConstSpout(acking, rate), spouts);
                break;
            case "ConstSpoutNullBolt":
                b.setSpout("spout", new Components.ConstSpout(acking, rate), spouts);
                b.setBolt("bolt", new Components.NullBolt(), bolts).localOrShuffleGrouping("spout");
                break;
            case "ConstSpoutIdBoltNullBolt":
                b.setSpout("spout", new Components.ConstSpout(acking, rate), spouts);
                b.setBolt("bolt1", new Components.IdBolt(), bolts).localOrShuffleGrouping("spout");
                b.setBolt("bolt2", new Components.NullBolt(), bolts).localOrShuffleGrouping("bolt1");
                break;
            case "FileReadWordCount":
                if (lines == null) {
                    usage("FileReadWordCount needs -lines FILE (cmd/bench writes internal/perf's lines)");
                }
                b.setSpout("spout", new Components.FileReadSpout(acking, rate, lines), spouts);
                b.setBolt("split", new Components.SplitBolt(), bolts).localOrShuffleGrouping("spout");
                b.setBolt("count", new Components.CountBolt(), bolts).fieldsGrouping("split", new Fields("word"));
                break;
            default:
                usage("unknown workload " + workload);
        }
        return b.createTopology();
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Double.parseDouble(f[0]) / 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    static long millis(String d) {
        if (d.endsWith("ms")) {
            return Long.parseLong(d.substring(0, d.length() - 2));
        }
        if (d.endsWith("s")) {
            return (long) (Double.parseDouble(d.substring(0, d.length() - 1)) * 1000);
        }
        return Long.parseLong(d);
    }

    static String num(double v) {
        return String.format(Locale.ROOT, "%.6g", v).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replaceAll("\\.(e|$)", "$1");
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static void usage(String why) {
        System.err.println("storm bench: " + why);
        System.err.println("usage: StormBench -workload W [-acking] [-max-pending N] [-batch N] [-spouts N] [-bolts N]"
                + " [-rate PER_SEC] [-warmup 10s] [-measure 10s] [-lines FILE] [-description TEXT]");
        System.exit(2);
    }
}
