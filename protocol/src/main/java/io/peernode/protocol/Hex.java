package io.peernode.protocol;

/** Lowercase hex, the encoding binary data travels in on the user API (as in storjnet). */
public final class Hex {

  private static final char[] DIGITS = "0123456789abcdef".toCharArray();

  private Hex() {}

  public static String encode(byte[] bytes) {
    return encode(bytes, 0, bytes.length);
  }

  public static String encode(byte[] bytes, int offset, int length) {
    char[] out = new char[length * 2];
    for (int i = 0; i < length; i++) {
      int b = bytes[offset + i] & 0xff;
      out[2 * i] = DIGITS[b >>> 4];
      out[2 * i + 1] = DIGITS[b & 0x0f];
    }
    return new String(out);
  }

  /**
   * Decodes hex (either case).
   *
   * @throws IllegalArgumentException naming the first bad character or an odd length
   */
  public static byte[] decode(CharSequence hex) {
    int n = hex.length();
    if ((n & 1) != 0) {
      throw new IllegalArgumentException("hex data has an odd number of digits (" + n + ")");
    }
    byte[] out = new byte[n / 2];
    for (int i = 0; i < n; i += 2) {
      out[i / 2] = (byte) ((digit(hex, i) << 4) | digit(hex, i + 1));
    }
    return out;
  }

  private static int digit(CharSequence hex, int i) {
    int d = Character.digit(hex.charAt(i), 16);
    if (d < 0) {
      throw new IllegalArgumentException("hex data has a non-hex character at position " + i);
    }
    return d;
  }
}
