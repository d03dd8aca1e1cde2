package io.peernode.node.storage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/** The shared store on a PostgreSQL server this test starts in a temp dir. */
class PostgresEventStoreTest extends EventStoreContract {

  private TestPostgres pg;

  @BeforeAll
  void startPostgres() {
    pg = TestPostgres.start();
    if (pg == null) {
      System.err.println("SKIPPING PostgresEventStoreTest: " + TestPostgres.unavailableReason);
    }
    Assumptions.assumeTrue(pg != null,
        () -> "SKIPPED LOUDLY: " + TestPostgres.unavailableReason);
  }

  @AfterAll
  void stopPostgres() {
    if (pg != null) pg.close();
  }

  @Override
  protected String url() {
    return pg.jdbcUrl();
  }

  @Override
  protected String legacyEventsDdl() {
    return "CREATE TABLE stream_events (stream_id TEXT NOT NULL, part_no INTEGER NOT NULL,"
        + " event_offset BIGINT NOT NULL, prev_offset BIGINT, ts BIGINT NOT NULL,"
        + " ttl INTEGER NOT NULL, expires_at BIGINT NOT NULL, content TEXT NOT NULL,"
        + " PRIMARY KEY (stream_id, part_no, event_offset))";
  }
}
