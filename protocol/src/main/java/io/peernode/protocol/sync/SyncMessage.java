package io.peernode.protocol.sync;

import io.peernode.protocol.sync.SyncJson.Obj;
import java.util.List;

/**
 * The messages of the block sync protocol (spec: shared/spec/sync-protocol.md), both directions.
 * Commands go client to server, responses server to client; {@code init}, {@code send} and
 * {@code end} exist in both directions with different fields, hence the separate types.
 *
 * <p>{@link #parseCommand} and {@link #parseResponse} split errors in two: an unknown command is a
 * {@link FrameException} (the connection closes); bad fields of a known command are a
 * {@link CommandException} (answered with {@code err}/{@code deny}; the frame boundary is intact).
 */
public sealed interface SyncMessage {

  /** The protocol version this implementation speaks: 0.1.0. Only the major must match. */
  int[] VERSION = {0, 1, 0};

  enum Action { PUSH, PULL;
    public String wire() { return name().toLowerCase(); }
  }

  enum DataType { HASH, DATA;
    public String wire() { return name().toLowerCase(); }
  }

  String command();

  Obj toJson();

  default byte[] binary() {
    return new byte[0];
  }

  // ---- commands (client -> server) ----

  /** {@code init}: opens a session. {@code size} is -1 when the client left it out. */
  record Init(int[] version, Action action, String filename, int blockSize, long blockCount,
      long size) implements SyncMessage {
    public String command() { return "init"; }
    public Obj toJson() {
      Obj o = base("init");
      o.putInts("version", version);
      o.put("action", action.wire());
      o.put("filename", filename);
      o.put("blockSize", blockSize);
      o.put("blockCount", blockCount);
      if (size >= 0) {
        o.put("size", size);
      }
      return o;
    }
  }

  /** {@code req}: asks for tree nodes ({@code hash}) or blocks ({@code data}). */
  record Req(DataType dataType, int[] index) implements SyncMessage {
    public String command() { return "req"; }
    public Obj toJson() {
      Obj o = base("req");
      o.put("dataType", dataType.wire());
      o.putInts("index", index);
      return o;
    }
  }

  /** {@code send}, either direction: hashes or blocks concatenated in {@code index} order. */
  record Send(DataType dataType, int[] index, Binary body) implements SyncMessage {
    public Send(DataType dataType, int[] index, byte[] payload) {
      this(dataType, index, Binary.of(payload));
    }
    public String command() { return "send"; }
    public Obj toJson() {
      return header(dataType, index);
    }
    /** The payload in one array (hashes; data blocks are read through {@link #body}). */
    public byte[] payload() { return body.toArray(); }
    @Override public byte[] binary() { return body.toArray(); }

    /** The JSON of a {@code send} whose payload is streamed separately. */
    public static Obj header(DataType dataType, int[] index) {
      Obj o = base("send");
      o.put("dataType", dataType.wire());
      o.putInts("index", index);
      return o;
    }
  }

  /** {@code end} command; {@code push} commits. {@code size} -1 and {@code root} null when absent. */
  record End(boolean push, long size, String root) implements SyncMessage {
    public String command() { return "end"; }
    public Obj toJson() {
      Obj o = base("end");
      if (push) {
        o.put("action", "push");
      }
      if (size >= 0) {
        o.put("size", size);
      }
      if (root != null) {
        o.put("root", root);
      }
      return o;
    }
  }

  // ---- responses (server -> client) ----

  /** {@code init} response: the server's version and the state of its copy of the file. */
  record InitReply(int[] version, int blockSize, long blockCount, long size, String root)
      implements SyncMessage {
    public String command() { return "init"; }
    public Obj toJson() {
      Obj o = base("init");
      o.putInts("version", version);
      o.put("blockSize", blockSize);
      o.put("blockCount", blockCount);
      o.put("size", size);
      o.put("root", root);
      return o;
    }
  }

  record Deny(int retry, int status, String msg) implements SyncMessage {
    public String command() { return "deny"; }
    public Obj toJson() {
      Obj o = base("deny");
      o.put("retry", retry);
      o.put("status", status);
      o.put("msg", msg);
      return o;
    }
  }

  record Ack() implements SyncMessage {
    public String command() { return "ack"; }
    public Obj toJson() { return base("ack"); }
  }

  record Err(String msg) implements SyncMessage {
    public String command() { return "err"; }
    public Obj toJson() {
      Obj o = base("err");
      o.put("msg", msg);
      return o;
    }
  }

  record EndReply() implements SyncMessage {
    public String command() { return "end"; }
    public Obj toJson() { return base("end"); }
  }

  // ---- parsing ----

  /** Checks that the frame names a command a server understands (else the connection closes). */
  static void checkCommandName(Frame frame) throws FrameException {
    switch (frame.command()) {
      case "init", "req", "send", "end" -> { }
      default -> throw new FrameException("unknown command '" + clip(frame.command()) + "'");
    }
  }

  /** A frame from a client, as the server reads it. */
  static SyncMessage parseCommand(Frame frame) throws FrameException, CommandException {
    checkCommandName(frame);
    Obj o = frame.json();
    return switch (frame.command()) {
      case "init" -> new Init(version(o), action(o), text(o, "filename"), intField(o, "blockSize"),
          longField(o, "blockCount"), optLong(o, "size"));
      case "req" -> new Req(dataType(o), indices(o));
      case "send" -> new Send(dataType(o), indices(o), frame.body());
      case "end" -> {
        Object a = o.get("action");
        boolean push = false;
        if (a != null && a != SyncJson.NULL) {
          if (!"push".equals(a)) {
            throw new CommandException("end: 'action' must be \"push\" when present");
          }
          push = true;
        }
        Object r = o.get("root");
        if (r != null && r != SyncJson.NULL && !(r instanceof String)) {
          throw new CommandException("end: 'root' must be a hex string");
        }
        yield new End(push, optLong(o, "size"), r instanceof String root ? root : null);
      }
      default -> throw new FrameException("unknown command");
    };
  }

  /** A frame from a server, as the client reads it. */
  static SyncMessage parseResponse(Frame frame) throws FrameException, CommandException {
    Obj o = frame.json();
    return switch (frame.command()) {
      case "init" -> new InitReply(version(o), intField(o, "blockSize"),
          longField(o, "blockCount"), longField(o, "size"), text(o, "root"));
      case "deny" -> new Deny(o.asInt("retry"), o.asInt("status"), o.asText("msg"));
      case "send" -> new Send(dataType(o), indices(o), frame.body());
      case "ack" -> new Ack();
      case "err" -> new Err(o.asText("msg"));
      case "end" -> new EndReply();
      default -> throw new FrameException("unknown response '" + clip(frame.command()) + "'");
    };
  }

  private static Obj base(String command) {
    return SyncJson.object().put("command", command);
  }

  private static int[] version(Obj o) throws CommandException {
    if (!(o.get("version") instanceof List<?> v) || v.size() != 3) {
      throw new CommandException("'version' must be [major, minor, tiny]");
    }
    int[] out = new int[3];
    for (int i = 0; i < 3; i++) {
      if (!nonNegativeInt(v.get(i))) {
        throw new CommandException("'version' must hold three non-negative integers");
      }
      out[i] = ((Long) v.get(i)).intValue();
    }
    return out;
  }

  /** A JSON integer that fits an int and is not negative. */
  private static boolean nonNegativeInt(Object v) {
    return v instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE;
  }

  private static Action action(Obj o) throws CommandException {
    String a = text(o, "action");
    return switch (a) {
      case "push" -> Action.PUSH;
      case "pull" -> Action.PULL;
      default -> throw new CommandException("'action' must be \"push\" or \"pull\"");
    };
  }

  private static DataType dataType(Obj o) throws CommandException {
    String t = text(o, "dataType");
    return switch (t) {
      case "hash" -> DataType.HASH;
      case "data" -> DataType.DATA;
      default -> throw new CommandException("'dataType' must be \"hash\" or \"data\"");
    };
  }

  private static int[] indices(Obj o) throws CommandException {
    if (!(o.get("index") instanceof List<?> a)) {
      throw new CommandException("'index' must be an array of integers");
    }
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      if (!nonNegativeInt(a.get(i))) {
        throw new CommandException("'index' must hold non-negative integers (entry " + i + ")");
      }
      out[i] = ((Long) a.get(i)).intValue();
    }
    return out;
  }

  private static String text(Obj o, String field) throws CommandException {
    String s = o.text(field);
    if (s == null) {
      throw new CommandException("'" + field + "' must be a string");
    }
    return s;
  }

  private static int intField(Obj o, String field) throws CommandException {
    if (!nonNegativeInt(o.get(field))) {
      throw new CommandException("'" + field + "' must be a non-negative integer");
    }
    return ((Long) o.get(field)).intValue();
  }

  private static long longField(Obj o, String field) throws CommandException {
    if (!(o.get(field) instanceof Long l) || l < 0) {
      throw new CommandException("'" + field + "' must be a non-negative integer");
    }
    return l;
  }

  private static long optLong(Obj o, String field) throws CommandException {
    Object n = o.get(field);
    return n == null || n == SyncJson.NULL ? -1 : longField(o, field);
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
