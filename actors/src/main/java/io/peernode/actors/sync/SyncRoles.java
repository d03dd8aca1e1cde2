package io.peernode.actors.sync;

import akka.cluster.Member;
import java.util.OptionalInt;

/**
 * How a node advertises its sync port to the cluster: the role {@code sync-port-<port>}, set in
 * {@code akka.cluster.roles} before joining (bind the sync server first when its port is 0). Other
 * members then find the port through gossip, as they find node ids ({@code NodeRoles}).
 */
public final class SyncRoles {

  private static final String PREFIX = "sync-port-";

  private SyncRoles() {}

  public static String roleOf(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("not a TCP port: " + port);
    }
    return PREFIX + port;
  }

  /** The advertised sync port of {@code member}, if it has one. */
  public static OptionalInt syncPortOf(Member member) {
    for (String role : member.getRoles()) {
      if (role.startsWith(PREFIX)) {
        try {
          int p = Integer.parseInt(role.substring(PREFIX.length()));
          if (p >= 1 && p <= 65535) {
            return OptionalInt.of(p);
          }
        } catch (NumberFormatException ignored) {
          // not ours
        }
      }
    }
    return OptionalInt.empty();
  }

  /** The host of a member's cluster address, where its sync server listens too. */
  public static String hostOf(Member member) {
    return member.address().host().getOrElse(() -> "127.0.0.1");
  }
}
