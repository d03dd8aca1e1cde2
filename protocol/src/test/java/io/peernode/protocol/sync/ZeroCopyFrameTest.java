package io.peernode.protocol.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The zero-copy decoder (frame bodies as slices of the fed buffers) decodes exactly what the
 * copying one does, whatever the split; {@link Binary} ranges and hashes read the same bytes as a
 * flat array.
 */
class ZeroCopyFrameTest {

  static final int MAX_JSON = 65536;
  static final int MAX_BIN = 64 * 1024 * 1024;

  static List<Frame> decode(FrameDecoder d, byte[] bytes, int... cuts) throws FrameException {
    List<Frame> out = new ArrayList<>();
    int prev = 0;
    for (int c : cuts) {
      // A fresh array per piece, as the socket gives: the decoder may keep slices of it.
      d.feed(ByteBuffer.wrap(Arrays.copyOfRange(bytes, prev, c)), out::add);
      prev = c;
    }
    d.feed(ByteBuffer.wrap(Arrays.copyOfRange(bytes, prev, bytes.length)), out::add);
    return out;
  }

  static byte[] vectorFramesAndADataFrame() throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (JsonNode f : HashTreeVectorsTest.vectors().get("frames")) {
      all.write(FrameCodecTest.frameFile(f.get("frame").asText()));
    }
    byte[] data = new byte[3000];
    new Random(5).nextBytes(data);
    all.write(FrameEncoder.encode(new SyncMessage.Send(SyncMessage.DataType.DATA, new int[] {0, 1, 2}, data)));
    return all.toByteArray();
  }

  @Test
  void everySplitPositionDecodesToTheSameFramesAsTheCopyingDecoder() throws Exception {
    byte[] bytes = vectorFramesAndADataFrame();
    List<Frame> expected = decode(new FrameDecoder(MAX_JSON, MAX_BIN), bytes);
    for (int i = 0; i <= bytes.length; i++) {
      List<Frame> got = decode(FrameDecoder.zeroCopy(MAX_JSON, MAX_BIN), bytes, i);
      assertEquals(expected.size(), got.size(), "split at " + i);
      for (int k = 0; k < expected.size(); k++) {
        assertEquals(expected.get(k).json(), got.get(k).json(), "split at " + i);
        assertArrayEquals(expected.get(k).binary(), got.get(k).binary(), "split at " + i + ", frame " + k);
      }
    }
  }

  @Test
  void aDataFrameFedInRandomPiecesKeepsItsBytesAndReEncodesByteExact() throws Exception {
    Random rnd = new Random(17);
    byte[] data = new byte[4 << 20];
    rnd.nextBytes(data);
    byte[] frame = FrameEncoder.encode(new SyncMessage.Send(SyncMessage.DataType.DATA, new int[] {7}, data));
    for (int round = 0; round < 20; round++) {
      int pieces = 1 + rnd.nextInt(200);
      int[] cuts = rnd.ints(pieces, 0, frame.length).sorted().distinct().toArray();
      FrameDecoder d = FrameDecoder.zeroCopy(MAX_JSON, MAX_BIN);
      List<Frame> got = decode(d, frame, cuts);
      assertEquals(1, got.size());
      Binary body = got.get(0).body();
      assertEquals(data.length, body.length());
      assertArrayEquals(data, body.toArray());
      assertArrayEquals(frame, FrameEncoder.encode(got.get(0).json(), body.toArray()));
      assertTrue(d.atFrameBoundary());
      assertEquals(0, d.heldBytes(), "nothing held once the frame is out");
    }
  }

  @Test
  void heldBytesGrowOnlyWithWhatArrived() throws Exception {
    FrameDecoder d = FrameDecoder.zeroCopy(MAX_JSON, MAX_BIN);
    List<Frame> out = new ArrayList<>();
    d.feed(("json-length: 17\nbin-length: " + MAX_BIN + "\n{\"command\":\"end\"}abc").getBytes(
        java.nio.charset.StandardCharsets.US_ASCII), out::add);
    assertEquals(0, out.size());
    assertEquals(17 + 3, d.heldBytes()); // the JSON (its exact size) and the 3 bytes of binary
    d.feed(new byte[1000], out::add);
    assertEquals(17 + 1003, d.heldBytes());
  }

  @Test
  void aFailedZeroCopyDecoderDropsWhatItHeld() {
    FrameDecoder d = FrameDecoder.zeroCopy(MAX_JSON, 10);
    assertThrows(FrameException.class, () -> d.feed(
        "json-length: 17\nbin-length: 11\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), f -> { }));
    assertEquals(0, d.heldBytes());
    assertThrows(FrameException.class, () -> d.feed(new byte[1], f -> { }));
  }

  @Test
  void rangesAndHashesAcrossPiecesEqualThoseOfTheFlatArray() throws Exception {
    Random rnd = new Random(3);
    byte[] flat = new byte[10_000];
    rnd.nextBytes(flat);
    MessageDigest md = HashTree.sha256();
    for (int round = 0; round < 200; round++) {
      List<ByteBuffer> pieces = new ArrayList<>();
      int pos = 0;
      while (pos < flat.length) {
        int n = Math.min(flat.length - pos, rnd.nextInt(700));
        // Each piece a view into a larger array, as the decoder slices what it is fed.
        byte[] backing = new byte[n + 20];
        System.arraycopy(flat, pos, backing, 10, n);
        pieces.add(ByteBuffer.wrap(backing, 10, n));
        pos += n;
      }
      Binary b = Binary.of(pieces);
      assertEquals(flat.length, b.length());
      assertArrayEquals(flat, b.toArray());
      int off = rnd.nextInt(flat.length);
      int len = rnd.nextInt(flat.length - off + 1);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      for (ByteBuffer r : b.range(off, len)) {
        byte[] chunk = new byte[r.remaining()];
        r.get(chunk);
        got.write(chunk);
      }
      assertArrayEquals(Arrays.copyOfRange(flat, off, off + len), got.toByteArray());
      assertArrayEquals(HashTree.sha256(flat, off, len), b.sha256(md, off, len));
      assertArrayEquals(got.toByteArray(), Arrays.copyOfRange(b.toArray(), off, off + len),
          "a range does not consume the binary");
    }
    assertThrows(IndexOutOfBoundsException.class, () -> Binary.of(flat).range(9_999, 2));
  }
}
