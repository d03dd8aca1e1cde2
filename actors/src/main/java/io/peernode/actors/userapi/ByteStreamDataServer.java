package io.peernode.actors.userapi;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import io.peernode.protocol.Hex;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The node's listener for byte stream data connections (on the cluster host and {@code
 * stream-data-port}): the blocking transport's ({@link ByteStreamSockets}, the default) or Akka
 * Streams {@code Tcp} ({@code stream-data-transport = akka-io}).
 *
 * <p>The node that opened a stream connects here once the stream is agreed over the cluster and
 * sends a {@link StreamDataHandshake} (stream id and the token this node issued for it in
 * {@link ByteStreamEndpoint.Opened}); after it, the connection carries the stream's bytes both
 * ways, back-pressured by TCP and by the endpoints' credit, through a {@link ByteStreamSocket}
 * (blocking) or a {@link ByteStreamConnection} stage fused with the connection (akka-io). A connection whose handshake does
 * not name an open stream of this node with its token, or that does not send it within
 * {@code stream-data-handshake-timeout}, is closed with a logged reason; the stream it named is
 * not affected.
 */
final class ByteStreamDataServer {

  private ByteStreamDataServer() {}

  /** A bound listener: where, and how to stop it. */
  interface Binding {
    InetSocketAddress localAddress();

    CompletionStage<Done> unbind();
  }

  /**
   * Binds {@code host:port} (0: any free port); connections attach to {@code streams}' endpoints,
   * over the blocking transport ({@link ByteStreamSockets}) or akka.io ({@code
   * stream-data-transport}). Throws when {@code stream-data-dispatcher} names no dispatcher
   * (rather than every stream failing later).
   */
  static CompletionStage<Binding> bind(
      ActorSystem<?> system, String host, int port, ActorRef<ByteStreams.Command> streams, UserApiSettings settings) {
    if (settings.streamDataBlocking) {
      try {
        return CompletableFuture.completedFuture(
            ByteStreamSockets.get(system).bind(host, port, attach(system, streams, settings), settings));
      } catch (java.io.IOException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    if (!settings.streamDataDispatcher.isEmpty()
        && !system.classicSystem().dispatchers().hasDispatcher(settings.streamDataDispatcher)) {
      throw new IllegalArgumentException("peer.userapi.stream-data-dispatcher names no configured dispatcher: "
          + settings.streamDataDispatcher);
    }
    Materializer mat = Materializer.matFromSystem(system);
    return Tcp.get(system)
        .bind(host, port, settings.streamDataBacklog, List.of(), true, Optional.empty())
        .to(Sink.foreach(c -> c.flow().join(handler(system, c.remoteAddress(), streams, settings))
            .withAttributes(settings.streamDataAttributes())
            .run(mat)))
        .run(mat)
        .thenApply(b -> new Binding() {
          @Override
          public InetSocketAddress localAddress() {
            return b.localAddress();
          }

          @Override
          public CompletionStage<Done> unbind() {
            return b.unbind().thenApply(u -> Done.getInstance());
          }
        });
  }

  /** One connection: the handshake, then the stream's bytes both ways (see {@link ByteStreamConnection}). */
  static Flow<ByteString, ByteString, NotUsed> handler(
      ActorSystem<?> system, InetSocketAddress remote, ActorRef<ByteStreams.Command> streams, UserApiSettings settings) {
    return Flow.fromGraph(ByteStreamConnection.accepting(remote, attach(system, streams, settings), settings));
  }

  /** Asks {@code streams} for the stream end a handshake names; fails with the refusal. */
  private static Function<StreamDataHandshake, CompletionStage<ByteStreamConnection.Attached>> attach(
      ActorSystem<?> system, ActorRef<ByteStreams.Command> streams, UserApiSettings settings) {
    return handshake -> {
      String streamId = Hex.encode(handshake.streamId());
      return AskPattern.ask(
              streams,
              (ActorRef<ByteStreamEndpoint.DataAttached> r) -> new ByteStreams.AttachData(streamId, handshake, r),
              settings.askTimeout,
              system.scheduler())
          .thenApply(a -> {
            if (a.attached == null) {
              throw new IllegalStateException("stream " + streamId + ": " + a.refusal);
            }
            return a.attached;
          });
    };
  }
}
