package io.peernode.protocol.streamr;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Random;

/** Stream ids are server-made: 128 random bits as 22 characters of URL-safe base64. */
public final class StreamIds {

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final SecureRandom RANDOM = new SecureRandom();

  private StreamIds() {}

  public static String generate() {
    return generate(RANDOM);
  }

  public static String generate(Random random) {
    byte[] bits = new byte[16];
    random.nextBytes(bits);
    return ENCODER.encodeToString(bits);
  }

  /** True if {@code id} has the shape of a generated id (22 URL-safe base64 characters). */
  public static boolean looksGenerated(String id) {
    if (id == null || id.length() != 22) return false;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_';
      if (!ok) return false;
    }
    return true;
  }
}
