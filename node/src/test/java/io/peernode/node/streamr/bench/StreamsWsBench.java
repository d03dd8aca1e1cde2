package io.peernode.node.streamr.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.http.HttpServer;
import io.peernode.node.streamr.StreamrApi;
import io.prometheus.client.CollectorRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not a test: one node in this JVM (embedded SQLite store, durability as configured, default
 * fsync), 1 publishing and 10 subscribing WebSocket connections, 200-byte events. Prints
 * events/s stored and delivered to every subscriber, and publish-to-deliver latency p50/p99.
 * Clients run in the same JVM (they share the CPU with the node), so figures are conservative.
 * Args: [seconds] [window] [durability fsync|os].
 */
public final class StreamsWsBench {

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int window = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    String durability = args.length > 2 ? args[2] : "fsync";
    int subscribers = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench", ConfigFactory
        .parseString("akka.actor.provider = cluster\n"
            + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
            + "akka.remote.artery.canonical.port = 0\n"
            + "akka.loglevel = WARNING\n"
            + "peer.streams.durability = " + durability + "\n")
        .withFallback(ConfigFactory.load()));
    Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
    long upBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (Cluster.get(system).selfMember().status() != akka.cluster.MemberStatus.up()
        && System.nanoTime() < upBy) {
      Thread.onSpinWait(); // start-up only: the node must be Up before sharding serves
    }
    Path dir = Files.createTempDirectory("streams-ws-bench");
    StreamrApi api = StreamrApi.start(system, system.settings().config(), dir, Optional.empty(),
        "admin", new CollectorRegistry());
    HttpServer binding = HttpServer.bind(system, "127.0.0.1", 0, api.routes(), api.webSockets())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    String base = "http://127.0.0.1:" + binding.localAddress().getPort() + "/api/v1";
    HttpClient http = HttpClient.newHttpClient();
    String stream = new com.fasterxml.jackson.databind.ObjectMapper().readTree(http.send(
        HttpRequest.newBuilder(URI.create(base + "/streams"))
            .header("Authorization", "token admin")
            .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bench\"}")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("id").asText();
    URI ws = URI.create(base.replace("http:", "ws:") + "/ws");

    long totalTarget = Long.MAX_VALUE;
    long[][] latencies = new long[subscribers][];
    AtomicLong[] counts = new AtomicLong[subscribers];
    Semaphore inFlight = new Semaphore(window);
    CountDownLatch subscribed = new CountDownLatch(subscribers);
    List<WebSocket> sockets = new ArrayList<>();
    for (int i = 0; i < subscribers; i++) {
      final int me = i;
      latencies[i] = new long[20_000_000 / subscribers];
      counts[i] = new AtomicLong();
      WebSocket s = http.newWebSocketBuilder().buildAsync(ws, new WebSocket.Listener() {
        final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          partial.append(data);
          if (last) {
            String m = partial.toString();
            partial.setLength(0);
            if (m.startsWith("[0,2,")) {
              subscribed.countDown();
            } else if (m.startsWith("[0,0,")) {
              int t = m.indexOf("\\\"t\\\":");
              long sent = Long.parseLong(m.substring(t + 6, m.indexOf(',', t)));
              long n = counts[me].getAndIncrement();
              if (n < latencies[me].length) latencies[me][(int) n] = System.nanoTime() - sent;
              if (me == 0) inFlight.release();
            }
          }
          w.request(1);
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
      s.sendText("{\"type\":\"subscribe\",\"stream\":\"" + stream + "\",\"authKey\":\"admin\"}",
          true).get();
      sockets.add(s);
    }
    subscribed.await(20, TimeUnit.SECONDS);
    WebSocket pub = http.newWebSocketBuilder().buildAsync(ws, new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        System.err.println("publisher got: " + data);
        w.request(1);
        return null;
      }
    }).get(10, TimeUnit.SECONDS);
    String padding = "x".repeat(160);
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    long published = 0;
    while (System.nanoTime() < end && published < totalTarget) {
      if (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) continue;
      // msg is ~200 bytes of JSON: {"t":<nanos>,"p":"xxx..."}
      String msg = "{\\\"t\\\":" + System.nanoTime() + ",\\\"p\\\":\\\"" + padding + "\\\"}";
      pub.sendText("{\"type\":\"publish\",\"stream\":\"" + stream
          + "\",\"authKey\":\"admin\",\"msg\":\"" + msg + "\"}", true).get();
      published++;
    }
    // let the last ones arrive
    long drainEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Arrays.stream(counts).anyMatch(c -> c.get() < published2(counts, 0))
        && System.nanoTime() < drainEnd) {
      Thread.onSpinWait();
    }
    double secs = (System.nanoTime() - start) / 1e9;
    long delivered = Arrays.stream(counts).mapToLong(AtomicLong::get).sum();
    long[] all = new long[(int) Math.min(delivered, Integer.MAX_VALUE - 8)];
    int k = 0;
    for (int i = 0; i < subscribers; i++) {
      int n = (int) Math.min(counts[i].get(), latencies[i].length);
      System.arraycopy(latencies[i], 0, all, k, n);
      k += n;
    }
    all = Arrays.copyOf(all, k);
    Arrays.sort(all);
    System.out.printf("durability=%s window=%d: published %d in %.1f s = %,.0f events/s stored;"
            + " delivered %d (%.0f%% of %d x %d) = %,.0f deliveries/s;"
            + " publish->deliver p50 %.1f ms p99 %.1f ms%n",
        durability, window, published, secs, published / secs, delivered,
        100.0 * delivered / (published * (double) subscribers), published, subscribers,
        delivered / secs, all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6);
    System.exit(0);
  }

  private static long published2(AtomicLong[] counts, int i) {
    return counts[i].get();
  }
}
