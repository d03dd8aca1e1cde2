package io.peernode.actors.sync;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.Materializer;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import io.peernode.actors.sync.FrameStreams.In;
import io.peernode.actors.sync.FrameStreams.InBroken;
import io.peernode.actors.sync.FrameStreams.InFrame;
import io.peernode.actors.sync.FrameStreams.Out;
import io.peernode.actors.sync.FrameStreams.OutClose;
import io.peernode.actors.sync.FrameStreams.StreamAck;
import io.peernode.protocol.Hex;
import io.peernode.protocol.sync.CommandException;
import io.peernode.protocol.sync.FrameException;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncMessage;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.peernode.protocol.sync.SyncMessage.DataType;
import io.peernode.protocol.sync.TreeWalk;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client-side sync transfer (a pull or a push of one file over one TCP connection).
 *
 * <p>Owns: the connection's streams, the local file (read for hashing and pushing), and for a pull
 * the local staging copy ({@code .<name>.peer-sync-<uuid>.part} beside the file), locked (an OS
 * file lock) while it lives. A pull removes the staging copies of earlier pulls of the same file
 * that nobody locks any more: those of a client that was killed.
 *
 * <p>Receives: the server's responses (one outstanding request at a time), acks of its outbound
 * stream, and results of file work done on the blocking dispatcher.
 *
 * <p>Guarantees: walks the trees top-down a whole level per round, moves only the blocks that
 * differ, and for a pull replaces the local file only by an atomic rename after the staging copy
 * hashes to the server's root; on any failure the local file is untouched and the staging copy
 * removed. Completes its future exactly once, then stops.
 *
 * <p>Work that does not depend on the other side runs beside it: {@code init} goes out as soon as
 * the local file is opened, so both sides hash their copies at the same time (while this side is
 * still hashing after the server's {@code init}, a {@code req hash [0]} every
 * {@code client.keep-alive} keeps the session from the server's idle timeout); a pull makes its
 * staging copy while it hashes ({@code client.stage-while-hashing}; dropped unflushed if the copies
 * are equal) and flushes it while the blocks move; data answers are written and hashed on the
 * blocking dispatcher while the next ones arrive, at most {@code client.pipeline} batches held.
 */
public final class SyncClientSession extends AbstractBehavior<SyncClientSession.Command> {

  public interface Command {}

  /**
   * What to do. {@code remotePath} is the server-side name, {@code localPath} the local file.
   * {@code headStart}: the connection, {@code init}, the local file's opening and the staging
   * copy, already begun for this pull (null: the session begins them itself).
   */
  public record Request(Action action, String host, int port, String remotePath, Path localPath,
      int blockSize, SyncSettings settings, SyncProgress progress, PullHeadStart headStart) {}

  private record InInit(ActorRef<StreamAck> ack) implements Command {}

  private record InElem(ActorRef<StreamAck> ack, In item) implements Command {}

  private enum InDone implements Command { INSTANCE }

  private record InFailed(Throwable cause) implements Command {}

  private enum OutReady implements Command { INSTANCE }

  private enum Connected implements Command { INSTANCE }

  private record ConnectFailed(Throwable cause) implements Command {}

  /**
   * The local file opened; {@code version}: its identity, size and mtime, as of {@code openedAt}
   * or later; {@code cached}: its tree from the tree cache (null: to be hashed, {@code cacheMiss}
   * says why, {@code cacheDamaged} when an entry was there but unreadable).
   */
  record LocalOpened(long size, boolean exists, FileChannel channel, FileVersion version,
      Path realPath, java.time.Instant openedAt, HashTree cached, String cacheMiss, boolean cacheDamaged)
      implements Command {}

  /** The local tree; {@code unchanged}: the file kept its version while it was hashed. */
  private record LocalHashed(HashTree tree, boolean unchanged) implements Command {}

  /** {@code copyIsHashed}: the copied bytes are the ones hashed at the start. */
  record StagingReady(Path staging, FileChannel channel, boolean copyIsHashed)
      implements Command {}

  /** The head start made no staging copy (no local file, or staging while hashing is off). */
  private enum NoHeadStartStaging implements Command { INSTANCE }

  /** Work on the blocking dispatcher that does not hold back the inbound stream has landed. */
  private record BackgroundFailed(String msg) implements Command {}

  private record Written(int[] blocks, byte[] hashes) implements Command {}

  private record WriteFailed(String msg) implements Command {}

  private record StagingFailed(String msg) implements Command {}

  /** A discarded staging copy is deleted (the actor stays until then, so it is never left). */
  private enum StagingDeleted implements Command { INSTANCE }

  private enum Committed implements Command { INSTANCE }

  private record IoFailed(String msg) implements Command {}

  private enum Timeout implements Command { INSTANCE }

  private enum KeepAlive implements Command { INSTANCE }

  /**
   * OPENING: the local file is being opened; AWAIT_INIT: init sent, the local file hashing
   * meanwhile; LOCAL_HASH: the server's init is here, the local tree not yet; STAGING: the walk is
   * done, the staging copy not yet.
   */
  private enum State { OPENING, AWAIT_INIT, LOCAL_HASH, WALK, STAGING, DATA, VERIFY, AWAIT_END, DONE }

  /** A staging copy unchanged for this long and locked by nobody is an abandoned one. */
  private static final Duration ABANDONED_AFTER = Duration.ofSeconds(10);

  public static Behavior<Command> create(Request request, CompletableFuture<SyncResult> result,
      Executor blocking) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SyncClientSession(ctx, timers, request, result, blocking)));
  }

  private final TimerScheduler<Command> timers;
  private final Request req;
  private final SyncSettings settings;
  private final CompletableFuture<SyncResult> result;
  private final Executor blocking;
  /** The client's tree cache; null when off. */
  private final LocalTreeCache treeCache;
  /** Made when connecting: a stream made earlier would time out while the local file is hashed. */
  private FrameStreams.Outbound outbound;
  /** The socket of {@code client.transport = blocking}; null with Akka's TCP. */
  private BlockingConnection blockingConnection;
  private final akka.stream.javadsl.Sink<akka.util.ByteString, akka.NotUsed> inSink;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final long startNanos = System.nanoTime();
  private ActorRef<StreamAck> pendingAck;
  /** File work that holds back the inbound stream (the commit) is running. */
  private boolean busy;
  /**
   * Data answers being written to the staging copy (and hashed) on the blocking dispatcher. They
   * do not hold back the inbound stream: the next answer arrives while one is written, and
   * several are written at once. Counted with the requests outstanding against
   * {@code client.pipeline}, so no more than that many batches are held at a time.
   */
  private int writesInFlight;
  /** File work beside the conversation (opening, hashing, staging) still running. */
  private int background;
  private long wireAtLastTick;
  private State state = State.OPENING;
  private boolean connected;
  /** The server's init is here (its size, blocks and root are kept below). */
  private boolean serverInitHere;
  /** Keep-alive {@code req hash [0]} sent and not answered yet. */
  private int keepAlivesUnanswered;

  private HashTree localTree;
  private long localSize;
  private boolean localExists;
  private FileVersion localVersion;
  /** The local file's real path (the tree cache's key); null when there is no local file. */
  private Path localRealPath;
  private java.time.Instant localOpenedAt;
  /** The local tree came from the tree cache. */
  private boolean localTreeCached;
  /** Leaf hashes of the staging copy in the server's layout, when they can be known without re-reading it. */
  private byte[] stagingLeaves;
  private FileChannel localChannel;
  private long remoteSize;
  private long remoteBlocks;
  private String remoteRoot;
  private TreeWalk walk;
  private int[] level;
  private int levelPos;
  private int[] inFlight;
  /** Data batches asked for (pull) or sent (push) and not yet answered, oldest first. */
  private final ArrayDeque<int[]> batches = new ArrayDeque<>();
  private int[] todo = new int[0];
  private int todoPos;
  private long blocksTransferred;
  private long levels;
  private Path staging;
  private FileChannel stagingChannel;
  private boolean stagingStarted;
  /** A head start's staging copy that landed before the local file's opening was taken in. */
  private StagingReady stagingBeforeOpened;
  /** The copies differ: the staging copy will be filled and committed. */
  private boolean stagingNeeded;
  /** The copies turned out equal after the staging copy was started: it goes. */
  private boolean stagingDiscarded;
  private boolean stagingFlushStarted;
  /** Done when a discarded staging copy is deleted: the result waits for it, so none is left behind. */
  private CompletableFuture<Void> stagingGone = CompletableFuture.completedFuture(null);
  /** Set when the transfer is over or the staging copy discarded, so a copy still being made stops early. */
  private final java.util.concurrent.atomic.AtomicBoolean stagingStop;
  private boolean stagingCopyIsHashed;
  /** Bytes of the local file the staging copy takes: all, until the server's size is known. */
  private final AtomicLong stagingCopyLimit;
  /**
   * The flush of the copied bytes, started when the copy is there and running while the blocks
   * move, so the commit's fsync has little left to write; the commit waits for it.
   */
  private CompletableFuture<Void> stagingFlush = CompletableFuture.completedFuture(null);

  private SyncClientSession(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      Request req, CompletableFuture<SyncResult> result, Executor blocking) {
    super(ctx);
    this.timers = timers;
    this.req = req;
    this.settings = req.settings();
    this.result = result;
    this.blocking = blocking;
    this.treeCache = LocalTreeCache.of(settings);
    var inbound = FrameStreams.decoder(settings.maxJsonBytes, settings.maxBinBytes, received::addAndGet)
        .to(ActorSink.<In, Command, StreamAck>actorRefWithBackpressure(
            ctx.getSelf(), InElem::new, InInit::new, StreamAck.INSTANCE, InDone.INSTANCE,
            InFailed::new));
    this.inSink = inbound;
    PullHeadStart h = req.headStart();
    stagingStop = h != null ? h.stagingStop : new java.util.concurrent.atomic.AtomicBoolean();
    stagingCopyLimit = h != null ? h.stagingCopyLimit : new AtomicLong(Long.MAX_VALUE);
    if (h != null) {
      blockingConnection = h.connection; // closed at the stop, used or not
      sent.addAndGet(h.initBytes);
    }
    arm();
    background++;
    CompletableFuture<LocalOpened> opened = req.headStart() != null ? req.headStart().opened
        : openLocal(req.localPath(), req.action(), req.blockSize(), settings, treeCache, blocking);
    getContext().pipeToSelf(opened, (r, t) -> t == null ? r : new BackgroundFailed(message(t)));
    if (h != null) {
      // Adopted at once, so that a copy made by the head start is cleaned up whatever happens;
      // it lands after the opening (it starts after it), when there is one.
      background++;
      getContext().pipeToSelf(h.staging, (r, t) -> t != null
          ? new StagingFailed("cannot stage the local copy: " + message(t))
          : r != null ? r : NoHeadStartStaging.INSTANCE);
    }
  }

  private Behavior<Command> connectFailed(Throwable cause) {
    return fail(0, "cannot connect to " + req.host() + ":" + req.port() + ": " + message(cause));
  }

  /** Connects once the local file is open: its size and block count are all init needs. */
  private void connect() {
    Materializer mat = Materializer.matFromSystem(getContext().getSystem());
    var outStream = FrameStreams.outbound(getContext().getSelf(), OutReady.INSTANCE, mat, sent::addAndGet);
    outbound = new FrameStreams.Outbound(outStream.first());
    java.util.concurrent.CompletionStage<?> connected;
    if (settings.clientBlockingTransport) {
      if (blockingConnection == null) {
        blockingConnection = BlockingConnection.open(req.host(), req.port(), settings.clientTimeout, blocking);
      }
      connected = blockingConnection.connected();
      outStream.second()
          .via(blockingConnection.flow(settings.clientBlockingReadBytes, settings.clientBlockingReadAhead))
          .to(inSink).run(mat);
    } else {
      var connection = Tcp.get(getContext().getSystem()).outgoingConnection(
          InetSocketAddress.createUnresolved(req.host(), req.port()), Optional.empty(), List.of(),
          true, Optional.of(settings.clientTimeout), Optional.empty());
      connected = outStream.second().viaMat(connection, Keep.right()).to(inSink).run(mat);
    }
    getContext().pipeToSelf(connected, (c, t) -> t == null ? Connected.INSTANCE : new ConnectFailed(t));
  }

  /** (Re)starts the answer timer; answers that may need the server to hash a whole file get longer. */
  private void arm() {
    if (state == State.DONE) {
      return; // finish() set the short timer that stops us
    }
    timers.startSingleTimer(Timeout.INSTANCE,
        state == State.AWAIT_INIT || state == State.AWAIT_END || state == State.LOCAL_HASH
            ? settings.clientHashTimeout : settings.clientTimeout);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(InInit.class, m -> {
          pendingAck = m.ack();
          maybeAckInbound();
          return this;
        })
        .onMessage(InElem.class, this::onInbound)
        .onMessageEquals(OutReady.INSTANCE, this::onOutReady)
        .onMessageEquals(InDone.INSTANCE, this::onInboundDone)
        // A refused connect fails the inbound stream too, and either report may come first.
        .onMessage(InFailed.class, m -> connected
            ? fail(0, "connection failed: " + m.cause().getMessage())
            : connectFailed(m.cause()))
        .onMessageEquals(Connected.INSTANCE, () -> {
          connected = true;
          return this;
        })
        .onMessage(ConnectFailed.class, m -> connectFailed(m.cause()))
        .onMessage(LocalOpened.class, this::onLocalOpened)
        .onMessage(LocalHashed.class, this::onLocalHashed)
        .onMessage(StagingReady.class, this::onStagingReady)
        .onMessage(BackgroundFailed.class, m -> {
          background--;
          return fail(0, m.msg());
        })
        .onMessageEquals(KeepAlive.INSTANCE, this::onKeepAlive)
        .onMessage(Written.class, this::onWritten)
        .onMessage(StagingFailed.class, m -> {
          background--;
          if (state == State.DONE) {
            stagingGone.complete(null);
            return working() ? this : Behaviors.stopped();
          }
          if (stagingDiscarded) {
            stagingGone.complete(null); // stopped, and deleted by the task itself
            return this;
          }
          return fail(0, m.msg());
        })
        .onMessageEquals(NoHeadStartStaging.INSTANCE, () -> {
          background--;
          return this;
        })
        .onMessageEquals(StagingDeleted.INSTANCE, () -> {
          background--;
          return this; // the result completed with the deletion; a timer stops a finished session
        })
        .onMessage(WriteFailed.class, m -> {
          writesInFlight--;
          return fail(0, m.msg());
        })
        .onMessageEquals(Committed.INSTANCE, this::onCommitted)
        .onMessage(IoFailed.class, m -> {
          busy = false; // the work that failed is over
          return fail(0, m.msg());
        })
        .onMessageEquals(Timeout.INSTANCE, this::onTimeout)
        .onSignal(PostStop.class, s -> cleanUp())
        .build();
  }

  // ---- local file ----

  /**
   * Opens the local file on {@code executor} and looks its tree up in {@code cache} (null: none),
   * checking a cached tree against a few of the file's blocks.
   */
  static CompletableFuture<LocalOpened> openLocal(Path path, Action action, int bs,
      SyncSettings settings, LocalTreeCache cache, Executor executor) {
    boolean push = action == Action.PUSH;
    long maxLeaves = settings.maxTreeLeaves;
    return CompletableFuture.supplyAsync(() -> {
      try {
        if (!Files.isRegularFile(path)) {
          if (push || Files.exists(path)) {
            throw new IOException("not a regular file: " + path);
          }
          return new LocalOpened(0, false, null, null, null, null, null, "no local file", false);
        }
        // Taken before the first look at the file: content read from here on is at least this new.
        java.time.Instant openedAt = java.time.Instant.now();
        Path real = path.toRealPath();
        FileVersion version = FileVersion.of(real);
        FileChannel ch = FileChannel.open(real, StandardOpenOption.READ);
        long size = ch.size();
        if (HashTree.blockCount(size, bs) > maxLeaves) {
          ch.close();
          throw new IOException("too many blocks at block size " + bs + "; use a larger one");
        }
        LocalTreeCache.Lookup hit = cache == null || size != version.size()
            ? LocalTreeCache.Lookup.miss("no tree cache") : cache.lookup(real, bs, version);
        HashTree cached = hit.tree();
        String miss = hit.miss();
        if (cached != null && !(LocalTreeCache.spotCheck(ch, size, bs, cached,
            settings.clientTreeCacheSpotCheckBlocks, settings.ioChunkBytes) && version.equals(FileVersion.of(real)))) {
          cache.forget(real, bs);
          cached = null;
          miss = "the file's blocks differ from its cached tree";
        }
        return new LocalOpened(size, true, ch, version, real, openedAt, cached, miss, hit.damaged());
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, executor);
  }

  private Behavior<Command> onLocalOpened(LocalOpened r) {
    background--;
    localChannel = r.channel(); // closed at stop in any case
    if (state == State.DONE) {
      takeStagingBeforeOpened(); // cleaned up
      return this;
    }
    localSize = r.size();
    localExists = r.exists();
    localVersion = r.version();
    localRealPath = r.realPath();
    localOpenedAt = r.openedAt();
    if (r.cacheDamaged()) {
      getContext().getLog().warn("tree cache: ignored {} of {}", r.cacheMiss(), req.localPath());
    }
    state = State.AWAIT_INIT;
    connect();
    arm();
    if (req.headStart() == null) { // else sent already
      send(new SyncMessage.Init(SyncMessage.VERSION, req.action(), req.remotePath(),
          req.blockSize(), HashTree.blockCount(localSize, req.blockSize()), localSize));
    }
    if (!localExists) {
      return localTreeReady(HashTree.fromLeafHashes(0, new byte[0]), true);
    }
    if (r.cached() == null) {
      hashLocal();
    }
    if (req.headStart() != null && req.headStart().stagesWhileOpening(r)) {
      stagingStarted = true; // by the head start, adopted at the start
      takeStagingBeforeOpened();
    } else if (req.action() == Action.PULL && settings.clientStageWhileHashing) {
      stage(); // speculative: dropped if the copies turn out equal
    }
    if (r.cached() != null) {
      localTreeCached = true;
      return localTreeReady(r.cached(), true);
    }
    return this;
  }

  private void takeStagingBeforeOpened() {
    StagingReady r = stagingBeforeOpened;
    if (r != null) {
      stagingBeforeOpened = null;
      onStagingReady(r);
    }
  }

  /**
   * Hashes the open local file while the server hashes its own, and records its tree in the tree
   * cache when the file kept its version throughout.
   */
  private void hashLocal() {
    FileChannel ch = localChannel;
    Path path = localRealPath;
    long size = localSize;
    int bs = req.blockSize();
    FileVersion before = localVersion;
    java.time.Instant openedAt = localOpenedAt;
    LocalTreeCache cache = treeCache;
    background++;
    CompletableFuture<LocalHashed> f = CompletableFuture.supplyAsync(() -> {
      try {
        HashTree t = SyncStore.hash(ch, size, bs, settings.ioChunkBytes, settings.hashThreads, blocking);
        boolean unchanged = before.equals(FileVersion.of(path));
        if (unchanged && cache != null) {
          cache.record(path, bs, before, openedAt, t);
        }
        return new LocalHashed(t, unchanged);
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(f, (r, t) -> t == null ? r : new BackgroundFailed(message(t)));
  }

  private Behavior<Command> onLocalHashed(LocalHashed r) {
    background--;
    return localTreeReady(r.tree(), r.unchanged());
  }

  /** The local tree is known (hashed, from the cache, or empty): compare once the server's init is here. */
  private Behavior<Command> localTreeReady(HashTree tree, boolean unchanged) {
    if (state == State.DONE) {
      return this;
    }
    localTree = tree;
    if (!unchanged) {
      localVersion = null;
    }
    if (req.action() == Action.PULL && localChannel != null) {
      try {
        localChannel.close(); // a pull reads its local file only to hash and to copy it by name
      } catch (IOException ignored) {
        // read-only
      }
      localChannel = null;
    }
    req.progress().onProgress(SyncProgress.Phase.HASH, localTree.blockCount(),
        localTree.blockCount(), wire());
    if (!serverInitHere) {
      return this; // the server's init is still to come (state AWAIT_INIT)
    }
    timers.cancel(KeepAlive.INSTANCE);
    Behavior<Command> b = compare();
    arm();
    maybeAckInbound();
    return b;
  }

  private Behavior<Command> onKeepAlive() {
    if (state == State.LOCAL_HASH) {
      keepAlivesUnanswered++;
      send(new SyncMessage.Req(DataType.HASH, new int[] {0}));
    }
    return this;
  }

  // ---- inbound ----

  private Behavior<Command> onInbound(InElem m) {
    pendingAck = m.ack();
    if (state == State.DONE) {
      return this;
    }
    if (m.item() instanceof InBroken b) {
      return fail(0, "bad frame from the server: " + b.reason());
    }
    SyncMessage msg;
    try {
      msg = SyncMessage.parseResponse(((InFrame) m.item()).frame());
    } catch (FrameException | CommandException e) {
      return fail(0, "bad response from the server: " + e.getMessage());
    }
    if (msg instanceof SyncMessage.Deny d) {
      return fail(d.status(), "refused (" + d.status() + "): " + d.msg(), d.retry());
    }
    if (msg instanceof SyncMessage.Err e) {
      return fail(0, "server error: " + e.msg());
    }
    if (keepAlivesUnanswered > 0 && msg instanceof SyncMessage.Send s
        && s.dataType() == DataType.HASH && Arrays.equals(s.index(), new int[] {0})) {
      // Answers come in order: those of the keep-alives come before any later request's.
      keepAlivesUnanswered--;
      arm();
      maybeAckInbound();
      return this;
    }
    Behavior<Command> next = switch (state) {
      case AWAIT_INIT -> msg instanceof SyncMessage.InitReply r ? onInitReply(r) : unexpected(msg);
      case WALK -> msg instanceof SyncMessage.Send s && s.dataType() == DataType.HASH
          ? onHashes(s) : unexpected(msg);
      case DATA -> req.action() == Action.PULL
          ? (msg instanceof SyncMessage.Send s && s.dataType() == DataType.DATA ? onData(s) : unexpected(msg))
          : (msg instanceof SyncMessage.Ack ? onAck() : unexpected(msg));
      case AWAIT_END -> msg instanceof SyncMessage.EndReply ? onEndReply() : unexpected(msg);
      default -> unexpected(msg);
    };
    arm();
    maybeAckInbound();
    return next;
  }

  private Behavior<Command> unexpected(SyncMessage msg) {
    return fail(0, "unexpected " + msg.command() + " from the server in state " + state);
  }

  private Behavior<Command> onInitReply(SyncMessage.InitReply r) {
    if (r.version()[0] != SyncMessage.VERSION[0]) {
      return fail(426, "the server speaks an incompatible version " + r.version()[0]);
    }
    if (r.blockSize() != req.blockSize()) {
      return fail(0, "the server answered with block size " + r.blockSize());
    }
    remoteSize = r.size();
    stagingCopyLimit.set(remoteSize);
    remoteBlocks = r.blockCount();
    remoteRoot = r.root();
    try {
      byte[] root = Hex.decode(remoteRoot);
      if (root.length != HashTree.HASH_BYTES
          || HashTree.blockCount(remoteSize, req.blockSize()) != remoteBlocks
          || remoteBlocks > settings.maxTreeLeaves) {
        throw new IllegalArgumentException("inconsistent");
      }
    } catch (IllegalArgumentException e) {
      return fail(0, "the server's init is inconsistent (size, blockCount, root)");
    }
    serverInitHere = true;
    if (localTree == null) {
      // Still hashing: compare when the local tree is there, keeping the session alive meanwhile.
      state = State.LOCAL_HASH;
      Duration every = settings.clientKeepAlive;
      timers.startTimerWithFixedDelay(KeepAlive.INSTANCE, every, every);
      return this;
    }
    return compare();
  }

  /** The server's init against the local tree: nothing to do, a transfer of all, or a walk. */
  private Behavior<Command> compare() {
    byte[] root = Hex.decode(remoteRoot);
    int remoteLeaves = HashTree.leafCount(remoteBlocks);
    boolean pull = req.action() == Action.PULL;
    if (pull && localExists) {
      if (localSize == remoteSize && localTree.rootHex().equalsIgnoreCase(remoteRoot)) {
        discardStaging();
      } else {
        needStaging(); // the copies differ: a staging copy is needed, made while the walk goes on
      }
    }
    // Lay our leaves out in the server's tree shape so heap indices mean the same on both sides.
    long keep = pull ? Math.min(localTree.blockCount(), remoteBlocks) : localTree.blockCount();
    if (pull ? keep == 0 : remoteBlocks == 0) {
      // Nothing in common to compare: every block of the source moves, no tree walk needed.
      long count = pull ? remoteBlocks : localTree.blockCount();
      int[] all = new int[(int) count];
      for (int j = 0; j < all.length; j++) {
        all[j] = j;
      }
      return transfer(all);
    }
    walk = new TreeWalk(localTree.project(remoteLeaves, keep), root);
    state = State.WALK;
    return nextHashes();
  }

  private Behavior<Command> nextHashes() {
    if (level == null || levelPos == level.length) {
      if (walk.done()) {
        return walkDone();
      }
      level = walk.nextLevel();
      levelPos = 0;
      levels++;
      req.progress().onProgress(SyncProgress.Phase.COMPARE, levels, 0, wire());
    }
    inFlight = Arrays.copyOfRange(level, levelPos, Math.min(level.length, levelPos + settings.maxIndices));
    send(new SyncMessage.Req(DataType.HASH, inFlight));
    return this;
  }

  private Behavior<Command> onHashes(SyncMessage.Send s) {
    if (!Arrays.equals(s.index(), inFlight) || s.body().length() != inFlight.length * HashTree.HASH_BYTES) {
      return fail(0, "the server sent hashes for other nodes than asked");
    }
    walk.onHashes(inFlight, s.payload());
    levelPos += inFlight.length;
    return nextHashes();
  }

  private Behavior<Command> walkDone() {
    level = null;
    boolean pull = req.action() == Action.PULL;
    int remoteLeaves = HashTree.leafCount(remoteBlocks);
    List<Integer> blocks = new ArrayList<>();
    for (int j : walk.differingLeaves()) {
      if (j < (pull ? remoteBlocks : localTree.blockCount())) {
        blocks.add(j);
      }
    }
    if (!pull) {
      // Blocks beyond the server's tree shape are new to it: all of them go.
      for (long j = remoteLeaves; j < localTree.blockCount(); j++) {
        blocks.add((int) j);
      }
    }
    return transfer(blocks.stream().mapToInt(Integer::intValue).toArray());
  }

  /** Moves {@code blocks} (ascending): the data phase of a pull or a push. */
  private Behavior<Command> transfer(int[] blocks) {
    boolean pull = req.action() == Action.PULL;
    todo = blocks;
    todoPos = 0;
    if (pull) {
      if (todo.length == 0 && localSize == remoteSize && localExists && !stagingNeeded) {
        return end(); // identical
      }
      state = State.STAGING;
      needStaging();
      return stagingChannel != null ? startPullData() : this;
    }
    state = State.DATA;
    return nextPushBatch();
  }

  // ---- pull: staging, data, verify ----

  /**
   * Makes the staging copy beside the local file on the blocking dispatcher: a copy of the local
   * file (or an empty file), resized to the server's size at the commit. With
   * {@code client.stage-while-hashing} it starts as soon as the local file is open, beside its
   * hashing, and is dropped if the copies turn out equal. Its flush runs while the blocks move
   * ({@link #stagingFlush}), so the commit's fsync has little left to write.
   */
  private void stage() {
    stagingStarted = true;
    // A copy made while hashing copies all of the local file, unless the server's init comes
    // meanwhile: then no more than its size (a large local file of a small remote one).
    if (serverInitHere) {
      stagingCopyLimit.set(remoteSize);
    }
    adoptStaging(startStaging(req.localPath(), stagingCopyLimit, localExists, localVersion,
        stagingStop, settings.clientDirectStagingCopyChunk, blocking));
  }

  /** The staging copy being made by {@code f} is this session's: it lands here, and is cleaned up. */
  private void adoptStaging(CompletableFuture<StagingReady> f) {
    background++;
    getContext().pipeToSelf(f, (r, t) -> t == null ? r
        : new StagingFailed("cannot stage the local copy: " + message(t)));
  }

  /**
   * Makes a staging copy beside {@code localPath} on {@code executor}: a copy of at most
   * {@code limit} bytes of the local file when it {@code exists} (the limit may drop meanwhile),
   * else an empty file; stops early, failing, once {@code stop} is set. {@code directChunk}:
   * the piece size of a copy past the page cache ({@link #copyDirect}), 0 for the in-kernel
   * copy. {@code hashedVersion}: the version of the local file its tree describes, to tell
   * whether the copy has those bytes.
   */
  static CompletableFuture<StagingReady> startStaging(Path localPath, AtomicLong limit,
      boolean exists, FileVersion hashedVersion, java.util.concurrent.atomic.AtomicBoolean stop,
      int directChunk, Executor executor) {
    Path local = localPath.toAbsolutePath();
    AtomicLong size = limit;
    return CompletableFuture.supplyAsync(() -> {
      Path s = null;
      FileChannel ch = null;
      try {
        Files.createDirectories(local.getParent());
        removeAbandonedStaging(local);
        s = local.resolveSibling(stagingPrefix(local) + UUID.randomUUID() + ".part");
        boolean copyIsHashed = !exists;
        ch = FileChannel.open(s, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        ch.lock(); // held until the channel closes: at the commit, the clean-up or the process's end
        if (exists) {
          copyPermissions(local, s);
          if (directChunk <= 0 || !copyDirect(local, s, ch, size, stop, directChunk)) {
            copy(local, ch, size, stop);
          }
          copyIsHashed = hashedVersion != null && hashedVersion.equals(FileVersion.of(local));
        }
        // Resized to the server's size at the commit: blocks past the end extend it meanwhile.
        return new StagingReady(s, ch, copyIsHashed);
      } catch (IOException e) {
        closeQuietly(ch);
        SyncStore.deleteQuietly(s);
        throw new CompletionException(e);
      }
    }, executor);
  }

  /** The copies differ: make the staging copy if not started yet, and flush it once it is there. */
  private void needStaging() {
    stagingNeeded = true;
    if (!stagingStarted) {
      stage();
    } else {
      maybeStartFlush();
    }
  }

  /** The copies are equal: a staging copy started while hashing is stopped and deleted. */
  private void discardStaging() {
    if (stagingStarted && !stagingNeeded && !stagingDiscarded) {
      stagingDiscarded = true;
      stagingStop.set(true);
      stagingGone = new CompletableFuture<>();
      if (stagingChannel != null) {
        deleteDiscardedStaging(); // else when the copy lands (or stops)
      }
    }
  }

  private void deleteDiscardedStaging() {
    CompletableFuture<Void> gone = stagingGone;
    background++;
    closeAndDeleteStaging(() -> gone.complete(null));
    getContext().pipeToSelf(gone, (v, t) -> StagingDeleted.INSTANCE);
  }

  /**
   * Deletes the staging copy on the blocking dispatcher ({@code then} runs when it is gone) and
   * closes its channel once a flush that may be running is over: closing a channel waits for an
   * fsync in progress, which must hold back neither this actor's thread nor the result.
   */
  private void closeAndDeleteStaging(Runnable then) {
    FileChannel ch = stagingChannel;
    Path s = staging;
    stagingChannel = null;
    staging = null;
    CompletableFuture<Void> flush = stagingFlush;
    SyncStore.runOrInline(blocking, () -> {
      boolean flushing = !flush.isDone();
      if (!flushing) {
        closeQuietly(ch); // first, so that the file can be deleted everywhere
      }
      SyncStore.deleteQuietly(s);
      then.run();
      if (flushing) {
        flush.whenComplete((v, t) -> SyncStore.runOrInline(blocking, () -> closeQuietly(ch)));
      }
    });
  }

  /**
   * Starts the flush of the copied bytes once the staging copy is there and either the copies
   * differ or ({@code client.flush-before-init}) the server has not answered {@code init} yet: it
   * is still hashing its file, which it does only for a version it has not hashed at this block
   * size, so the file most likely changed. A copy that then turns out not to be needed is deleted
   * all the same (its flush was disk writes for nothing, never a wrong file).
   */
  private void maybeStartFlush() {
    boolean likelyNeeded = stagingNeeded
        || (settings.clientFlushBeforeInit && !serverInitHere && !stagingDiscarded);
    if (likelyNeeded && localExists && stagingChannel != null && !stagingFlushStarted) {
      stagingFlushStarted = true;
      FileChannel ch = stagingChannel;
      stagingFlush = CompletableFuture.runAsync(() -> {
        try {
          ch.force(false);
        } catch (IOException e) {
          // only a head start: the commit's own fsync reports what is wrong
        }
      }, blocking);
    }
  }

  private static String stagingPrefix(Path local) {
    return "." + local.getFileName() + ".peer-sync-";
  }

  /**
   * Deletes the staging copies beside {@code local} that no process holds a lock on and that have
   * not changed for a while (the age keeps a copy that was just created, not yet locked, safe).
   */
  private static void removeAbandonedStaging(Path local) {
    String prefix = stagingPrefix(local);
    long before = System.currentTimeMillis() - ABANDONED_AFTER.toMillis();
    try (var dir = Files.newDirectoryStream(local.getParent(), p -> {
      String n = p.getFileName().toString();
      return n.startsWith(prefix) && n.endsWith(".part");
    })) {
      for (Path p : dir) {
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
          if (Files.getLastModifiedTime(p).toMillis() < before && c.tryLock() != null) {
            Files.deleteIfExists(p);
          }
        } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
          // held by a transfer of this JVM, or gone meanwhile: not ours to remove
        }
      }
    } catch (IOException e) {
      // a directory we cannot list has nothing of ours to clean
    }
  }

  /** Copies at most {@code limit} bytes of {@code from} into {@code to} in the kernel, in slices. */
  private static void copy(Path from, FileChannel to, AtomicLong limit,
      java.util.concurrent.atomic.AtomicBoolean stop) throws IOException {
    final long slice = 64L << 20;
    try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
      long size = in.size();
      // The limit may drop while copying (the server's size arrives): re-read it every slice.
      for (long pos = 0; pos < Math.min(size, limit.get()); ) {
        if (stop.get()) {
          throw new IOException("the transfer was stopped");
        }
        long moved = in.transferTo(pos, Math.min(slice, Math.min(size, limit.get()) - pos), to);
        if (moved <= 0) {
          throw new IOException("the local file ended at " + pos + " while being copied");
        }
        pos += moved;
      }
    }
  }

  /**
   * As {@link #copy}, writing past the page cache ({@code O_DIRECT}, {@code client.direct-staging-copy}):
   * each piece of at most {@code chunk} bytes is read into one aligned direct buffer and written
   * straight to the disk, the last piece's tail past the last whole file-system block through
   * {@code to}. So the copy is on disk when it ends (the commit's fsync has only the moved
   * blocks and the metadata left), and no page-cache copy of the file is made and written back
   * later, which was CPU on both cores beside the server's hashing. False, with nothing written,
   * when the file system takes no direct writes (then the in-kernel copy is used).
   */
  private static boolean copyDirect(Path from, Path toPath, FileChannel to, AtomicLong limit,
      java.util.concurrent.atomic.AtomicBoolean stop, int chunk) throws IOException {
    int align;
    FileChannel d;
    try {
      align = (int) Files.getFileStore(toPath).getBlockSize();
      if (align <= 0 || Integer.bitCount(align) != 1 || align > chunk) {
        return false;
      }
      d = FileChannel.open(toPath, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
    chunk = chunk / align * align;
    boolean wrote = false;
    try (d; FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
      long size = in.size();
      ByteBuffer buf = ByteBuffer.allocateDirect(chunk + align).alignedSlice(align);
      for (long pos = 0; ; ) {
        long n = Math.min(chunk, Math.min(size, limit.get()) - pos);
        if (n <= 0) {
          return true;
        }
        if (stop.get()) {
          throw new IOException("the transfer was stopped");
        }
        buf.clear();
        buf.limit((int) n);
        while (buf.hasRemaining()) {
          if (in.read(buf, pos + buf.position()) < 0) {
            throw new IOException("the local file ended at " + (pos + buf.position()) + " while being copied");
          }
        }
        int aligned = (int) (n / align * align);
        buf.flip();
        buf.limit(aligned);
        while (buf.hasRemaining()) {
          try {
            d.write(buf, pos + buf.position());
          } catch (IOException e) {
            if (wrote) {
              throw e;
            }
            return false; // direct writes refused (EINVAL): nothing written yet, copy in the kernel
          }
          wrote = true;
        }
        buf.limit((int) n);
        while (buf.hasRemaining()) { // the last piece's tail, past the last whole fs block
          to.write(buf, pos + buf.position());
        }
        pos += n;
      }
    }
  }

  private static void copyPermissions(Path from, Path to) throws IOException {
    var view = Files.getFileAttributeView(from, java.nio.file.attribute.PosixFileAttributeView.class);
    if (view != null) {
      Files.setPosixFilePermissions(to, view.readAttributes().permissions());
    }
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the file is deleted next
      }
    }
  }

  private Behavior<Command> onStagingReady(StagingReady r) {
    if (state == State.OPENING) {
      // A head start's copy of a small file can land before its opening is taken in: then.
      stagingBeforeOpened = r;
      return this;
    }
    background--;
    staging = r.staging();
    stagingChannel = r.channel();
    stagingCopyIsHashed = r.copyIsHashed();
    if (stagingDiscarded) {
      deleteDiscardedStaging();
      return this;
    }
    if (state == State.DONE) {
      cleanUpStaging();
      return this;
    }
    maybeStartFlush();
    return state == State.STAGING ? startPullData() : this; // else the walk is still going on
  }

  /** The walk is done and the staging copy is there: ask for the blocks that differ. */
  private Behavior<Command> startPullData() {
    state = State.DATA;
    if (stagingCopyIsHashed && (localVersion != null || !localExists) && !settings.clientFullVerify) {
      // Blocks not transferred are the local ones, whose hashes we have; transferred ones are
      // hashed as they are written (all of them when there was no local file). So the result's
      // root needs no second read of the file.
      stagingLeaves = new byte[Math.toIntExact(remoteBlocks * HashTree.HASH_BYTES)];
      long keep = Math.min(localTree.blockCount(), remoteBlocks);
      for (int j = 0; j < keep; j++) {
        localTree.copyNode(localTree.leafCount() - 1 + j, stagingLeaves, j * HashTree.HASH_BYTES);
      }
    }
    Behavior<Command> b = nextPullBatch();
    maybeAckInbound();
    return b;
  }

  /** The next run of blocks that fits in one req/send: max-indices and client batch-bytes. */
  private int[] nextBatch(long fileSize) {
    int start = todoPos;
    long bytes = 0;
    while (todoPos < todo.length && todoPos - start < settings.maxIndices) {
      int len = HashTree.blockLength(fileSize, req.blockSize(), todo[todoPos]);
      if (todoPos > start && bytes + len > settings.clientBatchBytes) {
        break;
      }
      bytes += len;
      todoPos++;
    }
    return Arrays.copyOfRange(todo, start, todoPos);
  }

  private Behavior<Command> nextPullBatch() {
    req.progress().onProgress(SyncProgress.Phase.TRANSFER, blocksTransferred, todo.length, wire());
    // Keep a few requests outstanding so the server reads the next batch while we write this one.
    while (batches.size() + writesInFlight < settings.clientPipeline && todoPos < todo.length) {
      int[] batch = nextBatch(remoteSize);
      batches.add(batch);
      send(new SyncMessage.Req(DataType.DATA, batch));
    }
    if (batches.isEmpty() && writesInFlight == 0) {
      return verifyAndCommit();
    }
    return this;
  }

  private Behavior<Command> onData(SyncMessage.Send s) {
    int[] idx = batches.peek();
    if (idx == null) {
      return fail(0, "the server sent blocks nobody asked for");
    }
    long expected = 0;
    for (int i : idx) {
      expected += HashTree.blockLength(remoteSize, req.blockSize(), i);
    }
    if (!Arrays.equals(s.index(), idx) || s.body().length() != expected) {
      return fail(0, "the server sent other blocks than asked");
    }
    batches.poll();
    writesInFlight++;
    io.peernode.protocol.sync.Binary payload = s.body();
    FileChannel ch = stagingChannel;
    long size = remoteSize;
    int bs = req.blockSize();
    CompletableFuture<Written> f = CompletableFuture.supplyAsync(() -> {
      try {
        return new Written(idx, SyncStore.writeBlocks(ch, size, bs, idx, payload));
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(f, (w, t) -> t == null ? w : new WriteFailed("cannot write the staging copy: " + message(t)));
    return this;
  }

  private Behavior<Command> onWritten(Written w) {
    writesInFlight--;
    if (state == State.DONE) {
      return this;
    }
    blocksTransferred += w.blocks().length;
    if (stagingLeaves != null) {
      for (int k = 0; k < w.blocks().length; k++) {
        System.arraycopy(w.hashes(), k * HashTree.HASH_BYTES, stagingLeaves,
            w.blocks()[k] * HashTree.HASH_BYTES, HashTree.HASH_BYTES);
      }
    }
    Behavior<Command> b = nextPullBatch();
    maybeAckInbound();
    return b;
  }

  private Behavior<Command> verifyAndCommit() {
    state = State.VERIFY;
    busy = true;
    req.progress().onProgress(SyncProgress.Phase.VERIFY, 0, 1, wire());
    FileChannel ch = stagingChannel;
    Path s = staging;
    Path local = req.localPath().toAbsolutePath();
    long size = remoteSize;
    int bs = req.blockSize();
    String root = remoteRoot;
    byte[] leaves = stagingLeaves;
    long blocks = remoteBlocks;
    LocalTreeCache cache = treeCache;
    HashTree base = localTree; // the staging copy's leaves are its leaves with a few replaced
    CompletableFuture<Verified> verified = stagingFlush.thenApplyAsync(flushed -> {
      try {
        if (ch.size() > size) {
          ch.truncate(size);
        } else if (ch.size() < size) {
          ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
        }
        ch.force(true);
        HashTree t = leaves != null ? base.withLeafHashes(blocks, leaves)
            : SyncStore.hash(ch, size, bs, settings.ioChunkBytes, settings.hashThreads, blocking);
        if (!t.rootHex().equalsIgnoreCase(root)) {
          throw new IOException("the transferred copy does not hash to the server's root; local file left as it was");
        }
        ch.close();
        return new Verified(t, cache == null ? null : FileVersion.of(s));
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking);
    CompletableFuture<Committed> f = verified.thenCompose(v -> {
      // The committed copy's tree is the server's: the cache records it, if the rename comes late
      // enough after the copy's last write that no later write can leave the mtime as it is.
      long wait = v.stat() == null ? 0 : java.time.Duration.between(java.time.Instant.now(),
          v.stat().mtime().plus(cache.window(v.stat()))).toNanos();
      Executor after = wait > 0 && wait <= settings.clientTreeCacheRacyWindow.toNanos()
          ? CompletableFuture.delayedExecutor(wait, java.util.concurrent.TimeUnit.NANOSECONDS, blocking)
          : blocking;
      return CompletableFuture.supplyAsync(() -> {
        try {
          java.time.Instant renamedAt = java.time.Instant.now();
          Files.move(s, local, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          if (v.stat() != null) {
            try {
              Path real = local.toRealPath();
              if (v.stat().equals(FileVersion.of(real))) {
                cache.record(real, bs, v.stat(), renamedAt, v.tree());
              }
            } catch (IOException e) {
              // committed all the same; the next sync of the file hashes it
            }
          }
          return Committed.INSTANCE;
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      }, after);
    });
    getContext().pipeToSelf(f, (c, t) -> t == null ? c : new IoFailed(message(t)));
    return this;
  }

  /** The staging copy hashes to the server's root; {@code stat}: its look then (null without a tree cache). */
  private record Verified(HashTree tree, FileVersion stat) {}

  private Behavior<Command> onCommitted() {
    busy = false;
    staging = null;
    stagingChannel = null;
    if (state == State.DONE) {
      return this;
    }
    req.progress().onProgress(SyncProgress.Phase.VERIFY, 1, 1, wire());
    Behavior<Command> b = end();
    maybeAckInbound();
    return b;
  }

  // ---- push: data ----

  private Behavior<Command> nextPushBatch() {
    req.progress().onProgress(SyncProgress.Phase.TRANSFER, blocksTransferred, todo.length, wire());
    while (batches.size() < settings.clientPipeline && todoPos < todo.length) {
      int[] batch = nextBatch(localSize);
      batches.add(batch);
      long[] offsets = new long[batch.length];
      int[] lengths = new int[batch.length];
      long total = 0;
      for (int i = 0; i < batch.length; i++) {
        offsets[i] = (long) batch[i] * req.blockSize();
        lengths[i] = HashTree.blockLength(localSize, req.blockSize(), batch[i]);
        total += lengths[i];
      }
      // The blocks are read from disk chunk by chunk as the socket drains.
      outbound.send(FrameStreams.frame(SyncMessage.Send.header(DataType.DATA, batch), total,
          FrameStreams.fileRanges(localChannel, offsets, lengths, settings.ioChunkBytes, blocking)));
    }
    if (batches.isEmpty()) {
      state = State.AWAIT_END;
      send(new SyncMessage.End(true, localSize, localTree.rootHex()));
    }
    return this;
  }

  private Behavior<Command> onAck() {
    int[] batch = batches.poll();
    if (batch == null) {
      return fail(0, "an ack for nothing sent");
    }
    blocksTransferred += batch.length;
    return nextPushBatch();
  }

  // ---- end ----

  private Behavior<Command> end() {
    state = State.AWAIT_END;
    send(new SyncMessage.End(false, -1, null));
    return this;
  }

  private Behavior<Command> onEndReply() {
    boolean pull = req.action() == Action.PULL;
    SyncResult r = new SyncResult(req.action().wire(), req.remotePath(), req.localPath(),
        pull ? remoteSize : localSize, req.blockSize(),
        pull ? remoteBlocks : localTree.blockCount(), walk == null ? 0 : walk.hashesFetched(),
        blocksTransferred, sent.get(), received.get(),
        Duration.ofNanos(System.nanoTime() - startNanos), localTreeCached);
    stagingGone.whenComplete((v, t) -> result.complete(r));
    finish();
    return this;
  }

  private Behavior<Command> onInboundDone() {
    if (state != State.DONE) {
      return fail(0, "the server closed the connection");
    }
    // With file work still running, the timer of finish() stops us once it has landed.
    return working() ? this : Behaviors.stopped();
  }

  private Behavior<Command> onTimeout() {
    if (state == State.DONE) {
      if (working()) {
        // File work still running: let it land first, so what it made is cleaned up.
        timers.startSingleTimer(Timeout.INSTANCE, Duration.ofSeconds(1));
        return this;
      }
      return Behaviors.stopped();
    }
    long seen = received.get() + sent.get();
    if (working() || seen != wireAtLastTick) {
      // Local file work, or a large frame still moving, is not a silent server.
      wireAtLastTick = seen;
      arm();
      return this;
    }
    return fail(0, "timed out waiting for the server (" + state + ")");
  }

  private Behavior<Command> fail(int status, String msg) {
    return fail(status, msg, 0);
  }

  private Behavior<Command> fail(int status, String msg, int retry) {
    result.completeExceptionally(new SyncFailedException(status, retry, msg));
    if (working()) {
      // File work is still running; let it land, then PostStop cleans up.
      finish();
      return this;
    }
    return Behaviors.stopped();
  }

  /** File work is still running (then it must land before the actor stops and cleans up). */
  private boolean working() {
    return busy || background > 0 || writesInFlight > 0;
  }

  private void finish() {
    state = State.DONE;
    stagingStop.set(true);
    timers.cancel(KeepAlive.INSTANCE);
    if (outbound != null) {
      outbound.send(new OutClose());
    }
    // The server closes after end; if it does not, give up after a short while.
    timers.startSingleTimer(Timeout.INSTANCE, Duration.ofSeconds(5));
  }

  // ---- outbound ----

  private void send(SyncMessage m) {
    outbound.send(FrameStreams.frame(m));
  }

  private Behavior<Command> onOutReady() {
    outbound.onReady();
    return this;
  }

  private void maybeAckInbound() {
    // Nothing but keep-alives is asked while the local copy is hashed or the staging copy made:
    // what comes meanwhile waits until the state it answers is there.
    if (pendingAck != null && !busy && state != State.LOCAL_HASH && state != State.STAGING) {
      pendingAck.tell(StreamAck.INSTANCE);
      pendingAck = null;
    }
  }

  private long wire() {
    return sent.get() + received.get();
  }

  // ---- clean-up ----

  private Behavior<Command> cleanUp() {
    if (!result.isDone()) {
      result.completeExceptionally(new SyncFailedException(0, 0, "the transfer was stopped"));
    }
    if (outbound != null) {
      outbound.closeNow();
    }
    if (blockingConnection != null) {
      blockingConnection.close(); // also ends a read blocked on a silent server
    }
    if (localChannel != null) {
      try {
        localChannel.close();
      } catch (IOException ignored) {
        // read-only
      }
    }
    cleanUpStaging();
    return this;
  }

  private void cleanUpStaging() {
    if (stagingChannel != null || staging != null) {
      closeAndDeleteStaging(() -> { });
    }
  }

  private static String message(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
