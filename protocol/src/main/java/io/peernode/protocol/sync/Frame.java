package io.peernode.protocol.sync;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One decoded sync frame: the JSON object (already known to carry a string {@code command}) and
 * the binary payload that followed it. The payload is never longer than the decoder's limit.
 */
public record Frame(ObjectNode json, Binary body) {

  public Frame(ObjectNode json, byte[] binary) {
    this(json, Binary.of(binary));
  }

  public String command() {
    return json.get("command").textValue();
  }

  /** The payload in one array (see {@link Binary#toArray}). */
  public byte[] binary() {
    return body.toArray();
  }
}
