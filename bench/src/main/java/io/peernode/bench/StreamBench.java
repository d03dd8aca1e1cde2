package io.peernode.bench;

import akka.Done;
import akka.NotUsed;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.peernode.actors.userapi.UserApi;
import io.peernode.node.PeerNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The two node processes of bench/streams.sh: {@code recv} (node B) reads one user-API byte
 * stream through {@code streamSource}; {@code send} (node A) opens it with {@code streamOpen} and
 * writes {@code --mib} MiB of 64 KiB chunks through {@code streamSink}. Both sample their heap
 * used every 50 ms and print the largest value seen.
 */
public final class StreamBench {

  private static final int CHUNK = 64 * 1024;

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) {
      System.err.println("usage: StreamBench recv|send --key value ...");
      System.exit(2);
    }
    Map<String, String> a = BenchSupport.args(argv, 1);
    switch (argv[0]) {
      case "recv" -> recv(a);
      case "send" -> send(a);
      default -> throw new IllegalArgumentException("unknown mode " + argv[0]);
    }
  }

  private static String heap(BenchSupport.HeapSampler heap) {
    return String.format("heap_max_used_mib=%.1f heap_limit_mib=%.0f",
        heap.max() / 1048576.0, BenchSupport.HeapSampler.maxHeap() / 1048576.0);
  }

  private static void recv(Map<String, String> a) throws Exception {
    PeerNode node = BenchSupport.startNode(BenchSupport.need(a, "data"), a.get("seed"));
    BenchSupport.HeapSampler heap = new BenchSupport.HeapSampler();
    UserApi api = node.userApi();
    int streams = Integer.parseInt(a.getOrDefault("streams", "1"));
    java.util.Set<String> done = new java.util.HashSet<>();
    for (int k = 1; k <= streams; k++) {
      boolean measured = k == streams; // earlier streams only warm the JIT up
      String id = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
      while (id == null) {
        for (String open : api.streamList().toCompletableFuture().get().keySet()) {
          if (!done.contains(open)) {
            id = open;
          }
        }
        if (id == null) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("no stream was opened to this node");
          }
          Thread.sleep(5);
        }
      }
      done.add(id);
      long opened = System.nanoTime();
      double cpu0 = BenchSupport.cpuSeconds();
      System.out.println("STREAM " + id + (measured ? "" : " (warm-up)"));
      System.out.flush();
      AtomicLong bytes = new AtomicLong();
      AtomicLong first = new AtomicLong();
      CompletionStage<Done> finished = api.streamSource(id).runWith(Sink.foreach(b -> {
        if (first.get() == 0) {
          first.set(System.nanoTime());
        }
        bytes.addAndGet(b.size());
      }), node.system());
      finished.toCompletableFuture().get(30, TimeUnit.MINUTES);
      long end = System.nanoTime();
      double secs = (end - first.get()) / 1e9;
      System.out.println(String.format(
          "%s bytes=%d secs=%.3f mb_per_s=%.1f mib_per_s=%.1f secs_from_open=%.3f cpu_secs=%.2f %s",
          measured ? "RESULT" : "WARMUP", bytes.get(), secs, bytes.get() / secs / 1e6, bytes.get() / secs / 1048576.0,
          (end - opened) / 1e9, BenchSupport.cpuSeconds() - cpu0, heap(heap)));
      System.out.flush();
    }
    BenchSupport.halt();
  }

  private static void send(Map<String, String> a) throws Exception {
    PeerNode node = BenchSupport.startNode(BenchSupport.need(a, "data"), BenchSupport.need(a, "seed"));
    BenchSupport.HeapSampler heap = new BenchSupport.HeapSampler();
    UserApi api = node.userApi();
    String to = BenchSupport.need(a, "to");
    int port = Integer.parseInt(BenchSupport.need(a, "port"));
    long mib = Long.parseLong(a.getOrDefault("mib", "1024"));
    while (api.peers().toCompletableFuture().get().stream().noneMatch(p -> p.nodeId.hex().equals(to))) {
      Thread.sleep(10);
    }
    long warmupMib = Long.parseLong(a.getOrDefault("warmup-mib", "0"));
    byte[] data = new byte[CHUNK];
    new Random(42).nextBytes(data);
    ByteString chunk = ByteString.fromArrayUnsafe(data);
    if (warmupMib > 0) {
      transfer(api, node, to, port, chunk, warmupMib, "SENT-WARMUP");
    }
    transfer(api, node, to, port, chunk, mib, "SENT");
    BenchSupport.waitForFile(Path.of(BenchSupport.need(a, "done")), 1_800_000);
    System.out.println("RESULT " + heap(heap));
    System.out.flush();
    BenchSupport.halt();
  }

  /** Opens a stream to {@code to} and writes {@code mib} MiB through its sink; prints a line. */
  private static void transfer(UserApi api, PeerNode node, String to, int port, ByteString chunk, long mib, String label)
      throws Exception {
    Optional<String> id = api.streamOpen(to, "127.0.0.1", port).toCompletableFuture().get();
    if (id.isEmpty()) {
      throw new IllegalStateException("stream_open returned null");
    }
    long chunks = mib * 1048576L / CHUNK;
    long t0 = System.nanoTime();
    double cpu0 = BenchSupport.cpuSeconds();
    CompletionStage<Done> written = Source.repeat(chunk).take(chunks)
        .watchTermination((NotUsed m, CompletionStage<Done> d) -> d)
        .toMat(api.streamSink(id.get()), Keep.left())
        .run(node.system());
    written.toCompletableFuture().get(30, TimeUnit.MINUTES);
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.println(String.format("%s bytes=%d secs=%.3f cpu_secs=%.2f", label, chunks * CHUNK, secs, BenchSupport.cpuSeconds() - cpu0));
    System.out.flush();
  }
}
