package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.json;

import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peernode.actors.cluster.TestCluster;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Rough in-JVM figures for the Java API path (three ActorSystems in one JVM, so loopback
 * Artery TCP but shared CPU). Not part of the suite: run with
 * {@code mvn -pl protocol,actors test -Dtest=UserApiBench -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class UserApiBench {

  @Test
  void pubsubFanOutToTwoNodes() throws Exception {
    TestCluster cluster = TestCluster.start(3, com.typesafe.config.ConfigFactory.parseString(System.getProperty("bench.config", "")));
    try {
      UserApi a = Nodes.userApi(cluster.node(0));
      UserApi b = Nodes.userApi(cluster.node(1));
      UserApi c = Nodes.userApi(cluster.node(2));
      JsonNode schema = json("{\"type\":\"object\",\"required\":[\"t\",\"pad\"]}");
      await(b.subscribe(schema));
      await(c.subscribe(schema));
      int events = Integer.getInteger("bench.events", 50_000);
      String pad = "p".repeat(200); // ~256 bytes of JSON per event
      List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
      long[] received = new long[1];
      Thread[] drainers = new Thread[2];
      UserApi[] subs = {b, c};
      for (int i = 0; i < 2; i++) {
        UserApi s = subs[i];
        drainers[i] = new Thread(() -> {
          int got = 0;
          while (got < events) {
            List<JsonNode> batch = await(s.events(schema));
            for (JsonNode e : batch) {
              latencies.add(System.nanoTime() - e.get("t").longValue());
              got++;
            }
            if (batch.isEmpty()) {
              try {
                Thread.sleep(1); // a user polling pubsub_events; not a test wait
              } catch (InterruptedException ie) {
                return;
              }
            }
          }
          synchronized (received) {
            received[0] += got;
          }
        });
        drainers[i].start();
      }
      long t0 = System.nanoTime();
      long[] publishedAt = new long[1];
      List<CompletableFuture<Void>> window = new ArrayList<>();
      for (int i = 0; i < events; i++) {
        ObjectNode e = JsonNodeFactory.instance.objectNode().put("t", System.nanoTime()).put("seq", i).put("pad", pad);
        window.add(a.publish(e).toCompletableFuture());
        if (window.size() == 256) {
          window.forEach(CompletableFuture::join);
          window.clear();
        }
      }
      window.forEach(CompletableFuture::join);
      publishedAt[0] = System.nanoTime();
      System.out.printf("BENCH publish side: %.2f s for %d events%n", (publishedAt[0] - t0) / 1e9, events);
      for (Thread d : drainers) {
        d.join(TimeUnit.SECONDS.toMillis(120));
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      List<Long> sorted = new ArrayList<>(latencies);
      Collections.sort(sorted);
      System.out.printf("BENCH pubsub java-api: %d events x 2 subscribers in %.2f s = %.0f delivered/s, p50 %.2f ms, p99 %.2f ms%n",
          events, seconds, received[0] / seconds,
          sorted.get(sorted.size() / 2) / 1e6, sorted.get((int) (sorted.size() * 0.99)) / 1e6);
    } finally {
      cluster.shutdown();
    }
  }

  @Test
  void oneStreamBulkTransfer() throws Exception {
    TestCluster cluster = TestCluster.start(2);
    try {
      UserApi a = Nodes.userApi(cluster.node(0));
      UserApi b = Nodes.userApi(cluster.node(1));
      TestCluster.Node nb = cluster.node(1);
      String id = await(a.streamOpen(nb.id.hex(), nb.host(), nb.port())).orElseThrow();
      long mib = Long.getLong("bench.mib", 256);
      int chunk = 64 * 1024;
      ByteString block = ByteString.fromArray(new byte[chunk]);
      long t0 = System.nanoTime();
      Source.repeat(block).take(mib * 16).runWith(a.streamSink(id), cluster.node(0).system());
      long total = b.streamSource(id).runWith(Sink.fold(0L, (acc, bs) -> acc + bs.size()), cluster.node(1).system())
          .toCompletableFuture().get(600, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Runtime rt = Runtime.getRuntime();
      System.out.printf("BENCH stream java-api: %d MiB in %.2f s = %.1f MB/s (heap used after: %d MiB for both nodes)%n",
          total >> 20, seconds, total / 1e6 / seconds, (rt.totalMemory() - rt.freeMemory()) >> 20);
    } finally {
      cluster.shutdown();
    }
  }
}
