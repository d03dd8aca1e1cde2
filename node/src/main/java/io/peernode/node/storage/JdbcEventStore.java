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
      "INSERT INTO stream_events (stream_id, part_no, event_offset, prev_offset, ts, ttl,"
          + " expires_at, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  private static final String SELECT =
      "SELECT event_offset, prev_offset, ts, ttl, content FROM stream_events"
          + " WHERE stream_id = ? AND part_no = ? AND event_offset >= ? AND event_offset <= ?"
          + " AND ts >= ? AND ts <= ? ORDER BY event_offset LIMIT ?";

  private final String url;
  private final SqlDialect dialect;
  private final Durability durability;
  private final long commitWindowNanos;
  private final int maxCommitBatch;
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
        settings.maxCommitBatch, settings.maxPendingAppends, settings.readConnections, blocking);
  }

  /** Opens a store with explicit parameters (the storage benchmark compares engines with it). */
  public static JdbcEventStore open(String url, Durability durability, Duration commitWindow,
      int maxCommitBatch, Executor blocking) throws SQLException {
    return new JdbcEventStore(url, SqlDialect.of(url), durability, commitWindow, maxCommitBatch,
        100_000, 4, blocking);
  }

  private JdbcEventStore(String url, SqlDialect dialect, Durability durability,
      Duration commitWindow, int maxCommitBatch, int maxPendingAppends, int readConnections,
      Executor blocking) throws SQLException {
    this.url = url;
    this.dialect = dialect;
    this.durability = durability;
    this.commitWindowNanos = commitWindow.toNanos();
    this.maxCommitBatch = maxCommitBatch;
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
    try (PreparedStatement ins = writer.prepareStatement(INSERT);
        PreparedStatement next = writer.prepareStatement(dialect.upsertNextOffset)) {
      for (Append a : group) {
        for (StreamMessage m : a.events) {
          ins.setString(1, m.streamId());
          ins.setInt(2, m.partition());
          ins.setLong(3, m.offset());
          if (m.previousOffset() == null) {
            ins.setNull(4, java.sql.Types.BIGINT);
          } else {
            ins.setLong(4, m.previousOffset());
          }
          ins.setLong(5, m.timestamp());
          ins.setInt(6, m.ttl());
          ins.setLong(7, m.expiresAt());
          ins.setString(8, m.content());
          ins.addBatch();
        }
        StreamMessage last = a.events.get(a.events.size() - 1);
        next.setString(1, a.streamId);
        next.setInt(2, a.partition);
        next.setLong(3, last.offset() + 1);
        next.addBatch();
      }
      ins.executeBatch();
      next.executeBatch();
      writer.commit();
      dialect.afterCommit(writer, durability);
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
      try (PreparedStatement e = c.prepareStatement("DELETE FROM stream_events WHERE stream_id = ?");
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
    // Deleted in slices of EXPIRY_SLICE rows, each its own transaction, so group commits get
    // the writer between slices instead of waiting for one huge delete.
    return expireSlice(nowMillis, 0);
  }

  private static final int EXPIRY_SLICE = 10_000;

  private CompletionStage<Integer> expireSlice(long nowMillis, int deletedSoFar) {
    return onWriter(c -> {
      try (PreparedStatement d = c.prepareStatement(
          "DELETE FROM stream_events WHERE (stream_id, part_no, event_offset) IN"
              + " (SELECT stream_id, part_no, event_offset FROM stream_events"
              + " WHERE expires_at < ? LIMIT " + EXPIRY_SLICE + ")")) {
        d.setLong(1, nowMillis);
        return d.executeUpdate();
      }
    }).thenCompose(n -> n < EXPIRY_SLICE
        ? CompletableFuture.completedFuture(deletedSoFar + n)
        : expireSlice(nowMillis, deletedSoFar + n));
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
        }
      }
    }, blocking);
  }

  // ---- reads --------------------------------------------------------------------------------

  @Override
  public CompletionStage<Long> nextOffset(String streamId, int partition) {
    return onReader(c -> {
      try (PreparedStatement s = c.prepareStatement(
          "SELECT next_offset FROM stream_partitions WHERE stream_id = ? AND part_no = ?")) {
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
      try (PreparedStatement s = c.prepareStatement(SELECT)) {
        s.setString(1, streamId);
        s.setInt(2, partition);
        s.setLong(3, range.fromOffset);
        s.setLong(4, range.toOffset);
        s.setLong(5, range.fromTimestamp);
        s.setLong(6, range.toTimestamp);
        s.setInt(7, limit);
        List<StreamMessage> out = new ArrayList<>(Math.min(limit, 1024));
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            long prev = rs.getLong(2);
            Long previous = rs.wasNull() ? null : prev;
            out.add(new StreamMessage(streamId, partition, rs.getLong(3), rs.getInt(4),
                rs.getLong(1), previous, rs.getString(5)));
          }
        }
        return out;
      }
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

  /** The store cannot take the request now (closed, overloaded); the caller may retry later. */
  public static final class StoreUnavailable extends SQLException {
    public StoreUnavailable(String message) {
      super(message);
    }
  }
}
