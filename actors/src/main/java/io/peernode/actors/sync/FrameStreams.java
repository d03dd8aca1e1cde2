package io.peernode.actors.sync;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.japi.Pair;
import akka.stream.CompletionStrategy;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.stream.typed.javadsl.ActorSource;
import akka.util.ByteString;
import io.peernode.protocol.sync.Frame;
import io.peernode.protocol.sync.FrameDecoder;
import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.FrameException;
import io.peernode.protocol.sync.SyncMessage;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;

/**
 * The stream plumbing shared by the server and client session actors: bytes in are decoded into
 * frames one at a time (the actor acks each, which is the back-pressure on the socket); frames out
 * are small sources of byte chunks, flattened one after another, so a data answer is read from
 * disk chunk by chunk as the socket drains instead of being built in memory.
 */
final class FrameStreams {

  private FrameStreams() {}

  /** An element going out: one frame's bytes, or the request to close the connection. */
  sealed interface Out permits OutFrame, OutClose {}

  record OutFrame(Source<ByteString, NotUsed> bytes) implements Out {}

  record OutClose() implements Out {}

  /** An element coming in: a decoded frame, or the reason framing broke (then nothing follows). */
  /**
   * The sending side of a session: hands one element at a time to the outbound stream and
   * queues the rest until the stream says it is ready again. Owned by one actor and used on
   * its thread only; the queue holds at most the frames of the command being answered.
   */
  static final class Outbound {
    private final akka.actor.typed.ActorRef<Out> out;
    private final java.util.ArrayDeque<Out> queue = new java.util.ArrayDeque<>();
    private boolean ready = true;
    private boolean closed;

    Outbound(akka.actor.typed.ActorRef<Out> out) {
      this.out = out;
    }

    /** Sends or queues {@code o}; nothing is sent after an {@link OutClose}. */
    void send(Out o) {
      if (closed) {
        return;
      }
      if (o instanceof OutClose) {
        closed = true;
      }
      if (ready && queue.isEmpty()) {
        ready = false;
        out.tell(o);
      } else {
        queue.add(o);
      }
    }

    /** The stream took the last element: send the next one, if any. */
    void onReady() {
      ready = true;
      Out next = queue.poll();
      if (next != null) {
        ready = false;
        out.tell(next);
      }
    }

    /** Nothing waits to be sent. */
    boolean isDrained() {
      return queue.isEmpty();
    }

    /** Nothing waits and nothing is in flight. */
    boolean isIdle() {
      return ready && queue.isEmpty();
    }

    /** Ends the stream (and so the connection) even if an element is still in flight. */
    void closeNow() {
      if (!closed) {
        closed = true;
        out.tell(new OutClose());
      }
    }
  }

  sealed interface In permits InFrame, InBroken {}

  record InFrame(Frame frame) implements In {}

  record InBroken(String reason) implements In {}

  /** The ack an inbound sink waits for before it delivers the next frame. */
  enum StreamAck { INSTANCE }

  static Out frame(SyncMessage message) {
    return new OutFrame(Source.single(ByteString.fromArrayUnsafe(FrameEncoder.encode(message))));
  }

  static Out frame(io.peernode.protocol.sync.SyncJson.Obj json, long binLength, Source<ByteString, NotUsed> body) {
    return new OutFrame(Source.single(ByteString.fromArrayUnsafe(FrameEncoder.head(json, binLength)))
        .concat(body));
  }

  /** Bytes to frames; after a framing error emits one {@link InBroken} and ignores the rest. */
  static Flow<ByteString, In, NotUsed> decoder(int maxJsonBytes, int maxBinBytes, LongConsumer bytesIn) {
    return Flow.<ByteString>create().statefulMapConcat(() -> {
      // ByteStrings never change: the frames keep slices of them instead of copies.
      FrameDecoder decoder = FrameDecoder.zeroCopy(maxJsonBytes, maxBinBytes);
      boolean[] broken = {false};
      return bytes -> {
        if (broken[0]) {
          return Collections.<In>emptyList();
        }
        bytesIn.accept(bytes.size());
        List<In> out = new ArrayList<>(1);
        try {
          // The array of a compact ByteString (what a TCP read gives) itself, else a copy.
          decoder.feed(ByteBuffer.wrap(bytes.toArrayUnsafe()), f -> out.add(new InFrame(f)));
        } catch (FrameException e) {
          broken[0] = true;
          out.add(new InBroken(e.getMessage()));
        }
        return out;
      };
    });
  }

  /**
   * An outbound source fed by an actor with back-pressure: after each element the source sends
   * {@code ackMessage} to {@code ackTo}, and the actor may send the next element only then.
   */
  static <A> Pair<ActorRef<Out>, Source<ByteString, NotUsed>> outbound(
      ActorRef<A> ackTo, A ackMessage, Materializer mat, LongConsumer bytesOut) {
    Pair<ActorRef<Out>, Source<Out, NotUsed>> pre =
        ActorSource.<Out, A>actorRefWithBackpressure(
                ackTo,
                ackMessage,
                o -> o instanceof OutClose
                    ? Optional.of(CompletionStrategy.draining())
                    : Optional.empty(),
                o -> Optional.empty())
            .preMaterialize(mat);
    Source<ByteString, NotUsed> bytes =
        pre.second()
            .flatMapConcat(o -> ((OutFrame) o).bytes())
            .map(b -> {
              bytesOut.accept(b.size());
              return b;
            });
    return Pair.create(pre.first(), bytes);
  }

  /**
   * Blocks {@code [offset, offset+length)} ranges of an open file, streamed in chunks of at most
   * {@code chunk} bytes (adjacent ranges joined first), each read on the blocking executor. The channel is the session's
   * snapshot of the file: a push committed meanwhile (a rename) does not change what it reads.
   */
  static Source<ByteString, NotUsed> fileRanges(
      FileChannel channel, long[] offsets, int[] lengths, int chunk, Executor blocking) {
    List<long[]> pieces = new ArrayList<>();
    for (int i = 0; i < offsets.length; ) {
      // Adjacent ranges (a run of consecutive blocks, all of a full pull) are read as one.
      long start = offsets[i];
      long end = start + lengths[i++];
      while (i < offsets.length && offsets[i] == end) {
        end += lengths[i++];
      }
      for (long pos = start; pos < end; pos += chunk) {
        pieces.add(new long[] {pos, Math.min(chunk, end - pos)});
      }
    }
    return Source.from(pieces)
        .mapAsync(1, p -> CompletableFuture.supplyAsync(() -> read(channel, p[0], (int) p[1]), blocking));
  }

  private static ByteString read(FileChannel channel, long position, int length) {
    ByteBuffer buf = ByteBuffer.allocate(length);
    try {
      while (buf.hasRemaining()) {
        int n = channel.read(buf, position + buf.position());
        if (n < 0) {
          throw new java.io.EOFException("file ended at " + (position + buf.position()));
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return ByteString.fromArrayUnsafe(buf.array());
  }
}
