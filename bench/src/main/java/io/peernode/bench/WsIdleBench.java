package io.peernode.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Heap per idle WebSocket connection on a node: heap used after a full GC (jcmd PID GC.run,
 * then GC.heap_info) with N connections open, minus before, divided by N. Two stages on the
 * same connections: only connected, then each subscribed to one stream (the same stream).
 *
 * <pre>
 * java -cp peer-bench.jar io.peernode.bench.WsIdleBench NODE_PID HTTP_PORT ADMIN_KEY N
 * </pre>
 * Prints {@code RESULT stage=… connections=… heap_before_kib=… heap_after_kib=… per_connection_kib=…}.
 */
public final class WsIdleBench {

  static final Pattern USED = Pattern.compile("used (\\d+)K");

  /** Heap used after a full GC, in KiB (the median of three GC.run + GC.heap_info). */
  static long heapAfterGc(long pid) throws Exception {
    List<Long> samples = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      jcmd(pid, "GC.run");
      Thread.sleep(300);
      String info = jcmd(pid, "GC.heap_info");
      Matcher m = USED.matcher(info);
      if (!m.find()) throw new IllegalStateException("no 'used NK' in GC.heap_info: " + info);
      samples.add(Long.parseLong(m.group(1)));
    }
    samples.sort(null);
    return samples.get(1);
  }

  static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  /**
   * Instances and bytes per class after a full GC ({@code GC.class_histogram} collects first):
   * {@code {instances, bytes}} by class name.
   */
  static java.util.Map<String, long[]> histogram(long pid) throws Exception {
    java.util.Map<String, long[]> classes = new java.util.HashMap<>();
    for (String line : jcmd(pid, "GC.class_histogram").split("\n")) {
      Matcher m = HISTO_LINE.matcher(line);
      if (m.find()) {
        long[] c = classes.computeIfAbsent(m.group(3), k -> new long[2]);
        c[0] += Long.parseLong(m.group(1));
        c[1] += Long.parseLong(m.group(2));
      }
    }
    return classes;
  }

  static String jcmd(long pid, String command) throws Exception {
    Process p = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + out);
    }
    return out;
  }

  static final class Listener implements WebSocket.Listener {
    static final AtomicInteger closed = new AtomicInteger();
    final AtomicInteger subscribed;

    Listener(AtomicInteger subscribed) {
      this.subscribed = subscribed;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      String s = data.toString();
      if (s.startsWith("[0,2,")) subscribed.incrementAndGet();
      else if (s.startsWith("[0,7,")) System.err.println("error: " + s);
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      closed.incrementAndGet();
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      if (closed.incrementAndGet() <= 3) System.err.println("WebSocket error: " + error);
    }
  }

  static void printGrowth(String stage, java.util.Map<String, long[]> before,
      java.util.Map<String, long[]> after, int open) {
    System.out.printf("top heap growth by class, %s (bytes and instances per connection):%n",
        stage);
    long[] none = new long[2];
    after.entrySet().stream()
        .map(e -> {
          long[] b = before.getOrDefault(e.getKey(), none);
          return java.util.Map.entry(e.getKey(),
              new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]});
        })
        .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
        .limit(Integer.parseInt(System.getenv().getOrDefault("HISTO_TOP", "20")))
        .forEach(e -> System.out.printf(Locale.ROOT, "  %9.0f  %7.1f  %s%n",
            e.getValue()[1] / (double) open, e.getValue()[0] / (double) open, e.getKey()));
  }

  static void print(String stage, int n, long before, long after) {
    System.out.printf(Locale.ROOT,
        "RESULT stage=%s connections=%d heap_before_kib=%d heap_after_kib=%d "
            + "per_connection_kib=%.2f%n", stage, n, before, after, (after - before) / (double) n);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    long pid = Long.parseLong(args[0]);
    int port = Integer.parseInt(args[1]);
    String key = args[2];
    int n = Integer.parseInt(args[3]);
    // Another WebSocket path (the stand-in's /bench/echo): connected stage only.
    String path = args.length > 4 ? args[4] : "/api/v1/ws";
    boolean api = path.equals("/api/v1/ws");
    HttpClient http = HttpClient.newHttpClient();
    String stream = StreamsWsBench.createStream(http, "http://127.0.0.1:" + port + "/api/v1",
        key, "idle-" + System.nanoTime());
    URI uri = URI.create("ws://127.0.0.1:" + port + path);
    String subscribe = "{\"type\":\"subscribe\",\"stream\":\"" + stream + "\",\"partition\":0,"
        + "\"authKey\":\"" + key + "\"}";
    AtomicInteger subscribed = new AtomicInteger();

    // Warm-up: a few connections that connect, subscribe and close, so the code paths, the
    // partition and the permission cache exist before "before" is taken.
    for (int i = 0; i < 20; i++) {
      WebSocket w = http.newWebSocketBuilder().buildAsync(uri, new Listener(subscribed)).get();
      if (api) w.sendText(subscribe, true).get();
      w.sendClose(WebSocket.NORMAL_CLOSURE, "").get();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (api && subscribed.get() < 20 && System.nanoTime() < deadline) Thread.sleep(10);
    Thread.sleep(2000);
    subscribed.set(0);
    Listener.closed.set(0);
    long before = heapAfterGc(pid);
    java.util.Map<String, long[]> histoBefore = histogram(pid);

    List<WebSocket> sockets = new ArrayList<>(n);
    Semaphore inFlight = new Semaphore(200);
    List<CompletableFuture<WebSocket>> opening = new ArrayList<>(n);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      inFlight.acquire();
      opening.add(http.newWebSocketBuilder().connectTimeout(java.time.Duration.ofSeconds(60))
          .buildAsync(uri, new Listener(subscribed))
          .whenComplete((w, e) -> inFlight.release()));
    }
    int failed = 0;
    for (CompletableFuture<WebSocket> f : opening) {
      try {
        sockets.add(f.get(120, TimeUnit.SECONDS));
      } catch (Exception e) {
        if (++failed <= 3) System.err.println("connect failed: " + e);
      }
    }
    int open = sockets.size();
    System.err.printf("%d connections open in %.1f s (%d failed)%n", open,
        (System.nanoTime() - t0) / 1e9, failed);
    Thread.sleep(2000);
    long connected = heapAfterGc(pid);
    String stage = api ? "connected" : "echo-baseline";
    print(stage, open, before, connected);
    printGrowth(stage, histoBefore, histogram(pid), open);
    if (!api) {
      for (WebSocket w : sockets) w.abort();
      System.exit(0);
    }

    t0 = System.nanoTime();
    for (WebSocket w : sockets) {
      w.sendText(subscribe, true).get(60, TimeUnit.SECONDS);
    }
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (subscribed.get() < open && System.nanoTime() < deadline) Thread.sleep(20);
    System.err.printf("%d of %d subscribed in %.1f s; %d closed by the node%n", subscribed.get(),
        open, (System.nanoTime() - t0) / 1e9, Listener.closed.get());
    Thread.sleep(2000);
    long subscribedHeap = heapAfterGc(pid);
    print("subscribed", open, before, subscribedHeap);
    printGrowth("subscribed", histoBefore, histogram(pid), open);
    System.err.printf("closed by the node meanwhile: %d%n", Listener.closed.get());
    // HOLD_SECONDS keeps the connections open for a heap dump or a flight recording.
    long hold = Long.parseLong(System.getenv().getOrDefault("HOLD_SECONDS", "0"));
    if (hold > 0) {
      System.err.println("HOLDING " + hold + " s");
      Thread.sleep(TimeUnit.SECONDS.toMillis(hold));
    }
    for (WebSocket w : sockets) w.abort();
    System.exit(0);
  }

  private WsIdleBench() {
  }
}
