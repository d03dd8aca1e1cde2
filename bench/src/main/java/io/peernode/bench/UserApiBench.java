package io.peernode.bench;

import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import io.peernode.actors.userapi.UserApi;
import io.peernode.node.PeerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The processes of bench/pubsub.sh and bench/streams.sh. Each role prints one line starting
 * with {@code RESULT} (or {@code READY}/{@code SUBSCRIBED}) for the script to read.
 *
 * <pre>
 *   pub-node    --data D --go FILE --events N --size B           embedded node, publishes via the Java API
 *   sub-node    --data D --seed H:P --events N --timeout S       embedded node, subscribes via the Java API
 *   pub-rpc     --url U --events N --size B --go FILE            publishes over JSON-RPC (batches)
 *   sub-rpc     --url U --events N --timeout S                   subscribes and drains over JSON-RPC
 *   pub-nats    --url U --events N --size B --go FILE
 *   sub-nats    --url U --events N --timeout S
 *   stream-recv --data D --timeout S                             embedded node, reads the first stream opened to it
 *   stream-send --data D --seed H:P --to ID --port P --mib M     embedded node, writes M MiB through the Java API Sink
 * </pre>
 */
public final class UserApiBench {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"integer\"},\"pad\":{\"type\":\"string\"}},\"required\":[\"t\",\"pad\"]}";

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    switch (args[0]) {
      case "pub-node": pubNode(o); break;
      case "sub-node": subNode(o); break;
      case "pub-rpc": pubRpc(o); break;
      case "sub-rpc": subRpc(o); break;
      case "pub-nats": pubNats(o); break;
      case "sub-nats": subNats(o); break;
      case "stream-recv": streamRecv(o); break;
      case "stream-send": streamSend(o); break;
      default: throw new IllegalArgumentException("unknown role " + args[0]);
    }
    System.exit(0);
  }

  static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
  }

  static PeerNode node(Map<String, String> o) {
    StringBuilder c = new StringBuilder("peer { data-dir = \"" + o.get("data") + "\", http-port = 0, cluster-port = 0, sync-port = 0");
    if (o.containsKey("seed")) {
      c.append(", seeds = [\"").append(o.get("seed")).append("\"]");
    }
    c.append(" }");
    Config config = ConfigFactory.parseString(c.toString()).withFallback(ConfigFactory.load());
    PeerNode node = PeerNode.start(config);
    System.out.println(node.readyLine());
    return node;
  }

  static void awaitFile(String path) throws InterruptedException {
    while (!Files.exists(Path.of(path))) {
      Thread.sleep(10);
    }
  }

  static String pad(int eventBytes) {
    // {"pad":"...","seq":123456,"t":1234567890123456} is ~45 bytes besides the pad.
    return "p".repeat(Math.max(1, eventBytes - 45));
  }

  // ---- pubsub through the Java API (embedded nodes)

  static void pubNode(Map<String, String> o) throws Exception {
    PeerNode node = node(o);
    UserApi api = node.userApi();
    awaitFile(o.get("go"));
    int n = Integer.parseInt(o.get("events"));
    String pad = pad(Integer.parseInt(o.getOrDefault("size", "256")));
    long t0 = System.nanoTime();
    List<CompletableFuture<Void>> window = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ObjectNode e = JSON.createObjectNode().put("t", nowMicros()).put("seq", i).put("pad", pad);
      window.add(api.publish(e).toCompletableFuture());
      if (window.size() >= 512) {
        window.remove(0).join();
      }
    }
    window.forEach(CompletableFuture::join);
    System.out.printf("RESULT published=%d seconds=%.3f%n", n, (System.nanoTime() - t0) / 1e9);
    Thread.sleep(Long.parseLong(o.getOrDefault("linger", "30")) * 1000);
    node.stop();
  }

  static void subNode(Map<String, String> o) throws Exception {
    PeerNode node = node(o);
    UserApi api = node.userApi();
    JsonNode schema = JSON.readTree(SCHEMA);
    api.subscribe(schema).toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println("SUBSCRIBED");
    drain(o, () -> api.events(schema).toCompletableFuture().get(30, TimeUnit.SECONDS));
    node.stop();
  }

  interface Poll {
    Iterable<JsonNode> poll() throws Exception;
  }

  /** Drains until N events or the timeout; prints count, rate and latency percentiles. */
  static void drain(Map<String, String> o, Poll poll) throws Exception {
    int n = Integer.parseInt(o.get("events"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("timeout", "120")));
    Histogram latency = new Histogram(3_600_000_000L, 3);
    long count = 0;
    long first = 0;
    long last = 0;
    while (count < n && System.nanoTime() < deadline) {
      boolean any = false;
      for (JsonNode e : poll.poll()) {
        long now = nowMicros();
        long t = e.get("t").longValue();
        if (first == 0) {
          first = t;
        }
        last = now;
        latency.recordValue(Math.max(0, now - t));
        count++;
        any = true;
      }
      if (!any) {
        Thread.sleep(1); // a user polling; events that arrive meanwhile wait in the queue
      }
    }
    result(count, first, last, latency);
  }

  static void result(long count, long firstPublishMicros, long lastDeliverMicros, Histogram latency) {
    double seconds = Math.max(1e-6, (lastDeliverMicros - firstPublishMicros) / 1e6);
    System.out.printf("RESULT delivered=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f%n", count, count / seconds,
        latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0);
  }

  // ---- pubsub over JSON-RPC

  static final HttpClient HTTP = HttpClient.newHttpClient();

  static JsonNode rpc(String url, String body) throws Exception {
    HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/rpc"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    return JSON.readTree(r.body());
  }

  static void pubRpc(Map<String, String> o) throws Exception {
    String url = o.get("url");
    awaitFile(o.get("go"));
    int n = Integer.parseInt(o.get("events"));
    String pad = pad(Integer.parseInt(o.getOrDefault("size", "256")));
    int batch = Integer.parseInt(o.getOrDefault("batch", "64"));
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i += batch) {
      ArrayNode body = JSON.createArrayNode();
      for (int j = i; j < Math.min(n, i + batch); j++) {
        ObjectNode call = body.addObject().put("jsonrpc", "2.0").put("id", j).put("method", "pubsub_publish");
        call.putArray("params").addObject().put("t", nowMicros()).put("seq", j).put("pad", pad);
      }
      rpc(url, JSON.writeValueAsString(body));
    }
    System.out.printf("RESULT published=%d seconds=%.3f%n", n, (System.nanoTime() - t0) / 1e9);
  }

  static void subRpc(Map<String, String> o) throws Exception {
    String url = o.get("url");
    String params = "[" + SCHEMA + "]";
    rpc(url, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pubsub_subscribe\",\"params\":" + params + "}");
    System.out.println("SUBSCRIBED");
    String drain = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"pubsub_events\",\"params\":" + params + "}";
    drain(o, () -> rpc(url, drain).get("result"));
  }

  // ---- the same fan-out on NATS

  static void pubNats(Map<String, String> o) throws Exception {
    try (Connection nc = Nats.connect(o.get("url"))) {
      awaitFile(o.get("go"));
      int n = Integer.parseInt(o.get("events"));
      int size = Integer.parseInt(o.getOrDefault("size", "256"));
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        byte[] msg = new byte[size];
        ByteBuffer.wrap(msg).putLong(nowMicros());
        nc.publish("bench", msg);
      }
      nc.flush(Duration.ofSeconds(30));
      System.out.printf("RESULT published=%d seconds=%.3f%n", n, (System.nanoTime() - t0) / 1e9);
    }
  }

  static void subNats(Map<String, String> o) throws Exception {
    int n = Integer.parseInt(o.get("events"));
    Histogram latency = new Histogram(3_600_000_000L, 3);
    AtomicLong count = new AtomicLong();
    long[] firstLast = new long[2];
    CountDownLatch done = new CountDownLatch(1);
    try (Connection nc = Nats.connect(o.get("url"))) {
      Dispatcher d = nc.createDispatcher(m -> {
        long now = nowMicros();
        long t = ByteBuffer.wrap(m.getData()).getLong();
        synchronized (latency) {
          if (firstLast[0] == 0) {
            firstLast[0] = t;
          }
          firstLast[1] = now;
          latency.recordValue(Math.max(0, now - t));
        }
        if (count.incrementAndGet() >= n) {
          done.countDown();
        }
      });
      d.setPendingLimits(-1, -1);
      d.subscribe("bench");
      nc.flush(Duration.ofSeconds(10));
      System.out.println("SUBSCRIBED");
      done.await(Long.parseLong(o.getOrDefault("timeout", "120")), TimeUnit.SECONDS);
      synchronized (latency) {
        result(count.get(), firstLast[0], firstLast[1], latency);
      }
    }
  }

  // ---- one stream, Java API

  static void streamRecv(Map<String, String> o) throws Exception {
    PeerNode node = node(o);
    UserApi api = node.userApi();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("timeout", "600")));
    String id = null;
    while (id == null && System.nanoTime() < deadline) {
      Map<String, Integer> streams = api.streamList().toCompletableFuture().get(10, TimeUnit.SECONDS);
      id = streams.isEmpty() ? null : streams.keySet().iterator().next();
      if (id == null) {
        Thread.sleep(5);
      }
    }
    long[] first = {0};
    long total = api.streamSource(id)
        .map(b -> {
          if (first[0] == 0) {
            first[0] = System.nanoTime();
          }
          return (long) b.size();
        })
        .runWith(Sink.fold(0L, Long::sum), node.system())
        .toCompletableFuture().get(600, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - first[0]) / 1e9;
    Runtime rt = Runtime.getRuntime();
    System.out.printf("RESULT bytes=%d seconds=%.3f mb_per_s=%.1f heap_used_mib=%d heap_max_mib=%d%n",
        total, seconds, total / 1e6 / seconds, (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20);
    node.stop();
  }

  static void streamSend(Map<String, String> o) throws Exception {
    PeerNode node = node(o);
    UserApi api = node.userApi();
    String id = api.streamOpen(o.get("to"), "127.0.0.1", Integer.parseInt(o.get("port")))
        .toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
    long mib = Long.parseLong(o.getOrDefault("mib", "1024"));
    ByteString chunk = ByteString.fromArray(new byte[64 * 1024]);
    long t0 = System.nanoTime();
    CompletableFuture<akka.Done> sent = Source.repeat(chunk).take(mib * 16)
        .watchTermination((m, done) -> done)
        .to(api.streamSink(id)).run(node.system()).toCompletableFuture();
    sent.get(600, TimeUnit.SECONDS);
    Runtime rt = Runtime.getRuntime();
    System.out.printf("RESULT sent_mib=%d seconds=%.3f heap_used_mib=%d heap_max_mib=%d%n",
        mib, (System.nanoTime() - t0) / 1e9, (rt.totalMemory() - rt.freeMemory()) >> 20, rt.maxMemory() >> 20);
    Thread.sleep(Long.parseLong(o.getOrDefault("linger", "5")) * 1000);
    node.stop();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
