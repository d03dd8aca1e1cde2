package io.peernode.node.storage;

import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Streams, API keys and stream permissions of the data API. {@link JdbcMetadataStore} keeps
 * them in one database (the shared PostgreSQL, or a single node's SQLite); with the embedded
 * store in a cluster, {@code ReplicatedMetadata} replicates them to every node.
 */
public interface MetadataStore extends AutoCloseable {

  /** A new secret key: 256 random bits, URL-safe base64. */
  String newKeySecret();

  CompletionStage<StreamRecord> createStream(StreamRecord s);

  CompletionStage<Optional<StreamRecord>> stream(String id);

  /** All streams, or those with exactly this name. */
  CompletionStage<List<StreamRecord>> streams(Optional<String> name);

  CompletionStage<Boolean> updateStream(StreamRecord s);

  /** Deletes the stream, its permissions and its stream keys (its events are the event store's). */
  CompletionStage<Boolean> deleteStream(String id);

  CompletionStage<KeyRecord> createKey(KeyRecord k);

  CompletionStage<Optional<KeyRecord>> key(String key);

  /** Keys that are not stream keys. */
  CompletionStage<List<KeyRecord>> keys();

  CompletionStage<Boolean> deleteKey(String key);

  /** Grants {@code operation} on a stream to a key, or to anyone when {@code key} is null. */
  CompletionStage<PermissionRecord> grant(String streamId, String operation, String key);

  CompletionStage<List<PermissionRecord>> permissions(String streamId);

  CompletionStage<Boolean> revoke(String streamId, long permissionId);

  @Override
  void close();
}
