package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.stream.Materializer;
import akka.stream.SourceRef;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.StreamRefs;
import akka.util.ByteString;
import com.typesafe.config.ConfigFactory;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One node's ByteStreams answering open requests from a (probe) peer, within its limit. */
class ByteStreamsTest {

  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = Nodes.localTestKit();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void acceptsUpToTheLimitThenRefusesAndTheAcceptorSpeaksTheCreditProtocol() {
    UserApiSettings settings = UserApiSettings.from(
        ConfigFactory.parseString("max-open-streams = 1, stream-buffer = 1000")
            .withFallback(testKit.system().settings().config().getConfig("peer.userapi")));
    ActorRef<ByteStreams.Command> streams = testKit.spawn(
        ByteStreams.create("a".repeat(40), settings, UserApiMetrics.register(new CollectorRegistry())));
    Materializer mat = Materializer.matFromSystem(testKit.system());
    TestProbe<ByteStreamEndpoint.Command> peer = testKit.createTestProbe();
    // "hi", then the stream stays open (a completed stream would close the endpoint).
    SourceRef<ByteString> fromPeer = Source.single(ByteString.fromString("hi"))
        .concat(Source.<ByteString>maybe().mapMaterializedValue(m -> akka.NotUsed.notUsed()))
        .runWith(StreamRefs.sourceRef(), mat);

    streams.tell(new ByteStreams.OpenRequest("1".repeat(32), "b".repeat(40), peer.getRef(), fromPeer, 4));
    ByteStreamEndpoint.Opened opened = peer.expectMessageClass(ByteStreamEndpoint.Opened.class);
    assertEquals(1000, opened.peerBuffer);

    // The limit: a second stream is refused with the reason.
    streams.tell(new ByteStreams.OpenRequest("2".repeat(32), "b".repeat(40), peer.getRef(),
        Source.<ByteString>empty().runWith(StreamRefs.sourceRef(), mat), 4));
    assertTrue(peer.expectMessageClass(ByteStreamEndpoint.Refused.class).reason.contains("maximum of 1"));

    // The acceptor holds the peer's 2 bytes ("hi") and, once read, gives 2 bytes of credit back.
    TestProbe<Optional<ActorRef<ByteStreamEndpoint.Command>>> lookup = testKit.createTestProbe();
    streams.tell(new ByteStreams.Lookup("1".repeat(32), lookup.getRef()));
    ActorRef<ByteStreamEndpoint.Command> endpoint = lookup.receiveMessage().orElseThrow();
    TestProbe<Optional<ByteString>> reads = testKit.createTestProbe();
    ByteString[] got = {ByteString.emptyByteString()};
    io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
      endpoint.tell(new ByteStreamEndpoint.Read(10, reads.getRef()));
      got[0] = got[0].concat(reads.receiveMessage().orElse(ByteString.emptyByteString()));
      return got[0].size() >= 2;
    }, "the peer's bytes");
    assertEquals(ByteString.fromString("hi"), got[0]);
    assertEquals(2, peer.expectMessageClass(ByteStreamEndpoint.Credit.class).bytes);

    // Writes: the peer announced a 4-byte buffer, so 4 of 6 bytes are accepted, then 0.
    TestProbe<Optional<Integer>> writes = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("abcdef"), writes.getRef()));
    assertEquals(Optional.of(4), writes.receiveMessage());
    endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("g"), writes.getRef()));
    assertEquals(Optional.of(0), writes.receiveMessage());
    peer.expectNoMessage(Duration.ofMillis(100));
  }
}
