package io.peernode.protocol.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

  ObjectNode toJson();

  default byte[] binary() {
    return new byte[0];
  }

  // ---- commands (client -> server) ----

  /** {@code init}: opens a session. {@code size} is -1 when the client left it out. */
  record Init(int[] version, Action action, String filename, int blockSize, long blockCount,
      long size) implements SyncMessage {
    public String command() { return "init"; }
    public ObjectNode toJson() {
      ObjectNode o = base("init");
      o.set("version", ints(version));
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
    public ObjectNode toJson() {
      ObjectNode o = base("req");
      o.put("dataType", dataType.wire());
      o.set("index", ints(index));
      return o;
    }
  }

  /** {@code send}, either direction: hashes or blocks concatenated in {@code index} order. */
  record Send(DataType dataType, int[] index, Binary body) implements SyncMessage {
    public Send(DataType dataType, int[] index, byte[] payload) {
      this(dataType, index, Binary.of(payload));
    }
    public String command() { return "send"; }
    public ObjectNode toJson() {
      return header(dataType, index);
    }
    /** The payload in one array (hashes; data blocks are read through {@link #body}). */
    public byte[] payload() { return body.toArray(); }
    @Override public byte[] binary() { return body.toArray(); }

    /** The JSON of a {@code send} whose payload is streamed separately. */
    public static ObjectNode header(DataType dataType, int[] index) {
      ObjectNode o = base("send");
      o.put("dataType", dataType.wire());
      o.set("index", ints(index));
      return o;
    }
  }

  /** {@code end} command; {@code push} commits. {@code size} -1 and {@code root} null when absent. */
  record End(boolean push, long size, String root) implements SyncMessage {
    public String command() { return "end"; }
    public ObjectNode toJson() {
      ObjectNode o = base("end");
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
    public ObjectNode toJson() {
      ObjectNode o = base("init");
      o.set("version", ints(version));
      o.put("blockSize", blockSize);
      o.put("blockCount", blockCount);
      o.put("size", size);
      o.put("root", root);
      return o;
    }
  }

  record Deny(int retry, int status, String msg) implements SyncMessage {
    public String command() { return "deny"; }
    public ObjectNode toJson() {
      ObjectNode o = base("deny");
      o.put("retry", retry);
      o.put("status", status);
      o.put("msg", msg);
      return o;
    }
  }

  record Ack() implements SyncMessage {
    public String command() { return "ack"; }
    public ObjectNode toJson() { return base("ack"); }
  }

  record Err(String msg) implements SyncMessage {
    public String command() { return "err"; }
    public ObjectNode toJson() {
      ObjectNode o = base("err");
      o.put("msg", msg);
      return o;
    }
  }

  record EndReply() implements SyncMessage {
    public String command() { return "end"; }
    public ObjectNode toJson() { return base("end"); }
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
    ObjectNode o = frame.json();
    return switch (frame.command()) {
      case "init" -> new Init(version(o), action(o), text(o, "filename"), intField(o, "blockSize"),
          longField(o, "blockCount"), optLong(o, "size"));
      case "req" -> new Req(dataType(o), indices(o));
      case "send" -> new Send(dataType(o), indices(o), frame.body());
      case "end" -> {
        JsonNode a = o.get("action");
        boolean push = false;
        if (a != null && !a.isNull()) {
          if (!a.isTextual() || !a.textValue().equals("push")) {
            throw new CommandException("end: 'action' must be \"push\" when present");
          }
          push = true;
        }
        JsonNode r = o.get("root");
        if (r != null && !r.isNull() && !r.isTextual()) {
          throw new CommandException("end: 'root' must be a hex string");
        }
        yield new End(push, optLong(o, "size"), r == null || r.isNull() ? null : r.textValue());
      }
      default -> throw new FrameException("unknown command");
    };
  }

  /** A frame from a server, as the client reads it. */
  static SyncMessage parseResponse(Frame frame) throws FrameException, CommandException {
    ObjectNode o = frame.json();
    return switch (frame.command()) {
      case "init" -> new InitReply(version(o), intField(o, "blockSize"),
          longField(o, "blockCount"), longField(o, "size"), text(o, "root"));
      case "deny" -> new Deny(o.path("retry").asInt(0), o.path("status").asInt(0),
          o.path("msg").asText(""));
      case "send" -> new Send(dataType(o), indices(o), frame.body());
      case "ack" -> new Ack();
      case "err" -> new Err(o.path("msg").asText(""));
      case "end" -> new EndReply();
      default -> throw new FrameException("unknown response '" + clip(frame.command()) + "'");
    };
  }

  private static ObjectNode base(String command) {
    ObjectNode o = SyncJson.object();
    o.put("command", command);
    return o;
  }

  private static ArrayNode ints(int[] values) {
    ArrayNode a = SyncJson.MAPPER.createArrayNode();
    for (int v : values) {
      a.add(v);
    }
    return a;
  }

  private static int[] version(ObjectNode o) throws CommandException {
    JsonNode v = o.get("version");
    if (v == null || !v.isArray() || v.size() != 3) {
      throw new CommandException("'version' must be [major, minor, tiny]");
    }
    int[] out = new int[3];
    for (int i = 0; i < 3; i++) {
      if (!v.get(i).canConvertToInt() || !v.get(i).isIntegralNumber() || v.get(i).intValue() < 0) {
        throw new CommandException("'version' must hold three non-negative integers");
      }
      out[i] = v.get(i).intValue();
    }
    return out;
  }

  private static Action action(ObjectNode o) throws CommandException {
    String a = text(o, "action");
    return switch (a) {
      case "push" -> Action.PUSH;
      case "pull" -> Action.PULL;
      default -> throw new CommandException("'action' must be \"push\" or \"pull\"");
    };
  }

  private static DataType dataType(ObjectNode o) throws CommandException {
    String t = text(o, "dataType");
    return switch (t) {
      case "hash" -> DataType.HASH;
      case "data" -> DataType.DATA;
      default -> throw new CommandException("'dataType' must be \"hash\" or \"data\"");
    };
  }

  private static int[] indices(ObjectNode o) throws CommandException {
    JsonNode a = o.get("index");
    if (a == null || !a.isArray()) {
      throw new CommandException("'index' must be an array of integers");
    }
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode n = a.get(i);
      if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
        throw new CommandException("'index' must hold non-negative integers (entry " + i + ")");
      }
      out[i] = n.intValue();
    }
    return out;
  }

  private static String text(ObjectNode o, String field) throws CommandException {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw new CommandException("'" + field + "' must be a string");
    }
    return n.textValue();
  }

  private static int intField(ObjectNode o, String field) throws CommandException {
    JsonNode n = o.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
      throw new CommandException("'" + field + "' must be a non-negative integer");
    }
    return n.intValue();
  }

  private static long longField(ObjectNode o, String field) throws CommandException {
    JsonNode n = o.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
      throw new CommandException("'" + field + "' must be a non-negative integer");
    }
    return n.longValue();
  }

  private static long optLong(ObjectNode o, String field) throws CommandException {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? -1 : longField(o, field);
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
