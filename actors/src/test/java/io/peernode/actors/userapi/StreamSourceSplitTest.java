package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import akka.util.ByteString;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** streamSource emits a chunk taken from the buffer in elements of at most stream-source-chunk. */
class StreamSourceSplitTest {

  static ByteString random(int n) {
    byte[] bytes = new byte[n];
    new Random(n).nextBytes(bytes);
    return ByteString.fromArrayUnsafe(bytes);
  }

  @Test
  void aChunkIsSplitInOrderIntoPiecesOfAtMostTheMax() {
    int max = 64 * 1024;
    for (int n : new int[] {1, max - 1, max, max + 1, 4 * max, 4 * max - 7}) {
      ByteString chunk = random(n);
      List<ByteString> pieces = UserApi.split(chunk, max);
      assertEquals((n + max - 1) / max, pieces.size(), n + " bytes");
      ByteString joined = ByteString.emptyByteString();
      for (ByteString p : pieces) {
        assertEquals(true, p.size() <= max && !p.isEmpty(), "piece of " + p.size() + " bytes");
        joined = joined.concat(p);
      }
      assertEquals(chunk, joined);
    }
    // A chunk already small enough is handed on as it is.
    ByteString small = random(100);
    assertSame(small, UserApi.split(small, max).get(0));
  }
}
