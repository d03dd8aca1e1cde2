package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.peernode.actors.cluster.TestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The open-streams limit, and back-pressure through the Java API's Source and Sink. */
class ByteStreamLimitsClusterTest {

  static TestCluster cluster;
  static TestCluster.Node nodeA;
  static TestCluster.Node nodeB;
  static UserApi a;
  static UserApi b;

  @BeforeAll
  static void start() {
    // The limit test opens 512 streams; on a loaded machine some opens take longer than the
    // default 5 s, which is not what this class tests.
    cluster = TestCluster.start(2, Nodes.config("peer.userapi.open-timeout = 60s"));
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    a = Nodes.userApi(nodeA);
    b = Nodes.userApi(nodeB);
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  @Test
  void the513thOpenGetsNullAndClosingOneMakesRoom() {
    int max = a.settings().maxOpenStreams;
    assertEquals(512, max, "the default limit");
    List<String> ids = new ArrayList<>();
    for (int wave = 0; wave < max; wave += 64) {
      List<CompletableFuture<Optional<String>>> opens = new ArrayList<>();
      for (int i = wave; i < Math.min(max, wave + 64); i++) {
        opens.add(a.streamOpen(nodeB.id.hex(), nodeB.host(), nodeB.port()).toCompletableFuture());
      }
      for (CompletableFuture<Optional<String>> f : opens) {
        ids.add(Nodes.await(f, Duration.ofSeconds(90)).orElseThrow());
      }
    }
    assertEquals(max, await(a.streamList()).size());
    // The 513th: refused by A (and B would refuse too: it holds 512 as well).
    assertTrue(await(a.streamOpen(nodeB.id.hex(), nodeB.host(), nodeB.port())).isEmpty());
    assertTrue(await(b.streamOpen(nodeA.id.hex(), nodeA.host(), nodeA.port())).isEmpty());

    // A closed stream with nothing unread no longer counts.
    assertTrue(await(a.streamClose(ids.get(0))));
    TestCluster.awaitCondition(Duration.ofSeconds(10), () -> {
      Optional<String> id = await(a.streamOpen(nodeB.id.hex(), nodeB.host(), nodeB.port()));
      id.ifPresent(ids::add);
      return id.isPresent();
    }, "room for one more");

    List<CompletableFuture<Boolean>> closes = new ArrayList<>();
    for (String id : ids.subList(1, ids.size())) {
      closes.add(a.streamClose(id).toCompletableFuture());
    }
    closes.forEach(f -> assertTrue(await(f)));
  }

  @Test
  void aSlowReaderSlowsTheWriterWithBoundedMemory() {
    String id = await(a.streamOpen(nodeB.id.hex(), nodeB.host(), nodeB.port())).orElseThrow();
    int chunk = 64 * 1024;
    int chunks = 256; // 16 MiB
    AtomicLong produced = new AtomicLong();
    AtomicLong consumed = new AtomicLong();
    AtomicLong maxInFlight = new AtomicLong();
    ActorSystem<Void> systemA = nodeA.system();
    ActorSystem<Void> systemB = nodeB.system();

    long t0 = System.nanoTime();
    Source.range(1, chunks)
        .map(i -> {
          produced.addAndGet(chunk);
          maxInFlight.accumulateAndGet(produced.get() - consumed.get(), Math::max);
          return ByteString.fromArray(new byte[chunk]);
        })
        .runWith(a.streamSink(id), systemA);

    // The reader takes 256 KiB every 20 ms: ~12.5 MiB/s, far below what the writer could do.
    CompletionStage<Long> total = b.streamSource(id)
        .throttle(4, Duration.ofMillis(20))
        .map(bytes -> {
          consumed.addAndGet(bytes.size());
          return (long) bytes.size();
        })
        .runWith(Sink.fold(0L, Long::sum), systemB);

    TestCluster.awaitCondition(Duration.ofSeconds(30), () -> consumed.get() == (long) chunk * chunks, "all bytes read");
    double seconds = (System.nanoTime() - t0) / 1e9;
    long buffer = b.settings().streamBuffer;
    // Written-but-unread never exceeds the reader's buffer plus a few chunks held by the stages.
    assertTrue(maxInFlight.get() <= buffer + 24L * chunk,
        "in flight at most " + (buffer + 24L * chunk) + " bytes, was " + maxInFlight.get());
    // The writer could not run ahead: 16 MiB at the reader's pace takes over a second.
    assertTrue(seconds > 1.0, "the writer was held to the reader's pace (" + seconds + " s)");
    // The sink completing closes the stream, which completes the reader's source.
    assertEquals((long) chunk * chunks, await(total));
  }

  @Test
  void aSinkWhoseUpstreamEndsWhileItWaitsForCreditDeliversTheRestThenCloses() {
    String id = await(a.streamOpen(nodeB.id.hex(), nodeB.host(), nodeB.port())).orElseThrow();
    // One element larger than the reader's buffer: the sink takes what the credit allows, and
    // its upstream has completed while the rest waits for the reader.
    byte[] data = new byte[b.settings().streamBuffer + 100_000];
    new java.util.Random(5).nextBytes(data);
    CompletionStage<akka.Done> upstreamDone = Source.single(ByteString.fromArray(data))
        .watchTermination((m, done) -> done)
        .toMat(a.streamSink(id), akka.stream.javadsl.Keep.left())
        .run(nodeA.system());
    await(upstreamDone);
    TestCluster.awaitCondition(Duration.ofSeconds(10),
        () -> await(b.streamList()).getOrDefault(id, 0) == b.settings().streamBuffer, "the reader's buffer is full");

    // Only now does B read: the rest arrives, then the sink's completion closes the stream.
    ByteString got = await(b.streamSource(id).runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), nodeB.system()));
    assertEquals(ByteString.fromArray(data), got);
  }
}
