package io.peernode.node.http;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.event.Logging;
import akka.event.LoggingAdapter;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Connection;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.settings.ServerSettings;
import akka.stream.Materializer;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.TLSPlacebo;
import akka.stream.javadsl.Tcp;
import akka.stream.scaladsl.TcpAttributes;
import akka.util.ByteString;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The node's HTTP port: Akka HTTP serves the requests, and WebSocket upgrades to the paths
 * given (the data API's {@code /api/v1/ws}) are taken on the connection itself.
 *
 * <p>Why: Akka HTTP keeps its whole server stack alive under an upgraded connection for the
 * connection's life (some 17 stages, the request parser with the upgrade request's bytes, a
 * sub-fused interpreter): about 13 KiB of the heap of each idle WebSocket (bench/ws-idle).
 * Here each connection starts in a {@link ConnectionSwitch}, which reads the request head; a
 * plain upgrade to one of the paths is answered with the 101 and joined to the path's flow
 * (Akka HTTP's own frame parser and renderer under it); anything else, from its first byte,
 * goes through Akka HTTP's server layer and the route, exactly as a bound Akka HTTP server
 * would serve it (including other WebSocket upgrades, which the route handles). With no paths
 * (or {@code peer.http.direct-websocket = off}) every connection is Akka HTTP's.
 *
 * <p>Settings ({@code peer.http}): {@code max-connections} open at once (more wait in the
 * listen backlog), {@code max-request-head} (bytes read while looking for the end of the head;
 * past it the connection is Akka HTTP's, which answers 431 or 400). Akka HTTP's
 * {@code akka.http.server} settings (idle timeout, backlog, socket options, parsing limits,
 * pipelining) hold as they would for {@code Http.newServerAt}.
 */
public final class HttpServer {

  private final Tcp.ServerBinding binding;
  private final Connections connections;

  private HttpServer(Tcp.ServerBinding binding, Connections connections) {
    this.binding = binding;
    this.connections = connections;
  }

  /** The open connections, and whether the server is ending them. */
  private static final class Connections {
    final Set<ConnectionSwitch.Handle> open = ConcurrentHashMap.newKeySet();
    volatile boolean terminating;
  }

  /** The settings of {@code peer.http} that the port itself uses. */
  public static final class Settings {
    final int maxConnections;
    final boolean directWebSocket;
    final int maxRequestHead;
    final int maxWriteBatch;

    public Settings(int maxConnections, boolean directWebSocket, int maxRequestHead,
        int maxWriteBatch) {
      this.maxConnections = maxConnections;
      this.directWebSocket = directWebSocket;
      this.maxRequestHead = maxRequestHead;
      this.maxWriteBatch = maxWriteBatch;
    }

    /** From {@code peer.http} of {@code config}. */
    public static Settings fromConfig(Config config) {
      Config http = config.getConfig("peer.http");
      return new Settings(http.getInt("max-connections"), http.getBoolean("direct-websocket"),
          bytes(http, "max-request-head"), bytes(http, "max-write-batch"));
    }

    private static int bytes(Config c, String path) {
      return (int) Math.min(Integer.MAX_VALUE, c.getBytes(path));
    }
  }

  /** Binds {@code host:port} (0: any free port) with the system's {@code peer.http}. */
  public static CompletionStage<HttpServer> bind(ActorSystem<?> system, String host, int port,
      Route route, Map<String, Flow<ByteString, ByteString, ?>> webSockets) {
    return bind(system, host, port, Settings.fromConfig(system.settings().config()), route,
        webSockets);
  }

  /**
   * Binds {@code host:port} (0: any free port).
   *
   * @param webSockets the flow of bytes after the handshake, for each path taken directly
   */
  public static CompletionStage<HttpServer> bind(ActorSystem<?> system, String host, int port,
      Settings own, Route route, Map<String, Flow<ByteString, ByteString, ?>> webSockets) {
    Map<String, Flow<ByteString, ByteString, ?>> direct =
        own.directWebSocket ? Map.copyOf(webSockets) : Map.of();
    int maxHead = own.maxRequestHead;
    ServerSettings settings = ServerSettings.create(system.classicSystem());
    LoggingAdapter log = Logging.getLogger(system.classicSystem(), HttpServer.class);
    Materializer mat = Materializer.matFromSystem(system);
    akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler =
        route.handler(system);
    Connections connections = new Connections();
    scala.concurrent.duration.Duration idle = settings.getTimeouts().idleTimeout();
    Optional<Duration> idleTimeout = idle.isFinite()
        ? Optional.of(Duration.ofNanos(idle.toNanos())) : Optional.empty();
    return Tcp.get(system)
        .bind(host, port, settings.getBacklog(), settings.getSocketOptions(), false, idleTimeout)
        .mapAsyncUnordered(own.maxConnections, connection -> {
          InetSocketAddress remote = connection.remoteAddress();
          ConnectionSwitch.Handle h;
          try {
            // a write buffer of one chunk in the TCP stage: WriteBatcher batches the writes
            h = connection.flow().addAttributes(TcpAttributes.tcpWriteBufferSize(1))
                .joinMat(Flow.fromGraph(new ConnectionSwitch(direct,
                    c -> httpFlow(system, settings, remote, log, handler, c, connections),
                    maxHead, own.maxWriteBatch)), Keep.right())
                .run(mat);
          } catch (RuntimeException e) {
            log.warning("HTTP connection from {} could not start: {}", remote, e.toString());
            return CompletableFuture.completedFuture(Done.getInstance());
          }
          connections.open.add(h);
          if (connections.terminating) h.close();
          return h.terminated.whenComplete((d, t) -> connections.open.remove(h));
        })
        .to(Sink.ignore())
        .run(mat)
        .thenApply(b -> new HttpServer(b, connections));
  }

  /** Akka HTTP's server layer on the connection's bytes, the route on its requests. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Flow<ByteString, ByteString, ?> httpFlow(ActorSystem<?> system,
      ServerSettings settings, InetSocketAddress remote, LoggingAdapter log,
      akka.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler,
      ConnectionSwitch.Handle connection, Connections connections) {
    BidiFlow layer = Http.get(system).serverLayer(settings, Optional.of(remote), log)
        .atop((BidiFlow) TLSPlacebo.getInstance());
    Flow<HttpRequest, HttpResponse, ?> requests = Flow.of(HttpRequest.class)
        .mapAsync(settings.getPipeliningLimit(), request -> {
          connection.inFlight.incrementAndGet();
          CompletionStage<HttpResponse> response;
          try {
            response = handler.apply(request);
          } catch (Exception e) {
            response = CompletableFuture.failedFuture(e);
          }
          return response.exceptionally(e -> {
            log.error(e, "the route failed on {} {}", request.method().value(),
                request.getUri().path());
            return HttpResponse.create().withStatus(StatusCodes.INTERNAL_SERVER_ERROR);
          }).thenApply(r -> {
            connection.inFlight.decrementAndGet();
            return connections.terminating ? r.addHeader(Connection.create("close")) : r;
          });
        });
    return (Flow<ByteString, ByteString, ?>) layer.reversed().join(requests);
  }

  public InetSocketAddress localAddress() {
    return binding.localAddress();
  }

  /** HTTP requests read and not yet answered, on all connections. */
  public int requestsInFlight() {
    int n = 0;
    for (ConnectionSwitch.Handle h : connections.open) n += h.inFlight.get();
    return n;
  }

  /** Stops accepting connections; open ones go on. */
  public CompletionStage<Done> unbind() {
    return binding.unbind().thenApply(u -> Done.getInstance());
  }

  /**
   * Ends every connection: WebSockets and idle HTTP connections now; the others once the
   * responses in flight are out (they carry {@code Connection: close}, so Akka HTTP closes
   * the connection after writing them), or at {@code hardDeadline}.
   */
  public CompletionStage<Done> terminate(Duration hardDeadline) {
    connections.terminating = true;
    List<CompletableFuture<Done>> ends = new ArrayList<>();
    for (ConnectionSwitch.Handle h : connections.open) {
      if (h.webSocket || h.inFlight.get() == 0) h.close();
      ends.add(h.terminated);
    }
    return CompletableFuture.allOf(ends.toArray(new CompletableFuture[0]))
        .completeOnTimeout(null, hardDeadline.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(x -> {
          connections.open.forEach(ConnectionSwitch.Handle::close);
          return Done.getInstance();
        });
  }

  /** Unbinds when the system's services unbind; ends connections within {@code deadline}. */
  public void addToCoordinatedShutdown(Duration deadline, ActorSystem<?> system) {
    CoordinatedShutdown cs = CoordinatedShutdown.get(system);
    cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind", this::unbind);
    cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "http-terminate",
        () -> terminate(deadline));
  }
}
