package io.peernode.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/** The key with every permission: given by {@code --admin-key}, or generated once into the data dir. */
public final class AdminKey {

  static final String FILE = "admin.key";

  private AdminKey() {}

  public static String resolve(NodeSettings settings) {
    if (settings.adminKey.isPresent()) {
      return settings.adminKey.get();
    }
    Path file = settings.dataDir.resolve(FILE);
    if (Files.exists(file)) {
      try {
        String key = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (key.isEmpty()) {
          throw new NodeStartException("admin key file " + file + " is empty; remove it to generate a new key");
        }
        return key;
      } catch (IOException e) {
        throw new NodeStartException("cannot read admin key file " + file + ": " + e.getMessage(), e);
      }
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String key = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    NodeIdentity.writeSecret(file, key + "\n");
    return key;
  }
}
