package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameError;
import akka.http.impl.engine.ws.FrameEvent;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameEventParser$;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.Option;
import scala.Tuple2;

/** Unmasking gives what Akka HTTP's byte-at-a-time masking gives, for frames in any parts. */
class UnmaskingTest {

  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("UnmaskingTest");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void unmaskIsAkkasMaskForEveryLengthAndMask() {
    Random random = new Random(7);
    for (int n = 0; n <= 40; n++) {
      for (int k = 0; k < 20; k++) {
        byte[] data = new byte[n];
        random.nextBytes(data);
        int mask = k == 0 ? 0x01020304 : random.nextInt();
        @SuppressWarnings("unchecked")
        Tuple2<ByteString, Object> akka =
            FrameEventParser$.MODULE$.mask(ByteString.fromArray(data), mask);
        byte[] ours = data.clone();
        int next = Unmasking.unmask(ours, mask);
        assertArrayEquals(akka._1().toArray(), ours, "length " + n);
        assertEquals((int) (Integer) akka._2(), next, "the mask after length " + n);
      }
    }
  }

  private static List<FrameEventOrError> run(FrameEvent... events) throws Exception {
    return Source.from(List.of(events)).via(new Unmasking())
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aFrameInPartsSplitAtEveryPositionIsUnmaskedWhole() throws Exception {
    byte[] plain = new byte[37];
    new Random(3).nextBytes(plain);
    int mask = 0x9abcdef1;
    @SuppressWarnings("unchecked")
    byte[] masked = ((Tuple2<ByteString, Object>)
        FrameEventParser$.MODULE$.mask(ByteString.fromArray(plain), mask))._1().toArray();
    for (int a = 0; a < plain.length; a++) {
      for (int b = a + 1; b <= plain.length; b++) {
        FrameHeader h = new FrameHeader(TextFrameDecoderTest.op(1), Option.apply(mask),
            plain.length, true, false, false, false);
        List<FrameEvent> parts = new ArrayList<>();
        parts.add(new FrameStart(h, ByteString.fromArray(masked, 0, a)));
        parts.add(new FrameData(ByteString.fromArray(masked, a, b - a), b == plain.length));
        if (b < plain.length) {
          parts.add(new FrameData(ByteString.fromArray(masked, b, plain.length - b), true));
        }
        List<FrameEventOrError> out = run(parts.toArray(new FrameEvent[0]));
        assertEquals(parts.size(), out.size());
        FrameStart start = assertInstanceOf(FrameStart.class, out.get(0));
        assertTrue(start.header().mask().isEmpty(), "the mask is removed from the header");
        assertEquals(plain.length, start.header().length());
        ByteString all = ByteString.emptyByteString();
        for (FrameEventOrError e : out) all = all.concat(((FrameEvent) e).data());
        assertArrayEquals(plain, all.toArray(), "split at " + a + " and " + b);
      }
    }
  }

  @Test
  void anUnmaskedFrameIsAProtocolErrorAndWhatFollowsIsDropped() throws Exception {
    FrameHeader unmasked = new FrameHeader(TextFrameDecoderTest.op(1), Option.empty(), 2, true,
        false, false, false);
    FrameHeader masked = new FrameHeader(TextFrameDecoderTest.op(1), Option.apply(5), 2, true,
        false, false, false);
    List<FrameEventOrError> out = run(new FrameStart(unmasked, ByteString.fromString("hi")),
        new FrameStart(masked, ByteString.fromString("hi")));
    assertEquals(1, out.size(), out::toString);
    FrameError e = assertInstanceOf(FrameError.class, out.get(0));
    assertTrue(e.p().getMessage().contains("wasn't masked"), e.p().getMessage());
  }

  @Test
  void twoWholeFramesEachStartFromTheirOwnMask() throws Exception {
    List<FrameEvent> in = new ArrayList<>();
    List<byte[]> plains = new ArrayList<>();
    Random random = new Random(11);
    for (int i = 0; i < 2; i++) {
      byte[] plain = new byte[13 + i];
      random.nextBytes(plain);
      int mask = random.nextInt();
      @SuppressWarnings("unchecked")
      ByteString masked = ((Tuple2<ByteString, Object>)
          FrameEventParser$.MODULE$.mask(ByteString.fromArray(plain), mask))._1();
      in.add(new FrameStart(new FrameHeader(TextFrameDecoderTest.op(2), Option.apply(mask),
          plain.length, true, false, false, false), masked));
      plains.add(plain);
    }
    List<FrameEventOrError> out = run(in.toArray(new FrameEvent[0]));
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(plains.get(i), ((FrameEvent) out.get(i)).data().toArray());
    }
  }
}
