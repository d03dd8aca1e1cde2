package io.peernode.node.storage.bench;

import io.peernode.actors.streams.EventRange;
import io.peernode.actors.streams.StreamsSettings.Durability;
import io.peernode.node.storage.JdbcEventStore;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: compares embedded engines for the event store (storage.md has the figures).
 * Each engine runs the same three short phases in a fresh directory:
 *
 * <ol>
 *   <li>group commit: 64 concurrent writers (as 64 partitions would), each appending one
 *       200-byte event and waiting for it to be durable before the next, for a few seconds;
 *   <li>single writer: one writer, one event per commit, no window: the raw commit cost;
 *   <li>range reads: 50,000 stored events of one partition read back in pages of 500.
 * </ol>
 *
 * Run: {@code mvn -q -B -pl node -am test-compile} then
 * {@code java -cp node/target/test-classes:node/target/classes:$(cat cp.txt)
 * io.peernode.node.storage.bench.EmbeddedStoreBench [seconds]}.
 */
public final class EmbeddedStoreBench {

  private static final String CONTENT = "{\"v\":\"" + "x".repeat(192) + "\"}"; // 200 bytes

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    ExecutorService blocking = Executors.newFixedThreadPool(16);
    Path root = Files.createTempDirectory("store-bench");
    System.out.printf("200-byte events, %d s per phase, dir %s%n", seconds, root);
    try {
      for (Durability d : Durability.values()) {
        run("sqlite WAL " + (d == Durability.FSYNC ? "synchronous=FULL" : "synchronous=NORMAL"),
            "jdbc:sqlite:" + root.resolve("sqlite-" + d + ".db"), d, seconds, blocking);
        run("h2 MVStore " + (d == Durability.FSYNC ? "+CHECKPOINT SYNC" : "(no fsync)"),
            "jdbc:h2:file:" + root.resolve("h2-" + d), d, seconds, blocking);
      }
    } finally {
      blocking.shutdownNow();
    }
    System.exit(0); // the ActorSystem used for reads would keep the JVM alive
  }

  private static void run(String name, String url, Durability d, int seconds,
      ExecutorService blocking) throws Exception {
    System.out.printf("%n== %s (durability=%s)%n", name, d.name().toLowerCase());
    try (JdbcEventStore store =
        JdbcEventStore.open(url, d, Duration.ofMillis(5), 2000, blocking)) {
      // 1. group commit, 64 writers.
      int writers = 64;
      long[] next = new long[writers];
      List<long[]> latencies = new ArrayList<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      long commitsBefore = store.commits();
      long t0 = System.nanoTime();
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        final int p = w;
        long[] lat = new long[1_000_000];
        latencies.add(lat);
        Thread t = new Thread(() -> {
          int n = 0;
          while (System.nanoTime() < end) {
            long o = next[p];
            long s = System.nanoTime();
            store.append("bench", p, List.of(msg(p, o))).toCompletableFuture().join();
            lat[n++ + 1] = System.nanoTime() - s;
            lat[0] = n;
            next[p] = o + 1;
          }
        });
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) t.join();
      double secs = (System.nanoTime() - t0) / 1e9;
      long events = Arrays.stream(next).sum();
      long commits = store.commits() - commitsBefore;
      long[] all = latencies.stream()
          .flatMapToLong(l -> Arrays.stream(l, 1, (int) l[0] + 1)).sorted().toArray();
      System.out.printf("group commit, %d writers: %,.0f events/s, %d commits (%.1f events/commit),"
              + " append p50 %.1f ms p99 %.1f ms%n",
          writers, events / secs, commits, (double) events / Math.max(1, commits),
          all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6);

      // 2. single writer, one event per commit (no window).
      try (JdbcEventStore single = JdbcEventStore.open(url, d, Duration.ZERO, 1, blocking)) {
        long o = single.nextOffset("single", 0).toCompletableFuture().join();
        long start = System.nanoTime();
        long stop = start + TimeUnit.SECONDS.toNanos(Math.max(1, seconds / 2));
        long n = 0;
        while (System.nanoTime() < stop) {
          single.append("single", 0, List.of(msg("single", 0, o++))).toCompletableFuture().join();
          n++;
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("single writer, 1 event/commit: %,.0f commits/s (%.2f ms each)%n",
            n / s, s * 1000 / n);
      }

      // 3. range reads.
      int total = 50_000;
      for (int off = 0; off < total; off += 1000) {
        List<StreamMessage> batch = new ArrayList<>();
        for (int i = off; i < off + 1000; i++) batch.add(msg("read", 0, i));
        store.append("read", 0, batch).toCompletableFuture().join();
      }
      // Read twice, report the second: the first also pays for JIT and stream start-up.
      store.source("read", 0, EventRange.all(), 500)
          .runFold(0L, (acc, m) -> acc + 1, akka.stream.Materializer.matFromSystem(system()))
          .toCompletableFuture().join();
      long rs = System.nanoTime();
      long read = store.source("read", 0, EventRange.all(), 500)
          .runFold(0L, (acc, m) -> acc + 1, akka.stream.Materializer.matFromSystem(system()))
          .toCompletableFuture().join();
      double rsecs = (System.nanoTime() - rs) / 1e9;
      System.out.printf("range read, pages of 500: %,d events in %.2f s = %,.0f events/s%n",
          read, rsecs, read / rsecs);
    }
  }

  private static akka.actor.ActorSystem system;

  private static synchronized akka.actor.ActorSystem system() {
    if (system == null) {
      system = akka.actor.ActorSystem.create("bench",
          com.typesafe.config.ConfigFactory.parseString("akka.actor.provider=local")
              .withFallback(com.typesafe.config.ConfigFactory.load()));
      Runtime.getRuntime().addShutdownHook(new Thread(system::terminate));
    }
    return system;
  }

  private static StreamMessage msg(int partition, long offset) {
    return msg("bench", partition, offset);
  }

  private static StreamMessage msg(String stream, int partition, long offset) {
    return new StreamMessage(stream, partition, System.currentTimeMillis(), 604800, offset,
        offset == 0 ? null : offset - 1, CONTENT);
  }
}
