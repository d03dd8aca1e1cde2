package io.peernode.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.javadsl.Flow;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WriteBatcherTest {

  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("WriteBatcherTest");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<ByteString>> run(int max) {
    return TestSource.<ByteString>probe(testKit.system().classicSystem())
        .via(Flow.fromGraph(new WriteBatcher(max)))
        .toMat(TestSink.probe(testKit.system().classicSystem()), akka.stream.javadsl.Keep.both())
        // the probes' boundary buffers one element at most, so demand shows the stage's
        .addAttributes(Attributes.inputBuffer(1, 1))
        .run(testKit.system());
  }

  static ByteString bytes(String s) {
    return ByteString.fromString(s);
  }

  @Test
  void passesChunksOnAsTheyComeWhileTheSocketKeepsUp() {
    var probes = run(16);
    TestPublisher.Probe<ByteString> up = probes.first();
    TestSubscriber.Probe<ByteString> down = probes.second();
    down.request(2);
    up.sendNext(bytes("one"));
    down.expectNext(bytes("one"));
    up.sendNext(bytes("two"));
    down.expectNext(bytes("two"));
  }

  @Test
  void gathersWhatComesWhileTheSocketIsBusyUpToItsLimit() {
    var probes = run(8);
    TestPublisher.Probe<ByteString> up = probes.first();
    TestSubscriber.Probe<ByteString> down = probes.second();
    down.ensureSubscription();
    up.sendNext(bytes("abc")).sendNext(bytes("def")).sendNext(bytes("gh"));
    // 8 bytes held: the stage asks for no more; the boundary in front takes one element
    up.sendNext(bytes("i"));
    assertEquals(0, up.pending(), "back-pressured at the limit");
    down.request(1);
    down.expectNext(bytes("abcdefgh"));
    down.request(1);
    down.expectNext(bytes("i"));
  }

  @Test
  void sendsWhatItHoldsBeforeItCompletes() {
    var probes = run(64);
    TestPublisher.Probe<ByteString> up = probes.first();
    TestSubscriber.Probe<ByteString> down = probes.second();
    down.ensureSubscription();
    up.sendNext(bytes("last ")).sendNext(bytes("words"));
    up.sendComplete();
    down.request(1);
    down.expectNext(bytes("last words"));
    down.expectComplete();
  }
}
