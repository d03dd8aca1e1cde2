package io.peernode.node.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/** The embedded store: SQLite in a temp data dir. */
class SqliteEventStoreTest extends EventStoreContract {

  private Path dir;

  @BeforeAll
  void createDir() throws Exception {
    dir = Files.createTempDirectory("sqlite-store");
  }

  @Override
  protected String url() {
    return "jdbc:sqlite:" + dir.resolve("streams.db");
  }
}
