package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.Hex;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamDataFramesTest {

  /** What a decoder reported: the data bytes joined, and the credits in order. */
  static final class Seen implements StreamDataFrames.Frames {
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    final List<Integer> credits = new ArrayList<>();
    /** Data and credit in arrival order, "d:<hex>" per data report and "c:<n>" per credit. */
    final List<String> order = new ArrayList<>();
    private ByteBuffer piece;

    void feed(StreamDataFrames.Decoder d, byte[] bytes, int from, int to) {
      piece = ByteBuffer.wrap(bytes, from, to - from).slice();
      d.feed(piece, this);
    }

    @Override
    public void data(int from, int to) {
      byte[] b = new byte[to - from];
      piece.duplicate().position(from).get(b);
      data.writeBytes(b);
      order.add("d");
    }

    @Override
    public void credit(int bytes) {
      credits.add(bytes);
      order.add("c");
    }
  }

  @Test
  void encodesToTheKnownBytes() {
    assertArrayEquals(Hex.decode("0000000003"), StreamDataFrames.dataHeader(3));
    assertArrayEquals(Hex.decode("0100040000"), StreamDataFrames.credit(256 * 1024));
    assertArrayEquals(Hex.decode("017fffffff"), StreamDataFrames.credit(Integer.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> StreamDataFrames.dataHeader(0));
    assertThrows(IllegalArgumentException.class, () -> StreamDataFrames.credit(0));
  }

  @Test
  void decodesTheSameFramesWhereverTheBytesAreSplit() {
    // data "abc", credit 7, data "defgh", credit 65536
    byte[] wire = Hex.decode("0000000003" + "616263" + "0100000007" + "0000000005" + "6465666768" + "0100010000");
    for (int cut1 = 0; cut1 <= wire.length; cut1++) {
      for (int cut2 = cut1; cut2 <= wire.length; cut2++) {
        StreamDataFrames.Decoder d = new StreamDataFrames.Decoder(5);
        Seen seen = new Seen();
        seen.feed(d, wire, 0, cut1);
        seen.feed(d, wire, cut1, cut2);
        seen.feed(d, wire, cut2, wire.length);
        assertEquals("abcdefgh", seen.data.toString(), "cuts at " + cut1 + ", " + cut2);
        assertEquals(List.of(7, 65536), seen.credits, "cuts at " + cut1 + ", " + cut2);
        assertTrue(d.atFrameBoundary());
        // The credit between the frames comes after "abc" and before "defgh".
        String order = String.join("", seen.order).replaceAll("d+", "d");
        assertEquals("dcdc", order, "cuts at " + cut1 + ", " + cut2);
      }
    }
  }

  @Test
  void aDataFrameIsReportedAsItArrivesWithPositionsInThePiece() {
    StreamDataFrames.Decoder d = new StreamDataFrames.Decoder(1000);
    List<int[]> ranges = new ArrayList<>();
    StreamDataFrames.Frames frames = new StreamDataFrames.Frames() {
      @Override
      public void data(int from, int to) {
        ranges.add(new int[] {from, to});
      }

      @Override
      public void credit(int bytes) {}
    };
    byte[] first = new byte[2 + 5 + 10];
    System.arraycopy(StreamDataFrames.dataHeader(20), 0, first, 2, 5);
    d.feed(ByteBuffer.wrap(first).position(2), frames); // the position counts as 0
    d.feed(ByteBuffer.wrap(new byte[10]), frames);
    assertArrayEquals(new int[] {5, 15}, ranges.get(0));
    assertArrayEquals(new int[] {0, 10}, ranges.get(1));
    assertTrue(d.atFrameBoundary());
  }

  @Test
  void badFramesAreAClearError() {
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> new StreamDataFrames.Decoder(10).feed(ByteBuffer.wrap(Hex.decode("0700000001")), new Seen()));
    assertTrue(type.getMessage().contains("unknown stream data frame type 0x07"), type.getMessage());
    IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
        () -> new StreamDataFrames.Decoder(10).feed(ByteBuffer.wrap(Hex.decode("000000000b")), new Seen()));
    assertTrue(big.getMessage().contains("a data frame of 11 bytes (1 to 10 allowed)"), big.getMessage());
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> new StreamDataFrames.Decoder(10).feed(ByteBuffer.wrap(Hex.decode("0000000000")), new Seen()));
    assertTrue(empty.getMessage().contains("a data frame of 0 bytes"), empty.getMessage());
    IllegalArgumentException credit = assertThrows(IllegalArgumentException.class,
        () -> new StreamDataFrames.Decoder(10).feed(ByteBuffer.wrap(Hex.decode("0180000000")), new Seen()));
    assertTrue(credit.getMessage().contains("a credit frame of 2147483648 bytes"), credit.getMessage());
  }
}
