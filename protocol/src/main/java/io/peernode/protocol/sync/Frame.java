package io.peernode.protocol.sync;

import io.peernode.protocol.sync.SyncJson.Obj;

/**
 * One decoded sync frame: the JSON object (already known to carry a string {@code command}) and
 * the binary payload that followed it. The payload is never longer than the decoder's limit.
 */
public record Frame(Obj json, Binary body) {

  public Frame(Obj json, byte[] binary) {
    this(json, Binary.of(binary));
  }

  public String command() {
    return json.text("command");
  }

  /** The payload in one array (see {@link Binary#toArray}). */
  public byte[] binary() {
    return body.toArray();
  }
}
