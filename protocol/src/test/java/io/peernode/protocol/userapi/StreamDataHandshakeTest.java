package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.Hex;
import org.junit.jupiter.api.Test;

class StreamDataHandshakeTest {

  static final byte[] ID = Hex.decode("00112233445566778899aabbccddeeff");
  static final byte[] TOKEN = Hex.decode("0f0e0d0c0b0a09080706050403020100");

  @Test
  void encodesToTheKnownBytesAndBack() {
    byte[] wire = new StreamDataHandshake(ID, TOKEN).encode();
    assertArrayEquals(Hex.decode("504e5332" + "00112233445566778899aabbccddeeff" + "0f0e0d0c0b0a09080706050403020100"), wire);
    StreamDataHandshake back = StreamDataHandshake.decode(wire);
    assertArrayEquals(ID, back.streamId());
    assertTrue(back.hasToken(TOKEN));
    byte[] other = TOKEN.clone();
    other[15] ^= 1;
    assertFalse(back.hasToken(other));
    assertFalse(back.hasToken(new byte[3]));
  }

  @Test
  void badInputIsAClearError() {
    IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
        () -> StreamDataHandshake.decode(new byte[StreamDataHandshake.SIZE - 1]));
    assertTrue(shortOne.getMessage().contains("36 bytes"), shortOne.getMessage());
    byte[] wire = new StreamDataHandshake(ID, TOKEN).encode();
    wire[0] = 'G'; // say, an HTTP client: "GET /..."
    IllegalArgumentException notOurs = assertThrows(IllegalArgumentException.class, () -> StreamDataHandshake.decode(wire));
    assertTrue(notOurs.getMessage().contains("PNS2"), notOurs.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new StreamDataHandshake(new byte[15], TOKEN));
  }
}
