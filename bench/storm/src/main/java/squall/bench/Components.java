package squall.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.storm.spout.SpoutOutputCollector;
import org.apache.storm.task.OutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichBolt;
import org.apache.storm.topology.base.BaseRichSpout;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Tuple;
import org.apache.storm.tuple.Values;

/**
 * The components of internal/perf, in Storm: the same values, groupings and
 * counting. LocalCluster runs every executor in this JVM, so the counters are
 * plain statics the main thread reads; like squall's, tasks add to them every
 * 256 tuples.
 */
final class Components {
    private Components() {}

    static final AtomicLong EMITTED = new AtomicLong();
    static final AtomicLong ACKED = new AtomicLong();
    static final AtomicLong FAILED = new AtomicLong();
    /** Tuples the sink bolt saw (NullBolt) or words counted (CountBolt). */
    static final AtomicLong SEEN = new AtomicLong();
    /** Complete latency, emit to ack, recorded by the spouts. */
    static final Histogram LATENCY = new Histogram();

    /**
     * What the spouts share: at most rate tuples a second (0: unlimited),
     * the emit time (System.nanoTime) as the message id when acking, so the
     * ack carries its own complete latency without a pending map.
     */
    abstract static class PacedSpout extends BaseRichSpout {
        private final boolean acking;
        private final double rate; // per task
        private SpoutOutputCollector out;
        private long start;
        private long seq;
        private long acked;

        PacedSpout(boolean acking, double rate) {
            this.acking = acking;
            this.rate = rate;
        }

        @Override
        public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
            out = collector;
            start = System.nanoTime();
        }

        abstract Values next();

        @Override
        public void nextTuple() {
            if (rate > 0 && seq >= (long) ((System.nanoTime() - start) / 1e9 * rate)) {
                return; // not due: Storm's spout wait strategy runs
            }
            Values v = next();
            if (acking) {
                out.emit(v, System.nanoTime());
            } else {
                out.emit(v);
            }
            if ((++seq & 255) == 0) {
                EMITTED.addAndGet(256);
            }
        }

        @Override
        public void ack(Object msgId) {
            LATENCY.record(System.nanoTime() - (Long) msgId);
            if ((++acked & 255) == 0) {
                ACKED.addAndGet(256);
            }
        }

        @Override
        public void fail(Object msgId) {
            FAILED.incrementAndGet();
        }
    }

    /** ConstSpout emits the same string forever. */
    static final class ConstSpout extends PacedSpout {
        private final Values value = new Values("some data");

        ConstSpout(boolean acking, double rate) {
            super(acking, rate);
        }

        @Override
        Values next() {
            return value;
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {
            d.declare(new Fields("str"));
        }
    }

    /** FileReadSpout emits the lines of a file round and round. */
    static final class FileReadSpout extends PacedSpout {
        private final String path;
        private String[] lines;
        private int i;

        FileReadSpout(boolean acking, double rate, String path) {
            super(acking, rate);
            this.path = path;
        }

        @Override
        public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
            try {
                List<String> all = Files.readAllLines(Paths.get(path), StandardCharsets.UTF_8);
                lines = all.toArray(new String[0]);
            } catch (IOException e) {
                throw new RuntimeException("reading " + path, e);
            }
            if (lines.length == 0) {
                throw new IllegalArgumentException(path + " has no lines");
            }
            super.open(conf, context, collector);
        }

        @Override
        Values next() {
            String line = lines[i];
            i = (i + 1) % lines.length;
            return new Values(line);
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {
            d.declare(new Fields("sentence"));
        }
    }

    /** NullBolt acks and drops every tuple, counting them. */
    static final class NullBolt extends BaseRichBolt {
        private OutputCollector out;
        private long n;

        @Override
        public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
            out = collector;
        }

        @Override
        public void execute(Tuple t) {
            out.ack(t);
            if ((++n & 255) == 0) {
                SEEN.addAndGet(256);
            }
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {}
    }

    /** IdBolt re-emits every tuple anchored to it and acks it. */
    static final class IdBolt extends BaseRichBolt {
        private OutputCollector out;

        @Override
        public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
            out = collector;
        }

        @Override
        public void execute(Tuple t) {
            out.emit(t, t.getValues());
            out.ack(t);
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {
            d.declare(new Fields("str"));
        }
    }

    /**
     * SplitBolt emits the words of a line, anchored: runs of letters and
     * digits, lower-cased, as squall's wordcount.Words splits them.
     */
    static final class SplitBolt extends BaseRichBolt {
        private OutputCollector out;

        @Override
        public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
            out = collector;
        }

        @Override
        public void execute(Tuple t) {
            String line = t.getString(0);
            int n = line.length();
            int from = -1;
            for (int i = 0; i <= n; i++) {
                boolean word = i < n && Character.isLetterOrDigit(line.charAt(i));
                if (word && from < 0) {
                    from = i;
                } else if (!word && from >= 0) {
                    out.emit(t, new Values(line.substring(from, i).toLowerCase()));
                    from = -1;
                }
            }
            out.ack(t);
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {
            d.declare(new Fields("word"));
        }
    }

    /** CountBolt counts words in a map and acks them, emitting nothing. */
    static final class CountBolt extends BaseRichBolt {
        private OutputCollector out;
        private Map<String, Long> counts;
        private long n;

        @Override
        public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
            out = collector;
            counts = new HashMap<>();
        }

        @Override
        public void execute(Tuple t) {
            counts.merge(t.getString(0), 1L, Long::sum);
            out.ack(t);
            if ((++n & 255) == 0) {
                SEEN.addAndGet(256);
            }
        }

        @Override
        public void declareOutputFields(OutputFieldsDeclarer d) {}
    }
}
