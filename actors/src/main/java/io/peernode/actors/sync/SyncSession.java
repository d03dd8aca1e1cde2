package io.peernode.actors.sync;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.japi.Pair;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import akka.util.ByteString;
import io.peernode.actors.sync.FrameStreams.In;
import io.peernode.actors.sync.FrameStreams.InBroken;
import io.peernode.actors.sync.FrameStreams.InFrame;
import io.peernode.actors.sync.FrameStreams.Out;
import io.peernode.actors.sync.FrameStreams.OutClose;
import io.peernode.actors.sync.FrameStreams.StreamAck;
import io.peernode.protocol.sync.CommandException;
import io.peernode.protocol.sync.FrameException;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncMessage;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.peernode.protocol.sync.SyncMessage.DataType;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One server-side sync session: one TCP connection, from {@code init} to {@code end}.
 *
 * <p>Owns: the connection's two streams (frames in, acked one at a time; frames out, sent one at a
 * time as the socket drains), the snapshot of the file it serves (pull) or the staging copy and
 * push lock of the file it receives (push), and the idle timer.
 *
 * <p>Receives: decoded frames from its inbound stream, acks from its outbound stream, and the
 * results of the file work it hands to the blocking dispatcher (opening, hashing, writing,
 * committing), which never runs on this actor's thread.
 *
 * <p>Guarantees: answers every command as the spec says ({@code err} keeps the session, a broken
 * frame or a refused {@code init} closes it); never reads or writes outside the sync root; a push
 * becomes visible only by an atomic rename after fsync, and a session that ends any other way
 * (client gone, idle, error) deletes its staging copy and releases the push lock.
 */
public final class SyncSession extends AbstractBehavior<SyncSession.Command> {

  public interface Command {}

  private record InInit(ActorRef<StreamAck> ack) implements Command {}

  private record InElem(ActorRef<StreamAck> ack, In item) implements Command {}

  private enum InDone implements Command { INSTANCE }

  private record InFailed(Throwable cause) implements Command {}

  private enum OutReady implements Command { INSTANCE }

  private enum StreamClosed implements Command { INSTANCE }

  private enum IdleTimeout implements Command { INSTANCE }

  /** The file work for {@code init} is done: the session is open. */
  /** {@code copyIsHashed}: the staging copy was made from the bytes {@code tree} describes. */
  private record Opened(HashTree tree, long size, SyncStore.Snapshot snapshot, Path live,
      Path staging, FileChannel stagingChannel, boolean copyIsHashed) implements Command {}

  /** Blocks written to the staging copy, with their hashes. */
  private record Written(int[] index, byte[] hashes) implements Command {}

  private record Resolved(Path live) implements Command {}

  private record Refused(int status, String msg) implements Command {}

  private record Done(SyncMessage reply, boolean close) implements Command {}

  private record Failed(String msg, boolean close) implements Command {}

  private enum State { AWAIT_INIT, OPENING, PULL, PUSH, CLOSING }

  public static Behavior<Command> create(Tcp.IncomingConnection connection, SyncStore store,
      SyncSettings settings, SyncMetrics metrics, Executor blocking) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SyncSession(ctx, timers, connection, store, settings, metrics, blocking)));
  }

  private final TimerScheduler<Command> timers;
  private final SyncStore store;
  private final SyncSettings settings;
  private final SyncMetrics metrics;
  private final Executor blocking;
  private final FrameStreams.Outbound outbound;
  private final AtomicLong bytesIn = new AtomicLong();
  private final AtomicBoolean stopped = new AtomicBoolean();
  // File resources created by work still in flight when the session stops: whoever comes second
  // (the work finishing, or PostStop) releases them, so nothing leaks whatever the timing.
  private final java.util.concurrent.ConcurrentLinkedQueue<java.io.Closeable> owned =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicReference<Path> ownedStaging =
      new java.util.concurrent.atomic.AtomicReference<>();
  private ActorRef<StreamAck> pendingAck;
  private boolean busy;
  private long bytesInAtLastTick;
  private State state = State.AWAIT_INIT;

  // open session
  private int blockSize;
  private HashTree tree;
  private long size;
  private SyncStore.Snapshot snapshot;
  private Path live;
  private Path lockedPath;
  private Path staging;
  private FileChannel stagingChannel;
  private byte[] stagingLeaves;
  private java.util.BitSet knownLeaves;

  private SyncSession(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      Tcp.IncomingConnection connection, SyncStore store, SyncSettings settings,
      SyncMetrics metrics, Executor blocking) {
    super(ctx);
    this.timers = timers;
    this.store = store;
    this.settings = settings;
    this.metrics = metrics;
    this.blocking = blocking;
    Materializer mat = Materializer.matFromSystem(ctx.getSystem());
    Pair<ActorRef<Out>, akka.stream.javadsl.Source<ByteString, akka.NotUsed>> outStream =
        FrameStreams.outbound(ctx.getSelf(), OutReady.INSTANCE, mat, metrics.bytesOut::inc);
    this.outbound = new FrameStreams.Outbound(outStream.first());
    var inbound = FrameStreams.decoder(settings.maxJsonBytes, settings.maxBinBytes, n -> {
          bytesIn.addAndGet(n);
          metrics.bytesIn.inc(n);
        })
        .to(ActorSink.<In, Command, StreamAck>actorRefWithBackpressure(
            ctx.getSelf(), InElem::new, InInit::new, StreamAck.INSTANCE, InDone.INSTANCE,
            InFailed::new));
    // Not coupled: when the client half-closes after its last command, the answers still go out.
    var done = connection.handleWith(
        Flow.fromSinkAndSource(inbound, outStream.second()).watchTermination(Keep.right()), mat);
    ctx.pipeToSelf(done, (d, t) -> StreamClosed.INSTANCE);
    metrics.sessions.inc();
    metrics.activeSessions.inc();
    timers.startSingleTimer(IdleTimeout.INSTANCE, settings.idleTimeout);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(InInit.class, m -> ack(m.ack()))
        .onMessage(InElem.class, this::onInbound)
        .onMessageEquals(OutReady.INSTANCE, this::onOutReady)
        .onMessageEquals(InDone.INSTANCE, this::onInboundDone)
        .onMessage(InFailed.class, m -> Behaviors.stopped())
        .onMessageEquals(StreamClosed.INSTANCE, Behaviors::stopped)
        .onMessageEquals(IdleTimeout.INSTANCE, this::onIdle)
        .onMessage(Resolved.class, this::onResolved)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Refused.class, m -> state == State.CLOSING ? this : deny(m.status(), m.msg()))
        .onMessage(Done.class, this::onDone)
        .onMessage(Written.class, this::onWritten)
        .onMessage(Failed.class, this::onFailed)
        .onSignal(PostStop.class, s -> cleanUp())
        .build();
  }

  // ---- inbound ----

  private Behavior<Command> ack(ActorRef<StreamAck> ack) {
    pendingAck = ack;
    maybeAckInbound();
    return this;
  }

  /** The next frame may come once the last one is fully handled and its answer handed out. */
  private void maybeAckInbound() {
    if (pendingAck != null && !busy && outbound.isDrained() && state != State.CLOSING) {
      pendingAck.tell(StreamAck.INSTANCE);
      pendingAck = null;
    }
  }

  private Behavior<Command> onInbound(InElem m) {
    pendingAck = m.ack();
    if (state == State.CLOSING) {
      return this;
    }
    timers.startSingleTimer(IdleTimeout.INSTANCE, settings.idleTimeout);
    if (m.item() instanceof InBroken b) {
      metrics.framesRejected.inc();
      return fatal(b.reason());
    }
    var frame = ((InFrame) m.item()).frame();
    SyncMessage msg;
    try {
      msg = SyncMessage.parseCommand(frame);
    } catch (FrameException e) {
      metrics.framesRejected.inc();
      return fatal(e.getMessage());
    } catch (CommandException e) {
      if (state == State.AWAIT_INIT) {
        return frame.command().equals("init") ? deny(400, e.getMessage())
            : fatal("the first command must be init");
      }
      return err(e.getMessage());
    }
    switch (state) {
      case AWAIT_INIT:
        if (msg instanceof SyncMessage.Init init) {
          return onInit(init);
        }
        return fatal("the first command must be init, not " + msg.command());
      case PULL:
      case PUSH:
        if (msg instanceof SyncMessage.Req req) {
          return onReq(req);
        } else if (msg instanceof SyncMessage.Send send) {
          return onSend(send);
        } else if (msg instanceof SyncMessage.End end) {
          return onEnd(end);
        }
        return err("the session is already open; init is not valid now");
      default:
        return this; // OPENING is busy, so no frame is acked into it
    }
  }

  private Behavior<Command> onInboundDone() {
    // The client closed its side: answers already queued still go out, then we close ours.
    if (state != State.CLOSING) {
      close();
    }
    return this;
  }

  private Behavior<Command> onIdle() {
    long seen = bytesIn.get();
    if (state == State.CLOSING) {
      return Behaviors.stopped(); // the peer does not read our last frame; give up on it
    }
    if (busy || !outbound.isIdle() || seen != bytesInAtLastTick) {
      // Our own file work, an answer still draining to a slow reader, or a large frame still
      // arriving is not idleness.
      bytesInAtLastTick = seen;
      timers.startSingleTimer(IdleTimeout.INSTANCE, settings.idleTimeout);
      return this;
    }
    return fatal("idle timeout: no complete frame for " + settings.idleTimeout.toMillis() + " ms");
  }

  // ---- init ----

  private Behavior<Command> onInit(SyncMessage.Init init) {
    if (init.version()[0] != SyncMessage.VERSION[0]) {
      return deny(426, "incompatible version " + init.version()[0] + "." + init.version()[1]
          + "; this server speaks " + SyncMessage.VERSION[0] + "." + SyncMessage.VERSION[1]);
    }
    if (!settings.validBlockSize(init.blockSize())) {
      return deny(400, "blockSize must be a power of two from " + settings.minBlockSize + " to "
          + settings.maxBlockSize);
    }
    blockSize = init.blockSize();
    state = State.OPENING;
    busy = true;
    if (init.action() == Action.PULL) {
      openForPull(init.filename());
    } else {
      // Bounds first: the arithmetic below must not overflow on hostile numbers.
      if (init.blockCount() > settings.maxTreeLeaves
          || init.size() > (long) settings.maxTreeLeaves * blockSize) {
        return deny(400, "too many blocks (at most " + settings.maxTreeLeaves
            + "); use a larger block size");
      }
      long announced = init.size() >= 0 ? init.size() : init.blockCount() * (long) blockSize;
      if (HashTree.blockCount(announced, blockSize) != init.blockCount()) {
        return deny(400, "blockCount " + init.blockCount() + " does not match size " + announced);
      }
      size = announced;
      String name = init.filename();
      getContext().pipeToSelf(
          CompletableFuture.supplyAsync(() -> {
            try {
              return store.resolveForPush(name);
            } catch (SyncStore.Refusal r) {
              throw new CompletionException(r);
            }
          }, blocking),
          (path, t) -> t == null ? new Resolved(path) : refusal(t));
    }
    return this;
  }

  private void openForPull(String name) {
    int bs = blockSize;
    CompletableFuture<Opened> f = CompletableFuture.supplyAsync(() -> {
      try {
        Path real = store.resolveExisting(name);
        SyncStore.Snapshot snap = store.open(real);
        own(snap.channel());
        if (HashTree.blockCount(snap.size(), bs) > settings.maxTreeLeaves) {
          snap.channel().close();
          throw new SyncStore.Refusal(400, "too many blocks at this block size; use a larger one");
        }
        return snap;
      } catch (SyncStore.Refusal | IOException e) {
        throw new CompletionException(e);
      }
    }, blocking).thenCompose(snap -> store.tree(snap, bs)
        .thenApply(t -> new Opened(t, snap.size(), snap, snap.path(), null, null, false)));
    getContext().pipeToSelf(f, (o, t) -> t == null ? o : refusal(t));
  }

  private Behavior<Command> onResolved(Resolved r) {
    if (state == State.CLOSING) {
      return this; // the client left while we resolved the name: take no lock
    }
    if (!store.tryLock(r.live(), getContext().getSelf())) {
      return deny(409, "another push of this file is in progress");
    }
    lockedPath = r.live();
    Path target = r.live();
    int bs = blockSize;
    long newSize = size;
    CompletableFuture<Opened> f = CompletableFuture.supplyAsync(() -> {
      try {
        if (Files.isRegularFile(target)) {
          SyncStore.Snapshot snap = store.open(target);
          own(snap.channel());
          return snap;
        }
        return null;
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking).thenCompose(snap -> {
      CompletableFuture<HashTree> t = snap == null
          ? CompletableFuture.completedFuture(HashTree.fromLeafHashes(0, new byte[0]))
          : store.tree(snap, bs);
      // The staging copy is made while the live file is hashed: two files' work, two threads.
      CompletableFuture<Path> copy = CompletableFuture.supplyAsync(() -> {
        try {
          Path stagingFile = store.stage(target, newSize);
          ownedStaging.set(stagingFile);
          if (stopped.get()) {
            releaseOwned();
          }
          return stagingFile;
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      }, blocking);
      return t.thenCombine(copy, (tree, stagingFile) -> {
        try {
          long liveSize = snap == null ? 0 : snap.size();
          if (snap != null) {
            snap.channel().close();
          }
          boolean copyIsHashed = snap == null || snap.version().equals(store.versionOf(target));
          FileChannel ch = FileChannel.open(stagingFile, StandardOpenOption.WRITE, StandardOpenOption.READ);
          own(ch);
          if (stopped.get()) {
            releaseOwned();
          }
          return new Opened(tree, liveSize, null, target, stagingFile, ch, copyIsHashed);
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      });
    });
    getContext().pipeToSelf(f, (o, t) -> t == null ? o : refusal(t));
    return this;
  }

  private Refused refusal(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (c instanceof SyncStore.Refusal r) {
      return new Refused(r.status, r.getMessage());
    }
    getContext().getLog().warn("sync: cannot open a session's file: {}", c.toString());
    return new Refused(400, "cannot open the file: " + c.getClass().getSimpleName());
  }

  private Behavior<Command> onOpened(Opened o) {
    if (state == State.CLOSING) {
      busy = false;
      return this; // its channels and staging copy are in `owned`, released at stop
    }
    tree = o.tree();
    live = o.live();
    snapshot = o.snapshot();
    staging = o.staging();
    stagingChannel = o.stagingChannel();
    long reportedSize = o.size();
    state = staging != null ? State.PUSH : State.PULL;
    if (state == State.PULL) {
      size = o.size();
    } else if (o.copyIsHashed()) {
      // Leaves of the staging copy we know without reading it: blocks copied whole from the live
      // file keep the live file's leaf until overwritten. The rest are hashed as written or, at
      // the end, read back (a short block at an old or new end of file, blocks never sent).
      long newCount = HashTree.blockCount(size, blockSize);
      stagingLeaves = new byte[Math.toIntExact(newCount * HashTree.HASH_BYTES)];
      knownLeaves = new java.util.BitSet();
      long keep = Math.min(tree.blockCount(), newCount);
      for (int j = 0; j < keep; j++) {
        if (HashTree.blockLength(reportedSize, blockSize, j) == HashTree.blockLength(size, blockSize, j)) {
          tree.copyNode(tree.leafCount() - 1 + j, stagingLeaves, j * HashTree.HASH_BYTES);
          knownLeaves.set(j);
        }
      }
    }
    busy = false;
    send(new SyncMessage.InitReply(SyncMessage.VERSION, blockSize, tree.blockCount(), reportedSize,
        tree.rootHex()));
    return this;
  }

  // ---- req / send / end ----

  private Behavior<Command> onReq(SyncMessage.Req req) {
    int[] idx = req.index();
    if (idx.length > settings.maxIndices) {
      return err("at most " + settings.maxIndices + " indices per req, got " + idx.length);
    }
    if (req.dataType() == DataType.HASH) {
      byte[] payload = new byte[idx.length * HashTree.HASH_BYTES];
      for (int i = 0; i < idx.length; i++) {
        if (idx[i] >= tree.nodeCount()) {
          return err("hash index " + idx[i] + " is out of range (the tree has " + tree.nodeCount()
              + " nodes)");
        }
        tree.copyNode(idx[i], payload, i * HashTree.HASH_BYTES);
      }
      send(new SyncMessage.Send(DataType.HASH, idx, payload));
      return this;
    }
    if (state != State.PULL) {
      return err("req data is only valid during a pull");
    }
    long[] offsets = new long[idx.length];
    int[] lengths = new int[idx.length];
    long total = 0;
    for (int i = 0; i < idx.length; i++) {
      if (idx[i] >= tree.blockCount()) {
        return err("block index " + idx[i] + " is out of range (the file has " + tree.blockCount()
            + " blocks)");
      }
      offsets[i] = (long) idx[i] * blockSize;
      lengths[i] = HashTree.blockLength(size, blockSize, idx[i]);
      total += lengths[i];
    }
    if (total > settings.maxAnswerBytes) {
      return err("the answer would be " + total + " bytes; at most " + settings.maxAnswerBytes
          + " per req");
    }
    sendOut(FrameStreams.frame(SyncMessage.Send.header(DataType.DATA, idx), total,
        FrameStreams.fileRanges(snapshot.channel(), offsets, lengths, settings.ioChunkBytes, blocking)));
    return this;
  }

  private Behavior<Command> onSend(SyncMessage.Send s) {
    if (state != State.PUSH) {
      return err("send is only valid during a push");
    }
    if (s.dataType() != DataType.DATA) {
      return err("send hash is not accepted; the server computes its own tree");
    }
    int[] idx = s.index();
    if (idx.length > settings.maxIndices) {
      return err("at most " + settings.maxIndices + " indices per send, got " + idx.length);
    }
    long newCount = HashTree.blockCount(size, blockSize);
    long expected = 0;
    for (int i : idx) {
      if (i >= newCount) {
        return err("block index " + i + " is out of range (the pushed file has " + newCount
            + " blocks)");
      }
      expected += HashTree.blockLength(size, blockSize, i);
    }
    if (expected != s.body().length()) {
      return err("send carries " + s.body().length() + " bytes, the blocks need " + expected);
    }
    busy = true;
    FileChannel ch = stagingChannel;
    long fileSize = size;
    int bs = blockSize;
    io.peernode.protocol.sync.Binary payload = s.body();
    CompletableFuture<Written> f = CompletableFuture.supplyAsync(() -> {
      try {
        byte[] hashes = SyncStore.writeBlocks(ch, fileSize, bs, idx, payload);
        ch.force(false);
        return new Written(idx, hashes);
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(f, (w, t) -> t == null ? w
        : new Failed("cannot write the staging copy: " + rootCause(t), true));
    return this;
  }

  private Behavior<Command> onWritten(Written w) {
    if (stagingLeaves != null) {
      for (int k = 0; k < w.index().length; k++) {
        System.arraycopy(w.hashes(), k * HashTree.HASH_BYTES, stagingLeaves,
            w.index()[k] * HashTree.HASH_BYTES, HashTree.HASH_BYTES);
        knownLeaves.set(w.index()[k]);
      }
    }
    return onDone(new Done(new SyncMessage.Ack(), false));
  }

  private Behavior<Command> onEnd(SyncMessage.End end) {
    if (!(state == State.PUSH && end.push())) {
      send(new SyncMessage.EndReply());
      close();
      return this;
    }
    if (end.size() >= 0 && end.size() != size) {
      return err("end size " + end.size() + " differs from the announced size " + size);
    }
    busy = true;
    FileChannel ch = stagingChannel;
    Path stagingFile = staging;
    Path target = live;
    long fileSize = size;
    int bs = blockSize;
    String root = end.root();
    byte[] leaves = stagingLeaves;
    java.util.BitSet known = knownLeaves == null ? null : (java.util.BitSet) knownLeaves.clone();
    CompletableFuture<Boolean> f = CompletableFuture.supplyAsync(() -> {
      try {
        if (ch.size() != fileSize) {
          throw new IOException("the staging copy has " + ch.size() + " bytes, not " + fileSize);
        }
        HashTree t = null;
        if (root != null) {
          t = leaves != null ? SyncStore.completeTree(ch, fileSize, bs, leaves, known)
              : SyncStore.hash(ch, fileSize, bs, settings.ioChunkBytes, settings.hashThreads, blocking);
          if (!t.rootHex().equalsIgnoreCase(root)) {
            return false;
          }
        }
        ch.close();
        store.commit(stagingFile, target);
        if (t != null) {
          store.remember(target, bs, t); // a pull right after the push need not hash it again
        }
        return true;
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, blocking);
    getContext().pipeToSelf(f, (ok, t) -> {
      if (t != null) {
        return new Failed("cannot commit: " + rootCause(t), true);
      }
      return ok ? new Done(null, true) : new Failed("root mismatch: the staging copy does not hash to "
          + root + "; nothing committed", false);
    });
    return this;
  }

  private Behavior<Command> onDone(Done d) {
    busy = false;
    if (state == State.CLOSING) {
      return this;
    }
    if (d.close()) {
      // The commit: the staging file is now the live file.
      ownedStaging.set(null);
      staging = null;
      stagingChannel = null;
      releaseLock();
      metrics.pushesCommitted.inc();
      send(new SyncMessage.EndReply());
      close();
      return this;
    }
    send(d.reply());
    return this;
  }

  private Behavior<Command> onFailed(Failed f) {
    busy = false;
    if (state == State.CLOSING) {
      return this;
    }
    if (f.close()) {
      getContext().getLog().warn("sync: {}", f.msg());
      return fatal(f.msg());
    }
    return err(f.msg());
  }

  // ---- outbound ----

  private Behavior<Command> err(String msg) {
    metrics.errors.inc();
    send(new SyncMessage.Err(msg));
    return this;
  }

  /** err and close: the frame stream can no longer be trusted (or the session cannot go on). */
  private Behavior<Command> fatal(String msg) {
    metrics.errors.inc();
    send(new SyncMessage.Err(msg));
    close();
    return this;
  }

  private Behavior<Command> deny(int status, String msg) {
    metrics.denials.labels(Integer.toString(status)).inc();
    busy = false;
    send(new SyncMessage.Deny(0, status, msg));
    close();
    return this;
  }

  private void send(SyncMessage m) {
    sendOut(FrameStreams.frame(m));
  }

  /** Sends (or queues) and lets the next command in once nothing waits to go out. */
  private void sendOut(Out o) {
    outbound.send(o);
    maybeAckInbound();
  }

  private Behavior<Command> onOutReady() {
    outbound.onReady();
    maybeAckInbound();
    return this;
  }

  private void close() {
    state = State.CLOSING;
    sendOut(new OutClose());
    // Bounded wait for the last frame to drain, then onIdle stops us.
    timers.startSingleTimer(IdleTimeout.INSTANCE, Duration.ofMillis(
        Math.max(1000, settings.idleTimeout.toMillis())));
  }

  // ---- clean-up ----

  private Behavior<Command> cleanUp() {
    stopped.set(true);
    metrics.activeSessions.dec();
    outbound.closeNow();
    // A push that did not commit leaves the live file as it was and no staging copy behind
    // (after a commit the staging name no longer exists, so deleting it is a no-op).
    SyncStore.runOrInline(blocking, this::releaseOwned);
    releaseLock();
    return this;
  }

  /** Registers a resource opened off-thread; closes it at once if the session already stopped. */
  private void own(java.io.Closeable c) {
    owned.add(c);
    if (stopped.get()) {
      releaseOwned();
    }
  }

  private void releaseOwned() {
    java.io.Closeable c;
    while ((c = owned.poll()) != null) {
      closeQuietly(c);
    }
    Path s = ownedStaging.getAndSet(null);
    if (s != null) {
      SyncStore.deleteQuietly(s);
    }
  }

  private void releaseLock() {
    if (lockedPath != null) {
      store.unlock(lockedPath, getContext().getSelf());
      lockedPath = null;
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // nothing left to do with it
    }
  }

  private static String rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c != c.getCause()) {
      c = c.getCause();
    }
    return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
  }
}
