package io.peernode.protocol;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A node's identity on the network: 40 lowercase hex characters (160 bits).
 *
 * <p>It is derived from the node's Ed25519 public key as the first 20 bytes of
 * SHA-256 over the key's X.509 (SubjectPublicKeyInfo) encoding, so anyone holding the
 * public key can check the id, and the same key pair always gives the same id.
 */
public final class NodeId implements Comparable<NodeId> {

  private static final Pattern HEX40 = Pattern.compile("[0-9a-f]{40}");

  private final String hex;

  private NodeId(String hex) {
    this.hex = hex;
  }

  /** Parses a node id; accepts upper or lower case, rejects anything that is not 40 hex chars. */
  public static NodeId parse(String text) {
    Objects.requireNonNull(text, "node id");
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    if (!HEX40.matcher(lower).matches()) {
      throw new IllegalArgumentException("a node id is 40 hex characters, got '" + abbreviate(text) + "'");
    }
    return new NodeId(lower);
  }

  /** True when {@code text} is a well-formed node id. */
  public static boolean isValid(String text) {
    return text != null && HEX40.matcher(text.toLowerCase(java.util.Locale.ROOT)).matches();
  }

  /** The id of the node whose public key has this X.509 encoding. */
  public static NodeId fromPublicKey(byte[] x509Encoded) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(x509Encoded);
      return new NodeId(Hex.encode(digest, 0, 20));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  public String hex() {
    return hex;
  }

  @Override
  public int compareTo(NodeId other) {
    return hex.compareTo(other.hex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeId && ((NodeId) o).hex.equals(hex);
  }

  @Override
  public int hashCode() {
    return hex.hashCode();
  }

  @Override
  public String toString() {
    return hex;
  }

  private static String abbreviate(String s) {
    return s.length() <= 48 ? s : s.substring(0, 45) + "...";
  }
}
