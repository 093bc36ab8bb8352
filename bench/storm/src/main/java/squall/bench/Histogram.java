package squall.bench;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The log-linear histogram of squall's actors.Histogram (1 µs to ~9 h, 8
 * sub-buckets per power of two, a quantile is its bucket's midpoint), so
 * Storm's percentiles are read exactly as squall's and the ceiling's are.
 * One thread records; any thread reads.
 */
final class Histogram {
    private static final int SUB = 8;
    private static final int BUCKETS = 33 * SUB;
    private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS);

    static int bucketOf(long ns) {
        long us = Math.max(ns, 0) / 1000;
        if (us < SUB) {
            return (int) us;
        }
        int e = (64 - Long.numberOfLeadingZeros(us)) - 4;
        int b = e * SUB + (int) (us >>> e);
        return Math.min(b, BUCKETS - 1);
    }

    static long lowerBound(int b) {
        if (b < SUB * 2) {
            return (long) b * 1000;
        }
        int e = b / SUB - 1;
        long m = b - (long) e * SUB;
        return (m << e) * 1000;
    }

    void record(long ns) {
        buckets.incrementAndGet(bucketOf(ns));
    }

    void reset() {
        for (int i = 0; i < BUCKETS; i++) {
            buckets.set(i, 0);
        }
    }

    /** The q-quantile in nanoseconds (0 when empty). */
    long quantile(double q) {
        long[] counts = new long[BUCKETS];
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = buckets.get(i);
            total += counts[i];
        }
        if (total == 0) {
            return 0;
        }
        long rank = Math.max((long) Math.ceil(q * total), 1);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return (lowerBound(i) + lowerBound(i + 1)) / 2;
            }
        }
        return lowerBound(BUCKETS - 1);
    }
}
