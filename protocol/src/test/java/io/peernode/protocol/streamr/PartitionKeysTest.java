package io.peernode.protocol.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PartitionKeysTest {

  private static int mm(String s, int seed) {
    return PartitionKeys.murmur3(s.getBytes(StandardCharsets.UTF_8), seed);
  }

  @Test
  void murmur3KnownAnswers() {
    // Reference vectors of MurmurHash3_x86_32 (SMHasher / widely published test values).
    assertEquals(0, mm("", 0));
    assertEquals(0x514E28B7, mm("", 1));
    assertEquals(0x81F16F39, mm("", 0xffffffff));
    assertEquals(0xba6bd213, mm("test", 0));
    assertEquals(0x704b81dc, mm("test", 0x9747b28c));
    assertEquals(0x24884CBA, mm("Hello, world!", 0x9747b28c));
    assertEquals(0x2FA826CD, mm("The quick brown fox jumps over the lazy dog", 0x9747b28c));
  }

  @Test
  void sameKeySamePartitionAndInRange() {
    for (int partitions : new int[] {1, 2, 7, 1000}) {
      for (int i = 0; i < 500; i++) {
        String key = "device-" + i;
        int p = PartitionKeys.partitionFor(key, partitions);
        assertTrue(p >= 0 && p < partitions);
        assertEquals(p, PartitionKeys.partitionFor(new String(key.toCharArray()), partitions));
      }
    }
  }

  @Test
  void keysSpreadOverPartitions() {
    int[] counts = new int[4];
    for (int i = 0; i < 4000; i++) {
      counts[PartitionKeys.partitionFor("device-" + i, 4)]++;
    }
    for (int c : counts) {
      assertTrue(c > 800 && c < 1200, "uneven spread: " + java.util.Arrays.toString(counts));
    }
  }

  @Test
  void zeroPartitionsIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PartitionKeys.partitionFor("k", 0));
  }
}
