package io.peernode.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamSubscription;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * One publisher and {@code SUBS} subscribers move {@code COUNT} events of {@code SIZE} bytes
 * through one system, as fast as the publisher may: it keeps at most {@code WINDOW} events in
 * flight (published but not yet delivered to every subscriber), so no system is overrun and
 * all are measured the same way. Each event carries its sequence number and the publisher's
 * {@link System#nanoTime()} (publisher and subscribers share this JVM), so every delivery
 * yields a publish→deliver latency. After the warm-up, {@code ROUNDS} measured rounds of
 * {@code COUNT} events each, one {@code RESULT} line per round: the first shows a JVM that
 * has just started (its JIT still compiling the hot paths), the later ones the steady state.
 * With {@code SERVER_PID} set, each line also gives the CPU seconds that process used in the
 * round (from {@code /proc}), so the warm-up's and the JIT's CPU are not counted in it.
 *
 * <pre>
 * java -cp peer-bench.jar io.peernode.bench.StreamsWsBench node      HTTP_PORT ADMIN_KEY LABEL
 * java -cp peer-bench.jar io.peernode.bench.StreamsWsBench jetstream NATS_PORT LABEL
 * java -cp peer-bench.jar io.peernode.bench.StreamsWsBench mosquitto MQTT_PORT LABEL
 * </pre>
 * Environment: COUNT (200000), WINDOW (1000: at most the node's per-connection outgoing buffer,
 * peer.streams.connection.outgoing-buffer, which disconnects a subscriber that lags more),
 * SUBS (10), SIZE (200), WARMUP (20000), ROUNDS (2), SERVER_PID, CLIENT (the node's WebSocket
 * client: netty, else Java's), CLIENT_THREADS (2: Netty's event loops).
 */
public final class StreamsWsBench {

  static final int COUNT = intEnv("COUNT", 200_000);
  static final int WINDOW = intEnv("WINDOW", 1000);
  static final int SUBS = intEnv("SUBS", 10);
  static final int SIZE = intEnv("SIZE", 200);
  static final int WARMUP = intEnv("WARMUP", 20_000);
  static final int ROUNDS = intEnv("ROUNDS", 2);
  static final int SERVER_PID = intEnv("SERVER_PID", 0);
  static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

  static int intEnv(String name, int dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
  }

  /** The event: {@code {"b":"@@SEQ:NANOS:xxxx…"}}, exactly SIZE bytes (ASCII). */
  static String event(int seq, long nanos) {
    StringBuilder sb = new StringBuilder(SIZE);
    sb.append("{\"b\":\"@@").append(seq).append(':').append(nanos).append(':');
    while (sb.length() < SIZE - 2) sb.append('x');
    return sb.append("\"}").toString();
  }

  /** Finds "@@SEQ:NANOS" in a delivered frame or payload; {seq, nanos} or null. */
  static long[] parse(CharSequence s) {
    return parse(s.length(), i -> {
      char c = s.charAt(i);
      return c < 0x80 ? (byte) c : 0; // the marker and its digits are ASCII
    });
  }

  /** The same in bytes (ASCII), without decoding them to a String. */
  static long[] parse(byte[] b) {
    return parse(b.length, i -> b[i]);
  }

  static long[] parse(ByteBuf b) {
    int base = b.readerIndex();
    return parse(b.readableBytes(), i -> b.getByte(base + i));
  }

  interface Bytes {
    byte at(int i);
  }

  private static long[] parse(int n, Bytes s) {
    for (int i = 0; i + 1 < n; i++) {
      if (s.at(i) == '@' && s.at(i + 1) == '@') {
        int j = i + 2;
        long seq = 0;
        for (byte c; j < n && (c = s.at(j)) >= '0' && c <= '9'; j++) seq = seq * 10 + (c - '0');
        j++;
        long nanos = 0;
        boolean neg = j < n && s.at(j) == '-';
        if (neg) j++;
        for (byte c; j < n && (c = s.at(j)) >= '0' && c <= '9'; j++) nanos = nanos * 10 + (c - '0');
        return new long[] {seq, neg ? -nanos : nanos};
      }
    }
    return null;
  }

  // ---- the measurement, shared by all systems ------------------------------------------------

  /** Counts deliveries of one round (warm-up or measured), releases the publisher's window. */
  static final class Round {
    final int count;
    final int base; // sequence numbers of this round are base .. base+count-1
    final AtomicIntegerArray deliveries;
    final Semaphore window = new Semaphore(WINDOW);
    final AtomicLong complete = new AtomicLong();
    final AtomicLong lastProgress = new AtomicLong(System.nanoTime());
    final AtomicLong rejected = new AtomicLong();
    final Histogram[] latency = new Histogram[SUBS];
    final long[] received = new long[SUBS];
    volatile long lastCompleteNanos;

    Round(int base, int count) {
      this.base = base;
      this.count = count;
      this.deliveries = new AtomicIntegerArray(count);
      for (int i = 0; i < SUBS; i++) latency[i] = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
    }

    /** Called by subscriber {@code sub} (one thread at a time per subscriber). */
    void delivered(int sub, long[] seqNanos) {
      if (seqNanos == null) return;
      int i = (int) seqNanos[0] - base;
      if (i < 0 || i >= count) return;
      long now = System.nanoTime();
      latency[sub].recordValue(Math.max(0, now - seqNanos[1]));
      received[sub]++;
      lastProgress.lazySet(now);
      if (deliveries.incrementAndGet(i) == SUBS) {
        window.release();
        complete.incrementAndGet();
        lastCompleteNanos = now;
      }
    }

    /** A publish the system refused: never delivered, so give its window slot back. */
    void rejected() {
      rejected.incrementAndGet();
      window.release();
    }

    boolean done() {
      return complete.get() + rejected.get() >= count;
    }

    /** Waits until every event reached every subscriber, or nothing moved for 30 s. */
    void await() throws InterruptedException {
      while (!done() && System.nanoTime() - lastProgress.get() < STALL_NANOS) {
        Thread.sleep(2);
      }
    }
  }

  interface Publisher {
    void publish(String event) throws Exception;
  }

  /** Runs a warm-up round then the measured rounds; prints a RESULT line for each. */
  static void run(String system, Publisher publisher, Round[] current) throws Exception {
    if (WARMUP > 0) {
      Round warm = new Round(0, WARMUP);
      current[0] = warm;
      publishAll(warm, publisher);
      warm.await();
      System.err.printf("%s warm-up: %d/%d complete%n", system, warm.complete.get(), WARMUP);
      Thread.sleep(500);
    }
    for (int round = 1; round <= ROUNDS; round++) {
      measure(system, round, publisher, current);
    }
  }

  private static void measure(String system, int round, Publisher publisher, Round[] current)
      throws Exception {
    Round r = new Round(WARMUP + (round - 1) * COUNT, COUNT);
    current[0] = r;
    double cpu0 = serverCpuSeconds();
    double own0 = cpuSeconds("self");
    long t0 = System.nanoTime();
    publishAll(r, publisher);
    long published = System.nanoTime();
    r.await();
    long end = r.done() ? r.lastCompleteNanos : System.nanoTime();
    double cpu = serverCpuSeconds() - cpu0;
    double own = cpuSeconds("self") - own0;
    Histogram all = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
    long received = 0;
    for (int i = 0; i < SUBS; i++) {
      all.add(r.latency[i]);
      received += r.received[i];
    }
    double secs = (end - t0) / 1e9;
    long ok = r.complete.get();
    System.out.printf(Locale.ROOT,
        "RESULT system=%s round=%d events=%d subs=%d size=%d window=%d complete=%d rejected=%d "
            + "missing_deliveries=%d seconds=%.3f publish_seconds=%.3f rate=%.0f "
            + "deliveries_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f server_cpu_s=%.2f client_cpu_s=%.2f%n",
        system, round, COUNT, SUBS, SIZE, WINDOW, ok, r.rejected.get(),
        (long) (COUNT - r.rejected.get()) * SUBS - received, secs, (published - t0) / 1e9,
        ok / secs, received / secs, all.getValueAtPercentile(50) / 1e6,
        all.getValueAtPercentile(99) / 1e6, all.getMaxValue() / 1e6, SERVER_PID > 0 ? cpu : -1, own);
    Thread.sleep(500);
  }

  /** User + system CPU seconds of the SERVER_PID process so far; 0 without one. */
  static double serverCpuSeconds() {
    return SERVER_PID <= 0 ? 0 : cpuSeconds(Integer.toString(SERVER_PID));
  }

  /** User + system CPU seconds of process {@code pid} ("self": this one) so far; 0 if unknown. */
  static double cpuSeconds(String pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      // fields after the command name, which is in parentheses and may hold spaces
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
      return ticks / (double) intEnv("CLK_TCK", 100); // the script passes getconf's
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
  }

  static void publishAll(Round r, Publisher p) throws Exception {
    for (int i = 0; i < r.count; i++) {
      while (!r.window.tryAcquire(1, TimeUnit.SECONDS)) {
        if (System.nanoTime() - r.lastProgress.get() > STALL_NANOS) {
          System.err.println("stalled: no delivery for 30 s; stopping the publisher at " + i);
          return;
        }
      }
      p.publish(event(r.base + i, System.nanoTime()));
    }
  }

  // ---- the node: WebSocket /api/v1/ws ---------------------------------------------------------

  /** Collects whole text frames and hands each to a consumer. */
  static final class WsListener implements WebSocket.Listener {
    final java.util.function.Consumer<CharSequence> onMessage;
    final StringBuilder part = new StringBuilder();
    final CompletableFuture<Void> subscribed = new CompletableFuture<>();

    WsListener(java.util.function.Consumer<CharSequence> onMessage) {
      this.onMessage = onMessage;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      if (!last || part.length() > 0) {
        part.append(data);
        if (last) {
          handle(part);
          part.setLength(0);
        }
      } else {
        handle(data);
      }
      ws.request(1);
      return null;
    }

    private void handle(CharSequence m) {
      // [0, 2, "", {...}] is "subscribed"
      if (m.length() > 4 && m.charAt(3) == '2' && m.charAt(4) == ',') {
        subscribed.complete(null);
      }
      onMessage.accept(m);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      System.err.println("WebSocket closed by the node: " + code + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      System.err.println("WebSocket error: " + error);
    }
  }

  static String createStream(HttpClient http, String base, String adminKey, String name)
      throws Exception {
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/streams"))
        .header("Authorization", "token " + adminKey)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Matcher m = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(created.body());
    if (created.statusCode() / 100 != 2 || !m.find()) {
      throw new IllegalStateException("creating the stream failed: " + created.statusCode()
          + " " + created.body());
    }
    return m.group(1);
  }

  static void node(int port, String adminKey, String label) throws Exception {
    String base = "http://127.0.0.1:" + port + "/api/v1";
    HttpClient http = HttpClient.newHttpClient();
    String stream = createStream(http, base, adminKey, "bench-" + System.nanoTime());
    URI ws = URI.create("ws://127.0.0.1:" + port + "/api/v1/ws");
    Round[] current = new Round[1];
    List<WebSocket> sockets = new ArrayList<>();
    for (int s = 0; s < SUBS; s++) {
      int sub = s;
      WsListener l = new WsListener(m -> {
        Round r = current[0];
        if (r != null && m.length() > 4 && m.charAt(3) == '0') r.delivered(sub, parse(m));
        else if (m.length() > 4 && m.charAt(3) == '7') System.err.println("subscriber: " + m);
      });
      // One HttpClient (so one selector thread) per connection, as each NATS or MQTT client
      // connection has its own reader thread: one selector for 11 sockets cannot keep up.
      WebSocket w = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(ws, l)
          .get(10, TimeUnit.SECONDS);
      w.sendText("{\"type\":\"subscribe\",\"stream\":\"" + stream + "\",\"partition\":0,"
          + "\"authKey\":\"" + adminKey + "\"}", true).get();
      l.subscribed.get(10, TimeUnit.SECONDS);
      sockets.add(w);
    }
    AtomicLong errorsShown = new AtomicLong();
    WebSocket pub = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(ws, new WsListener(m -> {
      if (m.length() > 4 && m.charAt(3) == '7') {
        if (errorsShown.incrementAndGet() <= 3) System.err.println("publisher: " + m);
        Round r = current[0];
        if (r != null) r.rejected();
      }
    })).get(10, TimeUnit.SECONDS);
    String prefix = "{\"type\":\"publish\",\"stream\":\"" + stream + "\",\"authKey\":\""
        + adminKey + "\",\"msg\":\"";
    run(label, event -> pub.sendText(prefix + event.replace("\"", "\\\"") + "\"}", true).join(),
        current);
    pub.abort();
    sockets.forEach(WebSocket::abort);
  }

  /**
   * The same as {@link #node} through Netty's WebSocket client (CLIENT=netty): Java's own
   * ({@code java.net.http}) allows one send at a time per socket, so its publisher waits for
   * each frame to be written, and its per-message machinery costs more CPU than jnats does, on
   * the two cores the server shares with its clients. Netty's decoder checks each text frame's
   * UTF-8, as Java's does; each subscriber reads the sequence number from the frame's bytes, as
   * the NATS subscribers read it from their payload.
   */
  static void nodeNetty(int port, String adminKey, String label) throws Exception {
    String base = "http://127.0.0.1:" + port + "/api/v1";
    String stream = createStream(HttpClient.newHttpClient(), base, adminKey,
        "bench-" + System.nanoTime());
    URI ws = URI.create("ws://127.0.0.1:" + port + "/api/v1/ws");
    // Netty would log through SLF4J, which here is logback at DEBUG: the JDK's logging (INFO).
    io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(intEnv("CLIENT_THREADS", 2),
        NioIoHandler.newFactory());
    Round[] current = new Round[1];
    String subscribe = "{\"type\":\"subscribe\",\"stream\":\"" + stream
        + "\",\"partition\":0,\"authKey\":\"" + adminKey + "\"}";
    List<Channel> sockets = new ArrayList<>();
    try {
      for (int s = 0; s < SUBS; s++) {
        int sub = s;
        CompletableFuture<Void> subscribed = new CompletableFuture<>();
        Channel c = nettySocket(group, ws, frame -> {
          ByteBuf b = frame.content();
          byte type = b.readableBytes() > 4 ? b.getByte(b.readerIndex() + 3) : 0;
          Round r = current[0];
          if (type == '0' && r != null) {
            r.delivered(sub, parse(b));
          } else if (type == '2') {
            subscribed.complete(null);
          } else if (type == '7') {
            System.err.println("subscriber: " + b.toString(StandardCharsets.UTF_8));
          }
        });
        c.writeAndFlush(new TextWebSocketFrame(subscribe)).sync();
        subscribed.get(10, TimeUnit.SECONDS);
        sockets.add(c);
      }
      AtomicLong errorsShown = new AtomicLong();
      Channel pub = nettySocket(group, ws, frame -> {
        ByteBuf b = frame.content();
        if (b.readableBytes() > 4 && b.getByte(b.readerIndex() + 3) == '7') {
          if (errorsShown.incrementAndGet() <= 3) {
            System.err.println("publisher: " + b.toString(StandardCharsets.UTF_8));
          }
          Round r = current[0];
          if (r != null) r.rejected();
        }
      });
      String prefix = "{\"type\":\"publish\",\"stream\":\"" + stream + "\",\"authKey\":\""
          + adminKey + "\",\"msg\":\"";
      run(label, event -> pub.writeAndFlush(
          new TextWebSocketFrame(prefix + event.replace("\"", "\\\"") + "\"}")), current);
      pub.close();
      sockets.forEach(Channel::close);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  /** A connected, upgraded WebSocket whose text frames go to {@code onText} on its loop. */
  private static Channel nettySocket(EventLoopGroup group, URI uri,
      java.util.function.Consumer<TextWebSocketFrame> onText) throws Exception {
    CompletableFuture<Void> upgraded = new CompletableFuture<>();
    Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024),
                new WebSocketClientProtocolHandler(WebSocketClientProtocolConfig.newBuilder()
                    .webSocketUri(uri).maxFramePayloadLength(4 << 20).build()),
                new WebSocketFrameAggregator(4 << 20),
                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame f) {
                    onText.accept(f);
                  }

                  @Override
                  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                    if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent
                        .HANDSHAKE_COMPLETE) {
                      upgraded.complete(null);
                    }
                    ctx.fireUserEventTriggered(event);
                  }

                  @Override
                  public void channelInactive(ChannelHandlerContext ctx) {
                    if (!upgraded.isDone()) {
                      upgraded.completeExceptionally(new IllegalStateException("closed"));
                    }
                  }

                  @Override
                  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    System.err.println("WebSocket error: " + cause);
                    upgraded.completeExceptionally(cause);
                    ctx.close();
                  }
                });
          }
        });
    Channel ch = b.connect(uri.getHost(), uri.getPort()).sync().channel();
    upgraded.get(10, TimeUnit.SECONDS);
    return ch;
  }

  // ---- NATS JetStream -------------------------------------------------------------------------

  static void jetstream(int port, String label) throws Exception {
    Options opts = new Options.Builder().server("nats://127.0.0.1:" + port)
        .maxMessagesInOutgoingQueue(100_000)
        .errorListener(new ErrorListener() {
          @Override
          public void flowControlProcessed(Connection conn, JetStreamSubscription sub,
              String subject, FlowControlSource source) {
            // routine for ordered consumers: not worth a log line per event batch
          }
        }).build();
    Connection pubConn = Nats.connect(opts);
    JetStreamManagement jsm = pubConn.jetStreamManagement();
    String subject = "bench." + System.nanoTime();
    jsm.addStream(StreamConfiguration.builder().name("BENCH" + System.nanoTime())
        .subjects(subject).storageType(StorageType.File).build());
    Round[] current = new Round[1];
    List<Connection> subs = new ArrayList<>();
    for (int s = 0; s < SUBS; s++) {
      int sub = s;
      Connection c = Nats.connect(opts);
      Dispatcher d = c.createDispatcher();
      // An ordered push consumer: delivered from the stream (so after it is stored), no acks,
      // like a realtime WebSocket subscription.
      c.jetStream().subscribe(subject, d, msg -> {
        Round r = current[0];
        if (r != null) r.delivered(sub, parse(msg.getData()));
      }, false, PushSubscribeOptions.builder().ordered(true).build());
      subs.add(c);
    }
    // Acks may take long on a loaded machine: wait for them rather than count them as failed.
    JetStream js = pubConn.jetStream(
        io.nats.client.JetStreamOptions.builder().requestTimeout(Duration.ofSeconds(60)).build());
    AtomicLong errorsShown = new AtomicLong();
    run(label, event -> js.publishAsync(subject, event.getBytes(StandardCharsets.US_ASCII))
        .whenComplete((ack, err) -> {
          if (err != null) {
            if (errorsShown.incrementAndGet() <= 3) System.err.println("publish failed: " + err);
            current[0].rejected();
          }
        }), current);
    for (Connection c : subs) c.close();
    pubConn.close();
  }

  // ---- Mosquitto, MQTT QoS 1 ------------------------------------------------------------------

  static void mosquitto(int port, String label) throws Exception {
    String url = "tcp://127.0.0.1:" + port;
    String topic = "bench/" + System.nanoTime();
    Round[] current = new Round[1];
    List<MqttClient> subs = new ArrayList<>();
    for (int s = 0; s < SUBS; s++) {
      int sub = s;
      MqttClient c = new MqttClient(url, "sub" + s + "-" + System.nanoTime(),
          new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setCleanSession(true);
      o.setMaxInflight(65535);
      c.setCallback(new MqttCallback() {
        @Override
        public void connectionLost(Throwable cause) {
          System.err.println("subscriber lost its connection: " + cause);
        }

        @Override
        public void messageArrived(String t, MqttMessage message) {
          Round r = current[0];
          if (r != null) r.delivered(sub, parse(message.getPayload()));
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
      });
      c.connect(o);
      c.subscribe(topic, 1);
      subs.add(c);
    }
    MqttAsyncClient pub = new MqttAsyncClient(url, "pub-" + System.nanoTime(),
        new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    o.setMaxInflight(65535);
    pub.connect(o).waitForCompletion(10_000);
    run(label, event -> {
      MqttMessage m = new MqttMessage(event.getBytes(StandardCharsets.US_ASCII));
      m.setQos(1);
      pub.publish(topic, m);
    }, current);
    pub.disconnect().waitForCompletion(5000);
    pub.close();
    for (MqttClient c : subs) {
      c.disconnectForcibly(1000);
      c.close();
    }
  }

  public static void main(String[] args) throws Exception {
    switch (args.length > 0 ? args[0] : "") {
      case "node":
        if ("netty".equals(System.getenv("CLIENT"))) {
          nodeNetty(Integer.parseInt(args[1]), args[2], args.length > 3 ? args[3] : "node");
        } else {
          node(Integer.parseInt(args[1]), args[2], args.length > 3 ? args[3] : "node");
        }
        break;
      case "jetstream":
        jetstream(Integer.parseInt(args[1]), args.length > 2 ? args[2] : "jetstream");
        break;
      case "mosquitto":
        mosquitto(Integer.parseInt(args[1]), args.length > 2 ? args[2] : "mosquitto");
        break;
      default:
        System.err.println("usage: StreamsWsBench node HTTP_PORT ADMIN_KEY [LABEL] | "
            + "jetstream NATS_PORT [LABEL] | mosquitto MQTT_PORT [LABEL]");
        System.exit(2);
    }
    System.exit(0);
  }

  private StreamsWsBench() {
  }
}
