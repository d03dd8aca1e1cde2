package io.peernode.node;

import io.peernode.protocol.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Properties;

/**
 * The node's Ed25519 key pair, created once in the data dir ({@code node.key}) and read back
 * on every start. A key file that does not parse, or whose halves do not belong together,
 * stops the start: silently making a new identity would make the node someone else.
 */
public final class NodeIdentity {

  static final String FILE = "node.key";

  private final KeyPair keyPair;
  private final NodeId id;

  private NodeIdentity(KeyPair keyPair) {
    this.keyPair = keyPair;
    this.id = NodeId.fromPublicKey(keyPair.getPublic().getEncoded());
  }

  public NodeId id() {
    return id;
  }

  public PublicKey publicKey() {
    return keyPair.getPublic();
  }

  /** Signs with the node's private key (Ed25519). */
  public byte[] sign(byte[] data) {
    try {
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(keyPair.getPrivate());
      signature.update(data);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  public static NodeIdentity loadOrCreate(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (Files.exists(file)) {
      return load(file);
    }
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      Properties props = new Properties();
      props.setProperty("algorithm", "Ed25519");
      props.setProperty("private", Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()));
      props.setProperty("public", Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
      StringBuilder text = new StringBuilder("# peer node identity: keep private; the node id derives from the public key\n");
      props.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
      writeSecret(file, text.toString());
      return new NodeIdentity(pair);
    } catch (GeneralSecurityException e) {
      throw new NodeStartException("this JVM cannot create Ed25519 keys: " + e.getMessage(), e);
    }
  }

  private static NodeIdentity load(Path file) {
    Properties props = new Properties();
    try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(reader);
    } catch (IOException | IllegalArgumentException e) {
      throw corrupt(file, "cannot be read: " + e.getMessage());
    }
    String priv = props.getProperty("private");
    String pub = props.getProperty("public");
    if (priv == null || pub == null) {
      throw corrupt(file, "lacks the private or public key");
    }
    try {
      KeyFactory factory = KeyFactory.getInstance("Ed25519");
      PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(priv.trim())));
      PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(pub.trim())));
      KeyPair pair = new KeyPair(publicKey, privateKey);
      if (!belongTogether(pair)) {
        throw corrupt(file, "holds a public key that does not match its private key");
      }
      return new NodeIdentity(pair);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw corrupt(file, "holds a key that does not parse: " + e.getMessage());
    }
  }

  private static boolean belongTogether(KeyPair pair) throws GeneralSecurityException {
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    Signature signer = Signature.getInstance("Ed25519");
    signer.initSign(pair.getPrivate());
    signer.update(challenge);
    byte[] sig = signer.sign();
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(pair.getPublic());
    verifier.update(challenge);
    return verifier.verify(sig);
  }

  private static NodeStartException corrupt(Path file, String why) {
    return new NodeStartException("identity file " + file + " " + why
        + "; refusing to start with a new identity (move the file away to create one)");
  }

  /** Writes a file readable by its owner only, atomically (temp file + rename). */
  static void writeSecret(Path file, String content) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      try {
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(tmp);
      }
      Files.writeString(tmp, content, StandardCharsets.UTF_8);
      try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new NodeStartException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
