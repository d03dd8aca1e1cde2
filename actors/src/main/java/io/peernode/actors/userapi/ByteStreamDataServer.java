package io.peernode.actors.userapi;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import io.peernode.protocol.Hex;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's listener for byte stream data connections (Akka Streams {@code Tcp}, on the
 * cluster host and {@code stream-data-port}).
 *
 * <p>The node that opened a stream connects here once the stream is agreed over the cluster and
 * sends a {@link StreamDataHandshake} (stream id and the token this node issued for it in
 * {@link ByteStreamEndpoint.Opened}); after it, the connection carries the stream's bytes both
 * ways, back-pressured by TCP and by the endpoints' credit. A connection whose handshake does
 * not name an open stream of this node with its token, or that does not send it within
 * {@code stream-data-handshake-timeout}, is closed with a logged reason; the stream it named is
 * not affected.
 */
final class ByteStreamDataServer {

  private static final Logger log = LoggerFactory.getLogger(ByteStreamDataServer.class);

  private ByteStreamDataServer() {}

  /** Binds {@code host:port} (0: any free port); connections attach to {@code streams}' endpoints. */
  static CompletionStage<Tcp.ServerBinding> bind(
      ActorSystem<?> system, String host, int port, ActorRef<ByteStreams.Command> streams, UserApiSettings settings) {
    Materializer mat = Materializer.matFromSystem(system);
    return Tcp.get(system)
        .bind(host, port, settings.streamDataBacklog, List.of(), true, Optional.empty())
        .to(Sink.foreach(c -> c.handleWith(handler(system, c.remoteAddress(), streams, settings), mat)))
        .run(mat);
  }

  /** One connection: the handshake, then the endpoint's bytes out and the peer's bytes into it. */
  static Flow<ByteString, ByteString, NotUsed> handler(
      ActorSystem<?> system, InetSocketAddress remote, ActorRef<ByteStreams.Command> streams, UserApiSettings settings) {
    return Flow.<ByteString>create()
        .via(headFirst(StreamDataHandshake.SIZE))
        .prefixAndTail(1)
        .initialTimeout(settings.streamDataHandshakeTimeout)
        .flatMapConcat(headAndTail -> {
          Source<ByteString, NotUsed> tail = headAndTail.second();
          if (headAndTail.first().isEmpty()) {
            log.info("stream data connection from {} closed before its handshake", remote);
            return Source.empty();
          }
          StreamDataHandshake handshake;
          try {
            handshake = StreamDataHandshake.decode(headAndTail.first().get(0).toArray());
          } catch (IllegalArgumentException e) {
            return refuse(system, remote, tail, e.getMessage());
          }
          String streamId = Hex.encode(handshake.streamId());
          CompletionStage<ByteStreamEndpoint.DataAttached> attached = AskPattern.ask(
              streams,
              (ActorRef<ByteStreamEndpoint.DataAttached> r) -> new ByteStreams.AttachData(streamId, handshake, tail, r),
              settings.askTimeout,
              system.scheduler());
          return Source.completionStageSource(attached.thenApply(a -> a.outbound != null
                  ? a.outbound
                  : refuse(system, remote, tail, "stream " + streamId + ": " + a.refusal)))
              .mapMaterializedValue(m -> NotUsed.notUsed());
        })
        .mapError(java.util.concurrent.TimeoutException.class, e -> {
          log.info("stream data connection from {} closed: no handshake within {}", remote, settings.streamDataHandshakeTimeout);
          return e;
        });
  }

  private static Source<ByteString, NotUsed> refuse(ActorSystem<?> system, InetSocketAddress remote, Source<ByteString, NotUsed> tail, String why) {
    log.warn("stream data connection from {} refused: {}", remote, why);
    tail.runWith(Sink.cancelled(), Materializer.matFromSystem(system));
    return Source.failed(new IllegalStateException("stream data connection refused: " + why));
  }

  /**
   * The first {@code size} bytes as one element, then the rest as they come (the connection's
   * reads split the handshake anywhere).
   */
  static Flow<ByteString, ByteString, NotUsed> headFirst(int size) {
    return Flow.<ByteString>create().statefulMapConcat(() -> {
      ByteString[] head = {ByteString.emptyByteString()};
      return bytes -> {
        if (head[0] == null) {
          return List.of(bytes);
        }
        ByteString all = head[0].concat(bytes);
        if (all.size() < size) {
          head[0] = all;
          return List.of();
        }
        head[0] = null;
        return all.size() == size ? List.of(all) : List.of(all.take(size), all.drop(size));
      };
    });
  }
}
