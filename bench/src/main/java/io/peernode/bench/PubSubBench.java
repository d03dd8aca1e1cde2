package io.peernode.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.peernode.actors.userapi.UserApi;
import io.peernode.node.PeerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * The processes of bench/pubsub.sh: 1 publisher, 2 subscribers, fan-out of 256-byte events.
 *
 * <p>Modes:
 * <ul>
 *   <li>{@code node-pub} / {@code node-sub}: a JVM embedding a node, publishing or draining
 *       through {@code node.userApi()} (the Java API path; one process per node);</li>
 *   <li>{@code rpc}: one client JVM driving three plain node processes over {@code POST /rpc};</li>
 *   <li>{@code nats}: one client JVM with a jnats connection to each of three nats-servers.</li>
 * </ul>
 *
 * <p>Every event carries its sequence number and its publish time ({@link System#nanoTime}, which
 * on Linux is CLOCK_MONOTONIC, one clock for every process of the machine). Flow control is the
 * same for all three systems: the publisher keeps at most {@code window} events published but not
 * yet delivered to the slower subscriber, so no queue (the node's 8,192 per subscription, NATS's
 * slow-consumer limit) overflows. Delivered events/s per subscriber = measured events / (last
 * arrival - earliest publish time of the measured events, i.e. the first one's: both systems
 * deliver in order); the first {@code warmup} events are not measured (JIT, connections).
 */
public final class PubSubBench {

  static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"topic\":{\"const\":\"bench\"}},\"required\":[\"topic\"]}";
  static final ObjectMapper MAPPER = new ObjectMapper();

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) {
      System.err.println("usage: PubSubBench node-pub|node-sub|rpc|nats --key value ...");
      System.exit(2);
    }
    Map<String, String> a = BenchSupport.args(argv, 1);
    switch (argv[0]) {
      case "node-pub" -> nodePub(a);
      case "node-sub" -> nodeSub(a);
      case "rpc" -> rpc(a);
      case "nats" -> nats(a);
      default -> throw new IllegalArgumentException("unknown mode " + argv[0]);
    }
  }

  // ---- the event

  /** The event's canonical JSON: {"pad":"x…","seq":S,"topic":"bench","ts":T}, exactly {@code size} bytes. */
  static String eventJson(long seq, long ts, int size) {
    String pad = "x".repeat(padLength(seq, ts, size));
    return "{\"pad\":\"" + pad + "\",\"seq\":" + seq + ",\"topic\":\"bench\",\"ts\":" + ts + "}";
  }

  static ObjectNode eventNode(long seq, long ts, int size) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("pad", "x".repeat(padLength(seq, ts, size)));
    n.put("seq", seq);
    n.put("topic", "bench");
    n.put("ts", ts);
    return n;
  }

  private static int padLength(long seq, long ts, int size) {
    int fixed = "{\"pad\":\"\",\"seq\":,\"topic\":\"bench\",\"ts\":}".length()
        + Long.toString(seq).length() + Long.toString(ts).length();
    return Math.max(0, size - fixed);
  }

  // ---- subscriber accounting, the same for every system

  static final class Tally {
    final String name;
    final long warmup;
    final long events;
    /**
     * The latency of each event by sequence number (µs + 1; 0: not received), recorded into the
     * histogram at the end; per phase, [0] the warm-up and [1] the measured events, the count,
     * the earliest publish time and the last arrival. No branch on the phase, nor HdrHistogram's
     * new-minimum/maximum branches, in the per-event path: a branch never taken during the
     * warm-up is compiled as a trap, and the first measured event then threw the subscriber's
     * loop (into which this is inlined) back to the interpreter, and C2 compiled it again inside
     * the measured part (seen in JFR on 2026-12-01, for the node's subscribers and NATS's alike).
     */
    final long[] latencyUs;
    final long[] counts = new long[2];
    final long[] firstTs = {Long.MAX_VALUE, Long.MAX_VALUE};
    final long[] lastArrival = new long[2];
    final BitSet seen = new BitSet();
    volatile long received;
    long duplicates;
    volatile long lastAny = System.nanoTime();

    Tally(String name, long warmup, long events) {
      this.name = name;
      this.warmup = warmup;
      this.events = events;
      this.latencyUs = new long[Math.toIntExact(warmup + events)];
    }

    void add(long seq, long ts, long now) {
      lastAny = now;
      if (seq < 0 || seq >= latencyUs.length) {
        return;
      }
      if (seen.get((int) seq)) {
        duplicates++;
        return;
      }
      seen.set((int) seq);
      received++;
      int phase = (int) ((warmup - 1 - seq) >>> 63); // 1 when seq >= warmup
      long d = ts - firstTs[phase];
      firstTs[phase] += d & (d >> 63); // min(firstTs, ts)
      counts[phase]++;
      lastArrival[phase] = now;
      latencyUs[(int) seq] = Math.max(0, (now - ts) / 1000) + 1;
    }

    /** The measured events' latencies. */
    Histogram latency() {
      Histogram h = BenchSupport.histogram();
      for (int i = (int) warmup; i < latencyUs.length; i++) {
        if (latencyUs[i] > 0) {
          h.recordValue(Math.min(latencyUs[i] - 1, h.getHighestTrackableValue()));
        }
      }
      return h;
    }

    boolean complete() {
      return received >= warmup + events;
    }

    /** Nothing for {@code idleMs} since the last event (or since the start). */
    boolean idle(long now, long idleMs) {
      return now - lastAny > TimeUnit.MILLISECONDS.toNanos(idleMs);
    }

    double rate() {
      double secs = (lastArrival[1] - firstTs[1]) / 1e9;
      return secs > 0 ? counts[1] / secs : 0;
    }

    String result(String extra) {
      Histogram latency = latency();
      return String.format("RESULT sub=%s delivered=%d expected=%d lost=%d dup=%d rate=%.0f p50_ms=%s p99_ms=%s max_ms=%s%s",
          name, counts[1], events, events - counts[1], duplicates, rate(),
          BenchSupport.ms(latency, 50), BenchSupport.ms(latency, 99), BenchSupport.ms(latency, 100), extra);
    }
  }

  /** Waits until fewer than {@code window} events are in flight to the slowest subscriber. */
  static final class Window {
    final long window;
    final LongSupplier[] delivered;
    long stalls;

    Window(long window, LongSupplier... delivered) {
      this.window = window;
      this.delivered = delivered;
    }

    long minDelivered() {
      long min = Long.MAX_VALUE;
      for (LongSupplier d : delivered) {
        min = Math.min(min, d.getAsLong());
      }
      return min;
    }

    /**
     * Blocks until event {@code seq} may be published. Lost events would hold the window shut
     * forever, so after 2 s without room it lets one through and counts a stall.
     */
    void await(long seq) {
      if (seq - minDelivered() < window) {
        return;
      }
      long start = System.nanoTime();
      int spins = 0;
      while (seq - minDelivered() >= window) {
        if (++spins < 100) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(20_000);
        }
        if (System.nanoTime() - start > 2_000_000_000L) {
          stalls++;
          return;
        }
      }
    }
  }

  /** Paces publishing to {@code rate} events/s (0: as fast as the window allows). */
  static void pace(long t0, long seq, double rate) {
    if (rate <= 0) {
      return;
    }
    long due = t0 + (long) (seq * 1e9 / rate);
    long now;
    while ((now = System.nanoTime()) < due) {
      LockSupport.parkNanos(Math.min(due - now, 100_000));
    }
  }

  static String publisherResult(long total, long t0, long stalls, long failures) {
    double secs = (System.nanoTime() - t0) / 1e9;
    return String.format("PUBLISHED events=%d secs=%.2f rate=%.0f stalls=%d failures=%d", total, secs, total / secs, stalls, failures);
  }

  // ---- Java API path

  private static void nodePub(Map<String, String> a) throws Exception {
    PeerNode node = BenchSupport.startNode(BenchSupport.need(a, "data"), a.get("seed"));
    UserApi api = node.userApi();
    long warmup = Long.parseLong(a.getOrDefault("warmup", "5000"));
    long events = Long.parseLong(BenchSupport.need(a, "events"));
    int size = Integer.parseInt(a.getOrDefault("size", "256"));
    long window = Long.parseLong(a.getOrDefault("window", "1000"));
    double rate = Double.parseDouble(a.getOrDefault("rate", "0"));
    BenchSupport.waitForFile(Path.of(BenchSupport.need(a, "go")), 300_000);
    while (api.peers().toCompletableFuture().get().size() < 2) {
      Thread.sleep(20);
    }
    List<LongSupplier> progress = new ArrayList<>();
    for (String f : BenchSupport.need(a, "progress").split(",")) {
      BenchSupport.SharedCounter c = new BenchSupport.SharedCounter(Path.of(f));
      progress.add(c::get);
    }
    Window w = new Window(window, progress.toArray(new LongSupplier[0]));
    AtomicLong failures = new AtomicLong();
    long total = warmup + events;
    long t0 = System.nanoTime();
    for (long seq = 0; seq < total; seq++) {
      w.await(seq);
      pace(t0, seq, rate);
      api.publish(eventNode(seq, System.nanoTime(), size)).whenComplete((v, t) -> {
        if (t != null && failures.getAndIncrement() == 0) {
          System.err.println("publish failed: " + t);
        }
      });
    }
    System.out.println(publisherResult(total, t0, w.stalls, failures.get()));
    System.out.flush();
    // Once everything went out: how many events one cluster message carried, on average.
    Thread.sleep(2000);
    Double sent = node.metrics().getSampleValue("peer_userapi_events_sent_total");
    Double batches = node.metrics().getSampleValue("peer_userapi_event_batches_sent_total");
    if (sent != null && batches != null && batches > 0) {
      System.out.printf("SENT events=%.0f batches=%.0f per_batch=%.1f%n", sent, batches, sent / batches);
      System.out.flush();
    }
    Thread.sleep(Long.MAX_VALUE); // the script stops this node once the subscribers are done
  }

  private static void nodeSub(Map<String, String> a) throws Exception {
    PeerNode node = BenchSupport.startNode(BenchSupport.need(a, "data"), BenchSupport.need(a, "seed"));
    UserApi api = node.userApi();
    JsonNode schema = MAPPER.readTree(SCHEMA);
    api.subscribe(schema).toCompletableFuture().get();
    BenchSupport.SharedCounter progress = new BenchSupport.SharedCounter(Path.of(BenchSupport.need(a, "progress")));
    Tally t = new Tally(BenchSupport.need(a, "name"), Long.parseLong(a.getOrDefault("warmup", "5000")),
        Long.parseLong(BenchSupport.need(a, "events")));
    long idleMs = Long.parseLong(a.getOrDefault("idle-ms", "10000"));
    System.out.println("SUBSCRIBED");
    System.out.flush();
    switch (a.getOrDefault("consume", "bytes")) {
      case "poll" -> pollEvents(api, schema, t, progress, idleMs);
      case "json" -> streamEvents(node, api.eventSource(schema).map(evs -> {
        long now = System.nanoTime();
        for (JsonNode ev : evs) {
          t.add(ev.get("seq").asLong(), ev.get("ts").asLong(), now);
        }
        return evs.size();
      }), t, progress, idleMs);
      case "bytes" -> streamEvents(node, api.eventBytesSource(schema).map(evs -> {
        long now = System.nanoTime();
        for (akka.util.ByteString ev : evs) {
          ByteBuffer b = ev.asByteBuffer();
          t.add(jsonLong(b, SEQ), jsonLong(b, TS), now);
        }
        return evs.size();
      }), t, progress, idleMs);
      default -> throw new IllegalArgumentException("--consume poll|json|bytes");
    }
    Double refused = node.metrics().getSampleValue("peer_userapi_refused_total", new String[] {"queue"}, new String[] {"subscription"});
    System.out.println(t.result(" refused=" + (refused == null ? 0 : refused.longValue())));
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // the script reads this process's CPU time, then stops it
  }

  /**
   * The optional {@code --progress} files, one per subscriber: each holds the events that
   * subscriber received so far, which the script reads to start its CPU figure after the warm-up.
   */
  static BenchSupport.SharedCounter[] progressCounters(Map<String, String> a, int subscribers) throws java.io.IOException {
    BenchSupport.SharedCounter[] out = new BenchSupport.SharedCounter[subscribers];
    if (a.containsKey("progress")) {
      String[] files = a.get("progress").split(",");
      for (int i = 0; i < subscribers && i < files.length; i++) {
        out[i] = new BenchSupport.SharedCounter(Path.of(files[i]));
      }
    }
    return out;
  }

  private static final byte[] SEQ = "\"seq\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] TS = "\"ts\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * The integer after {@code "name":} in a JSON text in UTF-8, as a consumer that knows its
   * events' layout reads it: the bench's events are flat objects whose keys do not occur inside
   * their string values, and in canonical JSON (keys sorted) seq and ts come after the pad, so
   * they are searched for from the end. -1 when absent.
   */
  static long jsonLong(ByteBuffer b, byte[] key) {
    outer:
    for (int i = b.limit() - key.length; i >= b.position(); i--) {
      for (int j = 0; j < key.length; j++) {
        if (b.get(i + j) != key[j]) {
          continue outer;
        }
      }
      int k = i + key.length;
      boolean negative = k < b.limit() && b.get(k) == '-';
      if (negative) {
        k++;
      }
      long v = 0;
      for (; k < b.limit() && b.get(k) >= '0' && b.get(k) <= '9'; k++) {
        v = 10 * v + (b.get(k) - '0');
      }
      return negative ? -v : v;
    }
    return -1;
  }

  /**
   * Consumes through UserApi.eventSource or eventBytesSource ({@code events}, which tallies each
   * batch): the subscription pushes batches as they arrive.
   */
  private static void streamEvents(PeerNode node, akka.stream.javadsl.Source<Integer, akka.NotUsed> events, Tally t,
      BenchSupport.SharedCounter progress, long idleMs) throws Exception {
    java.util.concurrent.CompletableFuture<Void> complete = new java.util.concurrent.CompletableFuture<>();
    events.runForeach(n -> {
      progress.set(t.received);
      if (t.complete()) {
        complete.complete(null);
      }
    }, node.system());
    boolean started = false;
    while (!complete.isDone()) {
      // Only the idle check polls (10 times a second); events arrive on the stream's thread.
      long seen = t.received;
      try {
        complete.get(100, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        started |= seen > 0;
        if (t.idle(System.nanoTime(), started ? idleMs : 600_000)) {
          break;
        }
      }
    }
  }

  /** Consumes by polling UserApi.events (pubsub_events), as before eventSource existed. */
  private static void pollEvents(UserApi api, JsonNode schema, Tally t, BenchSupport.SharedCounter progress, long idleMs)
      throws Exception {
    boolean started = false;
    while (true) {
      List<JsonNode> evs = api.events(schema).toCompletableFuture().get();
      long now = System.nanoTime();
      for (JsonNode ev : evs) {
        t.add(ev.get("seq").asLong(), ev.get("ts").asLong(), now);
      }
      progress.set(t.received);
      if (t.complete()) {
        break;
      }
      if (evs.isEmpty()) {
        if (t.idle(now, started ? idleMs : 600_000)) {
          break;
        }
        LockSupport.parkNanos(200_000);
      } else {
        started = true;
      }
    }
  }

  // ---- JSON-RPC path: one client JVM, three node processes

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  static JsonNode call(String url, String body) throws Exception {
    HttpResponse<byte[]> r = HTTP.send(
        HttpRequest.newBuilder(URI.create(url + "/rpc")).POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + r.statusCode() + " from " + url + ": " + new String(r.body()));
    }
    JsonNode json = MAPPER.readTree(r.body());
    if (json.has("error")) {
      throw new IllegalStateException("JSON-RPC error from " + url + ": " + json.get("error"));
    }
    return json;
  }

  static String request(String method, String params) {
    return "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\",\"params\":[" + params + "]}";
  }

  private static void rpc(Map<String, String> a) throws Exception {
    String pub = BenchSupport.need(a, "pub");
    String[] subs = BenchSupport.need(a, "subs").split(",");
    long warmup = Long.parseLong(a.getOrDefault("warmup", "5000"));
    long events = Long.parseLong(BenchSupport.need(a, "events"));
    int size = Integer.parseInt(a.getOrDefault("size", "256"));
    long window = Long.parseLong(a.getOrDefault("window", "1000"));
    int conc = Integer.parseInt(a.getOrDefault("concurrency", "8"));
    int batch = Integer.parseInt(a.getOrDefault("batch", "1"));
    long idleMs = Long.parseLong(a.getOrDefault("idle-ms", "10000"));
    for (String s : subs) {
      call(s, request("pubsub_subscribe", SCHEMA));
    }
    List<Tally> tallies = new ArrayList<>();
    List<Thread> drains = new ArrayList<>();
    String drainBody = request("pubsub_events", SCHEMA);
    BenchSupport.SharedCounter[] progress = progressCounters(a, subs.length);
    for (int i = 0; i < subs.length; i++) {
      Tally t = new Tally(String.valueOf((char) ('B' + i)), warmup, events);
      tallies.add(t);
      String url = subs[i];
      BenchSupport.SharedCounter counter = progress[i];
      drains.add(new Thread(() -> {
        boolean started = false;
        try {
          while (true) {
            JsonNode result = call(url, drainBody).get("result");
            long now = System.nanoTime();
            for (JsonNode ev : result) {
              t.add(ev.get("seq").asLong(), ev.get("ts").asLong(), now);
            }
            if (counter != null) {
              counter.set(t.received);
            }
            if (t.complete()) {
              break;
            }
            if (result.isEmpty()) {
              if (t.idle(now, started ? idleMs : 600_000)) {
                break;
              }
              LockSupport.parkNanos(200_000);
            } else {
              started = true;
            }
          }
        } catch (Exception e) {
          System.err.println("drain " + url + " failed: " + e);
        }
      }, "drain-" + t.name));
    }
    System.out.println("SUBSCRIBED");
    System.out.flush();
    BenchSupport.waitForFile(Path.of(BenchSupport.need(a, "go")), 300_000);
    drains.forEach(Thread::start);
    Window w = new Window(window, tallies.stream().map(t -> (LongSupplier) () -> t.received).toArray(LongSupplier[]::new));
    long total = warmup + events;
    AtomicLong next = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    long t0 = System.nanoTime();
    List<Thread> publishers = new ArrayList<>();
    for (int p = 0; p < conc; p++) {
      publishers.add(new Thread(() -> {
        while (true) {
          long first = next.getAndAdd(batch);
          if (first >= total) {
            return;
          }
          long last = Math.min(total, first + batch);
          synchronized (w) {
            w.await(last - 1);
          }
          StringBuilder body = new StringBuilder(batch > 1 ? "[" : "");
          for (long seq = first; seq < last; seq++) {
            if (seq > first) {
              body.append(',');
            }
            body.append(request("pubsub_publish", eventJson(seq, System.nanoTime(), size)));
          }
          if (batch > 1) {
            body.append(']');
          }
          try {
            JsonNode r = call(pub, body.toString());
            if (batch > 1) {
              for (JsonNode one : r) {
                if (one.has("error") && failures.getAndIncrement() == 0) {
                  System.err.println("publish failed: " + one.get("error"));
                }
              }
            }
          } catch (Exception e) {
            if (failures.getAndIncrement() == 0) {
              System.err.println("publish failed: " + e);
            }
          }
        }
      }, "publish-" + p));
    }
    publishers.forEach(Thread::start);
    for (Thread t : publishers) {
      t.join();
    }
    System.out.println(publisherResult(total, t0, w.stalls, failures.get()));
    for (Thread t : drains) {
      t.join();
    }
    for (int i = 0; i < subs.length; i++) {
      String metrics = new String(HTTP.send(HttpRequest.newBuilder(URI.create(subs[i] + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofByteArray()).body());
      long refused = 0;
      for (String line : metrics.split("\n")) {
        if (line.startsWith("peer_userapi_refused_total{queue=\"subscription\"")) {
          refused = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      System.out.println(tallies.get(i).result(" refused=" + refused));
    }
    System.out.println("DONE");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // the script reads the CPU time of every process, then stops them
  }

  // ---- NATS: one client JVM, a connection to each of three servers

  private static void nats(Map<String, String> a) throws Exception {
    String pub = BenchSupport.need(a, "pub");
    String[] subs = BenchSupport.need(a, "subs").split(",");
    long warmup = Long.parseLong(a.getOrDefault("warmup", "5000"));
    long events = Long.parseLong(BenchSupport.need(a, "events"));
    int size = Integer.parseInt(a.getOrDefault("size", "256"));
    long window = Long.parseLong(a.getOrDefault("window", "1000"));
    double rate = Double.parseDouble(a.getOrDefault("rate", "0"));
    long idleMs = Long.parseLong(a.getOrDefault("idle-ms", "10000"));
    List<Tally> tallies = new ArrayList<>();
    List<Thread> drains = new ArrayList<>();
    List<Connection> conns = new ArrayList<>();
    BenchSupport.SharedCounter[] progress = progressCounters(a, subs.length);
    for (int i = 0; i < subs.length; i++) {
      BenchSupport.SharedCounter counter = progress[i];
      Connection c = Nats.connect(new Options.Builder().server(subs[i]).build());
      conns.add(c);
      Subscription s = c.subscribe("bench");
      c.flush(Duration.ofSeconds(5));
      Tally t = new Tally(String.valueOf((char) ('B' + i)), warmup, events);
      tallies.add(t);
      drains.add(new Thread(() -> {
        boolean started = false;
        try {
          while (true) {
            Message m = s.nextMessage(Duration.ofMillis(100));
            long now = System.nanoTime();
            if (m != null) {
              ByteBuffer b = ByteBuffer.wrap(m.getData());
              t.add(b.getLong(0), b.getLong(8), now);
              if (counter != null) {
                counter.set(t.received);
              }
              started = true;
              if (t.complete()) {
                break;
              }
            } else if (t.idle(now, started ? idleMs : 600_000)) {
              break;
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "drain-" + t.name));
    }
    Connection p = Nats.connect(new Options.Builder().server(pub).build());
    // Interest crosses the routes asynchronously (within a few ms on loopback): give it a second.
    Thread.sleep(1000);
    System.out.println("SUBSCRIBED");
    System.out.flush();
    BenchSupport.waitForFile(Path.of(BenchSupport.need(a, "go")), 300_000);
    drains.forEach(Thread::start);
    Window w = new Window(window, tallies.stream().map(t -> (LongSupplier) () -> t.received).toArray(LongSupplier[]::new));
    long total = warmup + events;
    long t0 = System.nanoTime();
    for (long seq = 0; seq < total; seq++) {
      w.await(seq);
      pace(t0, seq, rate);
      byte[] payload = new byte[size];
      ByteBuffer b = ByteBuffer.wrap(payload);
      b.putLong(0, seq);
      b.putLong(8, System.nanoTime());
      p.publish("bench", payload);
    }
    p.flush(Duration.ofSeconds(10));
    System.out.println(publisherResult(total, t0, w.stalls, 0));
    for (Thread t : drains) {
      t.join();
    }
    for (Tally t : tallies) {
      System.out.println(t.result(""));
    }
    System.out.println("DONE");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // the script reads the CPU time of every process, then stops them
  }
}
