package io.peernode.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.PeerNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/** Small helpers shared by the bench main classes: arguments, embedded nodes, counters in files. */
final class BenchSupport {

  private BenchSupport() {}

  /** {@code --key value} pairs after the mode. */
  static Map<String, String> args(String[] argv, int from) {
    Map<String, String> out = new HashMap<>();
    for (int i = from; i < argv.length; i += 2) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
        throw new IllegalArgumentException("expected --key value, got " + argv[i]);
      }
      out.put(argv[i].substring(2), argv[i + 1]);
    }
    return out;
  }

  static String need(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return v;
  }

  /** An embedded node with free ports, joined to {@code seed} (host:port) when given. */
  static PeerNode startNode(String dataDir, String seed) {
    StringBuilder conf = new StringBuilder("peer { data-dir = \"").append(dataDir)
        .append("\", http-port = 0, cluster-port = 0, sync-port = 0");
    if (seed != null) {
      conf.append(", seeds = [\"").append(seed).append("\"]");
    }
    conf.append(" }");
    Config config = ConfigFactory.parseString(conf.toString()).withFallback(ConfigFactory.load());
    PeerNode node = PeerNode.start(config);
    System.out.println(node.readyLine() + " pid=" + ProcessHandle.current().pid());
    System.out.flush();
    return node;
  }

  /**
   * A long counter in an 8-byte memory-mapped file: one process writes it, another reads it with
   * no system call (flow control between the subscriber and publisher processes).
   */
  static final class SharedCounter {
    private final MappedByteBuffer buf;

    SharedCounter(Path file) throws IOException {
      try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
        raf.setLength(8);
        buf = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 8);
      }
    }

    void set(long v) {
      buf.putLong(0, v);
    }

    long get() {
      return buf.getLong(0);
    }
  }

  static void waitForFile(Path p, long timeoutMs) throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMs;
    while (!Files.exists(p)) {
      if (System.currentTimeMillis() > end) {
        throw new IllegalStateException("timed out waiting for " + p);
      }
      Thread.sleep(5);
    }
  }

  /**
   * Ends the process at once (no shutdown hooks: the node's coordinated shutdown would only add
   * time), after writing any flight recording started with {@code -XX:StartFlightRecording=
   * ...,filename=F} (JAVA_OPTS), which halt alone would lose (with a directory or no filename:
   * to {@code -Dbench.jfr-dir}, default the temporary directory, as peer-bench-PID.jfr).
   */
  static void halt() {
    try {
      // Without the option no recording was started (and asking for the recorder would start one).
      boolean recording = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
          .anyMatch(o -> o.startsWith("-XX:StartFlightRecording"));
      for (jdk.jfr.Recording r : !recording ? java.util.List.<jdk.jfr.Recording>of()
          : jdk.jfr.FlightRecorder.getFlightRecorder().getRecordings()) {
        if (r.getDestination() != null) {
          r.stop(); // writes it to its destination
        } else { // filename=DIR/ (written by a shutdown hook, which halt skips): DIR or tmp
          Path to = Path.of(System.getProperty("bench.jfr-dir", System.getProperty("java.io.tmpdir")),
              "peer-bench-" + ProcessHandle.current().pid() + ".jfr");
          r.dump(to);
          System.err.println("flight recording written to " + to);
        }
      }
    } catch (java.io.IOException | RuntimeException | Error e) {
      System.err.println("flight recording not written: " + e);
    }
    Runtime.getRuntime().halt(0);
  }

  /** CPU time this process used so far, all threads, in seconds. */
  static double cpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  /** Latency histogram in microseconds (up to 10 minutes). */
  static Histogram histogram() {
    return new Histogram(600_000_000L, 3);
  }

  static void record(Histogram h, long publishNanos, long nowNanos) {
    long us = Math.max(0, (nowNanos - publishNanos) / 1000);
    h.recordValue(Math.min(us, h.getHighestTrackableValue()));
  }

  static String ms(Histogram h, double percentile) {
    return String.format("%.2f", h.getValueAtPercentile(percentile) / 1000.0);
  }

  /** Samples the heap used every 50 ms; {@link #max()} is the largest seen. */
  static final class HeapSampler {
    private final AtomicLong max = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "heap-sampler");
      t.setDaemon(true);
      return t;
    });

    HeapSampler() {
      MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
      timer.scheduleAtFixedRate(() -> max.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max),
          0, 50, TimeUnit.MILLISECONDS);
    }

    long max() {
      return max.get();
    }

    static long maxHeap() {
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    }
  }
}
