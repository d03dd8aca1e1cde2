package io.peernode.protocol.streamr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads the one request a busy connection sends again and again, a well-formed publish, in one
 * pass over its characters: no tokenizer, no symbol table, and {@code msg} (JSON inside a JSON
 * string, so every quote of the event escaped) unescaped by a loop of its own, which finds the
 * next quote or backslash eight bytes at a time. In the
 * bench/streams-ws profile the Jackson streaming parser it replaces was the largest single cost
 * of the node, about a fifth of its CPU.
 *
 * <p>It is strict and gives up rather than guess: {@link #scan} returns null for anything it
 * does not read exactly as Jackson would (an escaped field name, a value other than a string,
 * an integer, true, false or null, a number in an unknown field, a {@code ts} that is not a
 * plain non-negative long, whitespace other than JSON's four, trailing input), and for every
 * malformed or invalid request. {@link StreamrRequests} then reads the request with Jackson,
 * which gives the same answer for a good publish and names the problem of a bad one; a test
 * compares the two on mutated requests.
 */
final class PublishScanner {

  private final String s;
  private final int n;
  private int i;
  /**
   * The text one byte per character, for the word-at-a-time search of {@link #special}:
   * ISO-8859-1, in which a character beyond it is '?', neither a quote, a backslash nor a
   * control character, as the character itself is not.
   */
  private final byte[] bytes;
  /** The unescaped characters of a string value with escapes; reused by the scan. */
  private char[] unescaped;

  private PublishScanner(String text) {
    this.s = text;
    this.n = text.length();
    this.bytes = oneBytePerChar(text);
  }

  /** The publish in {@code text}, or null: see the class comment. */
  static StreamrRequest.Publish scan(String text) {
    try {
      return new PublishScanner(text).publish();
    } catch (GiveUp e) {
      return null;
    }
  }

  /** Unwinds the scan: the request is read by the slower parsers instead. */
  private static final class GiveUp extends Exception {
    static final GiveUp INSTANCE = new GiveUp();

    private GiveUp() {
      super(null, null, false, false);
    }
  }

  private StreamrRequest.Publish publish() throws GiveUp {
    boolean typed = false;
    String stream = null;
    String msg = null;
    String msgJson = null;
    String authKey = null;
    OptionalLong ts = OptionalLong.empty();
    Optional<String> pkey = Optional.empty();
    skipSpace();
    expect('{');
    skipSpace();
    // {} gives up at its name, as it would for want of a type
    while (true) {
      int field = name();
      skipColon();
      switch (field) {
        case TYPE:
          if (!"publish".equals(string())) throw GiveUp.INSTANCE;
          typed = true;
          break;
        case STREAM:
          stream = string();
          break;
        case MSG:
          int start = i;
          msg = string();
          msgJson = s.substring(start, i);
          break;
        case AUTH_KEY:
          authKey = stringOrNull();
          break;
        case TS:
          ts = timestamp();
          break;
        case PKEY:
          pkey = Optional.ofNullable(stringOrNull());
          break;
        default:
          skipScalar(); // unknown fields are ignored
      }
      skipSpace();
      char c = next();
      if (c == '}') break;
      if (c != ',') throw GiveUp.INSTANCE;
      skipSpace();
    }
    skipSpace();
    if (i != n || !typed || stream == null || stream.isEmpty() || msg == null) {
      throw GiveUp.INSTANCE;
    }
    return new StreamrRequest.Publish(stream, StreamrRequests.key(authKey), msg, ts, pkey,
        msgJson);
  }

  private char peek() throws GiveUp {
    if (i >= n) throw GiveUp.INSTANCE;
    return s.charAt(i);
  }

  private char next() throws GiveUp {
    if (i >= n) throw GiveUp.INSTANCE;
    return s.charAt(i++);
  }

  private void expect(char c) throws GiveUp {
    if (next() != c) throw GiveUp.INSTANCE;
  }

  private void skipSpace() {
    while (i < n && isSpace(s.charAt(i))) i++;
  }

  /** JSON's four whitespace characters (Jackson takes no others between tokens either). */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  private static final int OTHER = 0;
  private static final int TYPE = 1;
  private static final int STREAM = 2;
  private static final int MSG = 3;
  private static final int AUTH_KEY = 4;
  private static final int TS = 5;
  private static final int PKEY = 6;

  /**
   * Which field a name (without escapes: one with them is left to Jackson) is, compared in
   * place; the scan ends after its closing quote.
   */
  private int name() throws GiveUp {
    expect('"');
    int start = i;
    int end = special(bytes, start, n);
    if (end >= n || s.charAt(end) != '"') throw GiveUp.INSTANCE; // an escape or a control char
    i = end + 1;
    switch (end - start) {
      case 2:
        return s.startsWith("ts", start) ? TS : OTHER;
      case 3:
        return s.startsWith("msg", start) ? MSG : OTHER;
      case 4:
        return s.startsWith("type", start) ? TYPE : s.startsWith("pkey", start) ? PKEY : OTHER;
      case 6:
        return s.startsWith("stream", start) ? STREAM : OTHER;
      case 7:
        return s.startsWith("authKey", start) ? AUTH_KEY : OTHER;
      default:
        return OTHER;
    }
  }

  private void skipColon() throws GiveUp {
    skipSpace();
    expect(':');
    skipSpace();
  }

  private String stringOrNull() throws GiveUp {
    if (peek() == 'n') {
      word("null");
      return null;
    }
    return string();
  }

  /** A string value, unescaped; the scan ends after its closing quote. */
  private String string() throws GiveUp {
    expect('"');
    String s = this.s;
    int n = this.n;
    int run = i; // the start of the run of characters that need no unescaping
    int len = 0; // characters in unescaped
    while (true) {
      int j = special(bytes, run, n);
      if (j >= n) throw GiveUp.INSTANCE;
      char c = s.charAt(j);
      if (c < 0x20) throw GiveUp.INSTANCE;
      if (c == '"') {
        i = j + 1;
        if (len == 0) return s.substring(run, j);
        len = unescaped(run, j, len);
        return new String(unescaped, 0, len);
      }
      // a backslash
      len = unescaped(run, j, len);
      if (j + 1 >= n) throw GiveUp.INSTANCE;
      char e = s.charAt(j + 1);
      j += 2;
      char u;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          u = e;
          break;
        case 'b':
          u = '\b';
          break;
        case 'f':
          u = '\f';
          break;
        case 'n':
          u = '\n';
          break;
        case 'r':
          u = '\r';
          break;
        case 't':
          u = '\t';
          break;
        case 'u':
          if (j + 4 > n) throw GiveUp.INSTANCE;
          u = (char) (hex(s.charAt(j)) << 12 | hex(s.charAt(j + 1)) << 8
              | hex(s.charAt(j + 2)) << 4 | hex(s.charAt(j + 3)));
          j += 4;
          break;
        default:
          throw GiveUp.INSTANCE;
      }
      unescaped[len++] = u;
      run = j;
    }
  }

  /**
   * {@link #bytes} of {@code s}. The encoder replaces a surrogate pair with one '?', which
   * would shift the indices, so a text with such characters is mapped char by char.
   */
  private static byte[] oneBytePerChar(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    if (b.length == s.length()) return b;
    b = new byte[s.length()];
    for (int k = 0; k < b.length; k++) {
      char c = s.charAt(k);
      b[k] = c <= 0xFF ? (byte) c : (byte) '?';
    }
    return b;
  }

  /** Appends the characters [from, to) of the text to {@link #unescaped}; its new length. */
  private int unescaped(int from, int to, int len) {
    // at most the rest of the text, and one more for the escape that follows
    int need = len + (n - from) + 1;
    if (unescaped == null || unescaped.length < need) {
      unescaped = unescaped == null ? new char[need]
          : java.util.Arrays.copyOf(unescaped, Math.max(need, 2 * unescaped.length));
    }
    s.getChars(from, to, unescaped, len);
    return len + (to - from);
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /**
   * The first index in [from, n) of a quote, a backslash or a control character (below 0x20),
   * or n: eight bytes at a time. For each test, (x - k) &amp; ~x &amp; 0x80.. marks the bytes
   * that are below k (zero, for x xor the character), exactly up to the first such byte (a
   * borrow only runs into the bytes above it), and the lowest mark is the first match.
   */
  static int special(byte[] b, int from, int n) {
    int j = from;
    for (; j + 8 <= n; j += 8) {
      long x = (long) LONGS.get(b, j);
      long q = x ^ 0x2222222222222222L; // '"'
      long bs = x ^ 0x5C5C5C5C5C5C5C5CL; // '\\'
      long marks = ((q - ONES) & ~q) | ((bs - ONES) & ~bs) | ((x - 0x20 * ONES) & ~x);
      marks &= HIGHS;
      if (marks != 0) return j + (Long.numberOfTrailingZeros(marks) >>> 3);
    }
    for (; j < n; j++) {
      int c = b[j] & 0xFF;
      if (c == '"' || c == '\\' || c < 0x20) return j;
    }
    return n;
  }

  private static int hex(char c) throws GiveUp {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw GiveUp.INSTANCE;
  }

  /** {@code ts}: null, or a non-negative integer of at most 18 digits (so it fits a long). */
  private OptionalLong timestamp() throws GiveUp {
    char c = peek();
    if (c == 'n') {
      word("null");
      return OptionalLong.empty();
    }
    if (c < '0' || c > '9') throw GiveUp.INSTANCE;
    int start = i;
    long v = 0;
    while (i < n && (c = s.charAt(i)) >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      i++;
    }
    if (i - start > 18 || (s.charAt(start) == '0' && i - start > 1) || !delimiterNext()) {
      throw GiveUp.INSTANCE; // too long, a leading zero, or a fraction or exponent
    }
    return OptionalLong.of(v);
  }

  /** The value of an unknown field: a string, true, false or null (anything else: give up). */
  private void skipScalar() throws GiveUp {
    switch (peek()) {
      case '"':
        string();
        return;
      case 't':
        word("true");
        return;
      case 'f':
        word("false");
        return;
      case 'n':
        word("null");
        return;
      default:
        throw GiveUp.INSTANCE;
    }
  }

  private void word(String w) throws GiveUp {
    if (!s.startsWith(w, i)) throw GiveUp.INSTANCE;
    i += w.length();
    if (!delimiterNext()) throw GiveUp.INSTANCE;
  }

  /** Whether the value just read ends here: at the end, a comma, a brace or whitespace. */
  private boolean delimiterNext() {
    if (i >= n) return true;
    char c = s.charAt(i);
    return c == ',' || c == '}' || isSpace(c);
  }
}
