package io.peernode.node.storage;

import akka.Done;
import io.peernode.actors.streams.EventRange;
import io.peernode.actors.streams.EventStore;
import io.peernode.actors.streams.StreamsSettings;
import io.peernode.actors.streams.StreamsSettings.Durability;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event store on a JDBC database: SQLite in the data dir (the embedded default) or a shared
 * PostgreSQL server.
 *
 * <p>Writes go through one writer connection and a group committer: an append joins a bounded
 * queue; the committer takes what arrived within {@code commit-window} (at most
 * {@code max-commit-batch} appends, from any partitions) and stores it in one transaction, so
 * one fsync covers them all. If that transaction fails, each append is retried alone so one bad
 * append (an offset already taken) fails only itself. Reads use a small pool of their own
 * connections. All blocking work runs on the executor given (the node's blocking dispatcher).
 */
public final class JdbcEventStore implements EventStore, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(JdbcEventStore.class);

  private static final String INSERT =
      "INSERT INTO stream_batches (stream_id, part_no, first_offset, last_offset, event_count,"
          + " min_ts, max_ts, min_expires_at, max_expires_at, events)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  /** Claims offsets {@code first..} of a partition that has a row: none of them may be taken. */
  private static final String ADVANCE =
      "UPDATE stream_partitions SET next_offset = ?"
          + " WHERE stream_id = ? AND part_no = ? AND next_offset <= ?";
  private static final String NEXT =
      "SELECT next_offset FROM stream_partitions WHERE stream_id = ? AND part_no = ?";
  private static final String FIRST_CLAIM =
      "INSERT INTO stream_partitions (stream_id, part_no, next_offset) VALUES (?, ?, ?)";
  /** Batches that hold events of the range, by their key; the timestamps only narrow it. */
  private static final String SELECT =
      "SELECT first_offset, last_offset, events FROM stream_batches"
          + " WHERE stream_id = ? AND part_no = ? AND last_offset >= ? AND first_offset <= ?"
          + " AND max_ts >= ? AND min_ts <= ? ORDER BY last_offset LIMIT ?";
  /** Batches read per query while filling one page of events. */
  private static final int BATCHES_PER_QUERY = 32;

  private final String url;
  private final SqlDialect dialect;
  private final Durability durability;
  private final long commitWindowNanos;
  private final int maxCommitBatch;
  private final long maxBatchBytes;
  /** Used under the writer's lock only. */
  private final EventBatch.Encoder encoder = new EventBatch.Encoder();
  private final Executor blocking;
  private final Connection writer;
  private final BlockingQueue<Append> pending;
  private final AtomicBoolean committing = new AtomicBoolean();
  private final BlockingQueue<Connection> readers;
  private final AtomicInteger readersOpened = new AtomicInteger();
  private final int maxReaders;
  private volatile boolean closed;

  /** Commits made and appends they carried, for tests and the benchmark. */
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong appendsCommitted = new AtomicLong();

  private static final class Append {
    final String streamId;
    final int partition;
    final List<StreamMessage> events;
    final CompletableFuture<Done> done = new CompletableFuture<>();

    Append(String streamId, int partition, List<StreamMessage> events) {
      this.streamId = streamId;
      this.partition = partition;
      this.events = events;
    }
  }

  /** The embedded store: {@code <dataDir>/streams.db}. */
  public static JdbcEventStore embedded(Path dataDir, StreamsSettings settings, Executor blocking)
      throws SQLException {
    return open("jdbc:sqlite:" + dataDir.resolve("streams.db"), settings, blocking);
  }

  /**
   * Opens (and creates the tables of) the store at a JDBC URL: {@code jdbc:sqlite:FILE} or
   * {@code jdbc:postgresql://host:port/db?user=..&password=..}.
   */
  public static JdbcEventStore open(String url, StreamsSettings settings, Executor blocking)
      throws SQLException {
    return new JdbcEventStore(url, SqlDialect.of(url), settings.durability, settings.commitWindow,
        settings.maxCommitBatch, settings.maxPendingAppends, settings.readConnections,
        settings.maxStoredBatchBytes, blocking);
  }

  /** Opens a store with explicit parameters (the storage benchmark compares engines with it). */
  public static JdbcEventStore open(String url, Durability durability, Duration commitWindow,
      int maxCommitBatch, Executor blocking) throws SQLException {
    return new JdbcEventStore(url, SqlDialect.of(url), durability, commitWindow, maxCommitBatch,
        100_000, 4, 64 * 1024, blocking);
  }

  private JdbcEventStore(String url, SqlDialect dialect, Durability durability,
      Duration commitWindow, int maxCommitBatch, int maxPendingAppends, int readConnections,
      long maxBatchBytes, Executor blocking) throws SQLException {
    this.url = url;
    this.dialect = dialect;
    this.durability = durability;
    this.commitWindowNanos = commitWindow.toNanos();
    this.maxCommitBatch = maxCommitBatch;
    this.maxBatchBytes = maxBatchBytes;
    this.blocking = blocking;
    this.pending = new ArrayBlockingQueue<>(maxPendingAppends);
    this.maxReaders = readConnections;
    this.readers = new ArrayBlockingQueue<>(readConnections);
    this.writer = DriverManager.getConnection(url);
    try {
      dialect.configureWriter(writer, durability);
      writer.setAutoCommit(false);
      try (Statement s = writer.createStatement()) {
        for (String ddl : dialect.schema) {
          s.execute(ddl);
        }
      }
      writer.commit();
      moveLegacyEvents();
    } catch (SQLException e) {
      writer.close();
      throw e;
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  @Override
  public CompletionStage<Done> append(String streamId, int partition, List<StreamMessage> events) {
    if (events.isEmpty()) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    Append a = new Append(streamId, partition, List.copyOf(events));
    if (closed) {
      a.done.completeExceptionally(new StoreUnavailable("the event store is closed"));
    } else if (!pending.offer(a)) {
      a.done.completeExceptionally(new StoreUnavailable(
          "the event store is overloaded (" + pending.size() + " appends waiting)"));
    } else {
      scheduleCommitter();
    }
    return a.done;
  }

  private void scheduleCommitter() {
    if (committing.compareAndSet(false, true)) {
      blocking.execute(this::commitLoop);
    }
  }

  /** Drains the queue in group commits; exactly one runs at a time (the writer is single). */
  private void commitLoop() {
    try {
      List<Append> group = new ArrayList<>();
      while (true) {
        Append first = pending.poll();
        if (first == null) {
          break;
        }
        group.add(first);
        long deadline = System.nanoTime() + commitWindowNanos;
        while (group.size() < maxCommitBatch) {
          long left = deadline - System.nanoTime();
          Append next = left > 0 ? pending.poll(left, TimeUnit.NANOSECONDS) : pending.poll();
          if (next == null) break;
          group.add(next);
        }
        commitGroup(group);
        group.clear();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      committing.set(false);
      // An append may have queued between the last poll and the flag reset.
      if (!pending.isEmpty()) {
        scheduleCommitter();
      }
    }
  }

  private void commitGroup(List<Append> group) {
    synchronized (writer) {
      commitGroupLocked(group);
    }
  }

  private void commitGroupLocked(List<Append> group) {
    try {
      write(group);
      commits.incrementAndGet();
      appendsCommitted.addAndGet(group.size());
      group.forEach(a -> a.done.complete(Done.getInstance()));
    } catch (SQLException groupFailure) {
      rollbackQuietly();
      if (group.size() == 1) {
        group.get(0).done.completeExceptionally(groupFailure);
        return;
      }
      // Isolate the failing append(s): each on its own.
      for (Append a : group) {
        try {
          write(List.of(a));
          commits.incrementAndGet();
          appendsCommitted.incrementAndGet();
          a.done.complete(Done.getInstance());
        } catch (SQLException e) {
          rollbackQuietly();
          a.done.completeExceptionally(e);
        }
      }
    }
  }

  private void write(List<Append> group) throws SQLException {
    try (PreparedStatement ins = writer.prepareStatement(INSERT)) {
      for (Append a : group) {
        claimOffsets(a);
        addBatches(ins, a.streamId, a.partition, a.events);
      }
      ins.executeBatch();
      writer.commit();
      dialect.afterCommit(writer, durability);
    }
  }

  /**
   * Advances the partition's next offset past the append, in the append's transaction, or fails
   * if any of its offsets is below it: taken already (the partition's writer never leaves a
   * gap, so an offset below the next one was stored, even if it has expired since).
   */
  private void claimOffsets(Append a) throws SQLException {
    long first = a.events.get(0).offset();
    long next = a.events.get(a.events.size() - 1).offset() + 1;
    try (PreparedStatement advance = writer.prepareStatement(ADVANCE)) {
      advance.setLong(1, next);
      advance.setString(2, a.streamId);
      advance.setInt(3, a.partition);
      advance.setLong(4, first);
      if (advance.executeUpdate() == 1) return;
    }
    try (PreparedStatement current = writer.prepareStatement(NEXT)) {
      current.setString(1, a.streamId);
      current.setInt(2, a.partition);
      try (ResultSet rs = current.executeQuery()) {
        if (rs.next()) {
          throw new OffsetTaken("offset " + first + " of stream " + a.streamId + " partition "
              + a.partition + " is taken (the next free offset is " + rs.getLong(1) + ")");
        }
      }
    }
    try (PreparedStatement claim = writer.prepareStatement(FIRST_CLAIM)) {
      claim.setString(1, a.streamId);
      claim.setInt(2, a.partition);
      claim.setLong(3, next);
      claim.executeUpdate();
    }
  }

  /** Adds one partition's events to the insert as rows of at most max-batch-bytes each. */
  private void addBatches(PreparedStatement ins, String streamId, int partition,
      List<StreamMessage> events) throws SQLException {
    int from = 0;
    while (from < events.size()) {
      int to = encoder.encode(events, from, maxBatchBytes);
      long minTs = Long.MAX_VALUE, maxTs = Long.MIN_VALUE;
      long minExpiry = Long.MAX_VALUE, maxExpiry = Long.MIN_VALUE;
      for (int i = from; i < to; i++) {
        StreamMessage m = events.get(i);
        minTs = Math.min(minTs, m.timestamp());
        maxTs = Math.max(maxTs, m.timestamp());
        minExpiry = Math.min(minExpiry, m.expiresAt());
        maxExpiry = Math.max(maxExpiry, m.expiresAt());
      }
      ins.setString(1, streamId);
      ins.setInt(2, partition);
      ins.setLong(3, events.get(from).offset());
      ins.setLong(4, events.get(to - 1).offset());
      ins.setInt(5, to - from);
      ins.setLong(6, minTs);
      ins.setLong(7, maxTs);
      ins.setLong(8, minExpiry);
      ins.setLong(9, maxExpiry);
      ins.setBytes(10, encoder.bytes());
      ins.addBatch();
      from = to;
    }
  }

  /**
   * Stores of an earlier version kept one row per event in {@code stream_events}. Their events
   * move into batches of up to max-batch-bytes (one per run of a partition's offsets), and the
   * old table is dropped, in one transaction: a crash halfway leaves the old table whole and
   * the move starts over at the next open.
   */
  private void moveLegacyEvents() throws SQLException {
    if (dialect == SqlDialect.H2 || !tableExists(SqlDialect.LEGACY_EVENTS)) return;
    log.info("moving the stored events of {} into batches (once; the node starts after it)",
        SqlDialect.LEGACY_EVENTS);
    long moved = 0;
    try (PreparedStatement ins = writer.prepareStatement(INSERT);
        Statement select = writer.createStatement()) {
      select.setFetchSize(1000);
      try (ResultSet rs = select.executeQuery("SELECT stream_id, part_no, event_offset,"
          + " prev_offset, ts, ttl, content FROM " + SqlDialect.LEGACY_EVENTS
          + " ORDER BY stream_id, part_no, event_offset")) {
        List<StreamMessage> run = new ArrayList<>();
        while (rs.next()) {
          long prev = rs.getLong(4);
          Long previous = rs.wasNull() ? null : prev;
          StreamMessage m = new StreamMessage(rs.getString(1), rs.getInt(2), rs.getLong(5),
              rs.getInt(6), rs.getLong(3), previous, rs.getString(7));
          if (!run.isEmpty() && (run.size() == 1000 || !samePartition(run.get(0), m))) {
            addBatches(ins, run.get(0).streamId(), run.get(0).partition(), run);
            ins.executeBatch();
            run.clear();
          }
          run.add(m);
          moved++;
        }
        if (!run.isEmpty()) {
          addBatches(ins, run.get(0).streamId(), run.get(0).partition(), run);
          ins.executeBatch();
        }
      }
      select.execute("DROP TABLE " + SqlDialect.LEGACY_EVENTS);
      writer.commit();
    } catch (SQLException e) {
      rollbackQuietly();
      // Another node sharing the database may have moved them first.
      if (tableExists(SqlDialect.LEGACY_EVENTS)) throw e;
      return;
    }
    log.info("moved {} stored events from {} into batches", moved, SqlDialect.LEGACY_EVENTS);
  }

  private static boolean samePartition(StreamMessage a, StreamMessage b) {
    return a.partition() == b.partition() && a.streamId().equals(b.streamId());
  }

  private boolean tableExists(String table) throws SQLException {
    try (ResultSet rs = writer.getMetaData()
        .getTables(null, writer.getSchema(), table, new String[] {"TABLE"})) {
      return rs.next();
    } finally {
      writer.commit();
    }
  }

  private void rollbackQuietly() {
    try {
      writer.rollback();
    } catch (SQLException e) {
      log.warn("rollback of the event store writer failed: {}", e.toString());
    }
  }

  @Override
  public CompletionStage<Done> deleteStream(String streamId) {
    return onWriter(c -> {
      try (PreparedStatement e = c.prepareStatement("DELETE FROM stream_batches WHERE stream_id = ?");
          PreparedStatement p =
              c.prepareStatement("DELETE FROM stream_partitions WHERE stream_id = ?")) {
        e.setString(1, streamId);
        e.executeUpdate();
        p.setString(1, streamId);
        p.executeUpdate();
      }
      return Done.getInstance();
    });
  }

  @Override
  public CompletionStage<Integer> expire(long nowMillis) {
    // The partition rows stay: offsets continue after all events of a partition expired.
    // A batch whose events have all expired is deleted; one with some left is rewritten with
    // those. In slices of EXPIRY_SLICE batches, each its own transaction, so group commits get
    // the writer between slices instead of waiting for one huge delete.
    return expireSlice(nowMillis, 0);
  }

  private static final int EXPIRY_SLICE = 500;

  private CompletionStage<Integer> expireSlice(long nowMillis, int deletedSoFar) {
    return onWriter(c -> expireOneSlice(c, nowMillis))
        .thenCompose(slice -> slice.batches < EXPIRY_SLICE || slice.changed == 0
            ? CompletableFuture.completedFuture(deletedSoFar + slice.events)
            : expireSlice(nowMillis, deletedSoFar + slice.events));
  }

  private static final class ExpirySlice {
    /** Batches looked at, and of them deleted or rewritten. */
    int batches;
    int changed;
    int events;
  }

  private ExpirySlice expireOneSlice(Connection c, long nowMillis) throws SQLException {
    ExpirySlice slice = new ExpirySlice();
    try (PreparedStatement find = c.prepareStatement(
            "SELECT stream_id, part_no, last_offset, first_offset, event_count, max_expires_at"
                + " FROM stream_batches WHERE min_expires_at < ? LIMIT " + EXPIRY_SLICE);
        // The events of a batch are read only when some of them stay: one that expired whole
        // is deleted by its key.
        PreparedStatement events = c.prepareStatement("SELECT events FROM stream_batches"
            + " WHERE stream_id = ? AND part_no = ? AND last_offset = ?");
        PreparedStatement delete = c.prepareStatement(
            "DELETE FROM stream_batches WHERE stream_id = ? AND part_no = ? AND last_offset = ?");
        PreparedStatement insert = c.prepareStatement(INSERT)) {
      find.setLong(1, nowMillis);
      List<StreamMessage> keep = new ArrayList<>();
      try (ResultSet rs = find.executeQuery()) {
        while (rs.next()) {
          slice.batches++;
          String streamId = rs.getString(1);
          int partition = rs.getInt(2);
          int count = rs.getInt(5);
          keep.clear();
          long lastOffset = rs.getLong(3);
          if (rs.getLong(6) >= nowMillis) {
            try {
              for (StreamMessage m : EventBatch.decodeAll(streamId, partition, rs.getLong(4),
                  batchBytes(events, streamId, partition, lastOffset))) {
                if (m.expiresAt() >= nowMillis) keep.add(m);
              }
            } catch (EventBatch.CorruptBatch e) {
              // Left as it is (its unexpired events cannot be told apart), and deleted once
              // all of them have expired, which needs no decoding.
              log.warn("stored batch of stream {} partition {} up to offset {} is corrupt;"
                  + " expiry leaves it until all its events have expired: {}",
                  streamId, partition, lastOffset, e.getMessage());
              continue;
            }
          }
          slice.changed++;
          delete.setString(1, streamId);
          delete.setInt(2, partition);
          delete.setLong(3, lastOffset);
          delete.addBatch();
          if (!keep.isEmpty()) {
            addBatches(insert, streamId, partition, keep);
          }
          slice.events += count - keep.size();
        }
      }
      if (slice.changed > 0) {
        delete.executeBatch();
        insert.executeBatch();
      }
    }
    return slice;
  }

  /** The stored bytes of the batch with this key. */
  private static byte[] batchBytes(PreparedStatement select, String streamId, int partition,
      long lastOffset) throws SQLException {
    select.setString(1, streamId);
    select.setInt(2, partition);
    select.setLong(3, lastOffset);
    try (ResultSet rs = select.executeQuery()) {
      if (!rs.next()) throw new SQLException("batch of stream " + streamId + " partition "
          + partition + " up to offset " + lastOffset + " vanished during expiry");
      return rs.getBytes(1);
    }
  }

  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs a maintenance write on the writer connection, between group commits. */
  private <T> CompletionStage<T> onWriter(SqlWork<T> work) {
    return CompletableFuture.supplyAsync(() -> {
      synchronized (writer) {
        try {
          T result = work.run(writer);
          writer.commit();
          return result;
        } catch (SQLException e) {
          rollbackQuietly();
          throw new java.util.concurrent.CompletionException(e);
        } catch (RuntimeException e) {
          rollbackQuietly(); // nothing half-done may ride along with the next group commit
          throw e;
        }
      }
    }, blocking);
  }

  // ---- reads --------------------------------------------------------------------------------

  @Override
  public CompletionStage<Long> nextOffset(String streamId, int partition) {
    return onReader(c -> {
      try (PreparedStatement s = c.prepareStatement(NEXT)) {
        s.setString(1, streamId);
        s.setInt(2, partition);
        try (ResultSet rs = s.executeQuery()) {
          return rs.next() ? rs.getLong(1) : 0L;
        }
      }
    });
  }

  @Override
  public CompletionStage<List<StreamMessage>> read(
      String streamId, int partition, EventRange range, int limit) {
    return onReader(c -> {
      List<StreamMessage> out = new ArrayList<>(Math.min(limit, 1024));
      try (PreparedStatement s = c.prepareStatement(SELECT)) {
        long from = range.fromOffset;
        while (out.size() < limit && from <= range.toOffset) {
          s.setString(1, streamId);
          s.setInt(2, partition);
          s.setLong(3, from);
          s.setLong(4, range.toOffset);
          s.setLong(5, range.fromTimestamp);
          s.setLong(6, range.toTimestamp);
          s.setInt(7, BATCHES_PER_QUERY);
          int batches = 0;
          long lastOffset = from;
          try (ResultSet rs = s.executeQuery()) {
            while (rs.next() && out.size() < limit) {
              batches++;
              lastOffset = rs.getLong(2);
              EventBatch.decode(streamId, partition, rs.getLong(1), rs.getBytes(3), range, limit,
                  out);
            }
          }
          if (batches < BATCHES_PER_QUERY || lastOffset == Long.MAX_VALUE) break;
          from = lastOffset + 1;
        }
      } catch (EventBatch.CorruptBatch e) {
        throw new SQLException("a stored batch of stream " + streamId + " partition "
            + partition + " is corrupt: " + e.getMessage(), e);
      }
      return out;
    });
  }

  private <T> CompletionStage<T> onReader(SqlWork<T> work) {
    return CompletableFuture.supplyAsync(() -> {
      Connection c = null;
      try {
        c = borrowReader();
        T result = work.run(c);
        if (!c.getAutoCommit()) c.commit();
        return result;
      } catch (SQLException e) {
        if (c != null) {
          closeQuietly(c);
          readersOpened.decrementAndGet();
          c = null;
        }
        throw new java.util.concurrent.CompletionException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.util.concurrent.CompletionException(e);
      } finally {
        if (c != null && !readers.offer(c)) {
          closeQuietly(c);
        }
      }
    }, blocking);
  }

  private Connection borrowReader() throws SQLException, InterruptedException {
    if (closed) throw new StoreUnavailable("the event store is closed");
    Connection c = readers.poll();
    if (c != null) return c;
    if (readersOpened.incrementAndGet() <= maxReaders) {
      try {
        Connection fresh = DriverManager.getConnection(url);
        dialect.configureReader(fresh);
        return fresh;
      } catch (SQLException e) {
        readersOpened.decrementAndGet();
        throw e;
      }
    }
    readersOpened.decrementAndGet();
    return readers.take();
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing a broken connection; nothing to do
    }
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Group commits made so far. */
  public long commits() {
    return commits.get();
  }

  /** Appends those commits carried. */
  public long appendsCommitted() {
    return appendsCommitted.get();
  }

  /** Stops taking appends, commits the queued ones, closes connections. */
  @Override
  public void close() {
    closed = true;
    // Commit what is queued ourselves; a group the committer is writing finishes first
    // (both hold the writer's lock).
    List<Append> rest = new ArrayList<>();
    while (pending.drainTo(rest, maxCommitBatch) > 0) {
      commitGroup(rest);
      rest.clear();
    }
    synchronized (writer) {
      closeQuietly(writer);
    }
    Connection r;
    while ((r = readers.poll()) != null) {
      closeQuietly(r);
    }
  }

  /** An append's offsets are below the partition's next offset: stored already. */
  public static final class OffsetTaken extends SQLException {
    public OffsetTaken(String message) {
      super(message);
    }
  }

  /** The store cannot take the request now (closed, overloaded); the caller may retry later. */
  public static final class StoreUnavailable extends SQLException {
    public StoreUnavailable(String message) {
      super(message);
    }
  }
}
