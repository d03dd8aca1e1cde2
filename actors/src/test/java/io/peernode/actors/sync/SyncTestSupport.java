package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.protocol.sync.Frame;
import io.peernode.protocol.sync.FrameDecoder;
import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.FrameException;
import io.peernode.protocol.sync.SyncJson;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Shared helpers: a local (non-cluster) test kit, servers on port 0, a raw socket client. */
final class SyncTestSupport {

  private SyncTestSupport() {}

  static ActorTestKit testKit(String name) {
    return testKit(name, "");
  }

  /** A test kit whose configuration starts with {@code overrides} (e.g. a client transport). */
  static ActorTestKit testKit(String name, String overrides) {
    Config c = ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseString(
            "akka.actor.provider = local\n"
                + "akka.loglevel = WARNING\n"
                + "akka.log-dead-letters = off\n"
                + "akka.loggers = [\"akka.event.slf4j.Slf4jLogger\"]\n"
                + "akka.logging-filter = \"akka.event.slf4j.Slf4jLoggingFilter\"\n"
                + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"))
        .withFallback(ConfigFactory.load());
    return ActorTestKit.create(name, c);
  }

  /** Collects ERROR events of every logger (Akka's too, through SLF4J) from now on. */
  static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> captureErrors() {
    var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var appender = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    appender.addFilter(new ch.qos.logback.core.filter.Filter<>() {
      @Override
      public ch.qos.logback.core.spi.FilterReply decide(ch.qos.logback.classic.spi.ILoggingEvent e) {
        return e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.ERROR)
            ? ch.qos.logback.core.spi.FilterReply.NEUTRAL : ch.qos.logback.core.spi.FilterReply.DENY;
      }
    });
    appender.start();
    root.addAppender(appender);
    return appender;
  }

  static SyncSettings settings(ActorTestKit kit, Path root, String overrides) {
    Config c = ConfigFactory.parseString("port = 0\nhost = \"127.0.0.1\"\n" + overrides)
        .withFallback(kit.system().settings().config().getConfig("peer.sync"));
    return SyncSettings.fromConfig(c, root);
  }

  static SyncServer.Binding bind(ActorTestKit kit, SyncSettings s, CollectorRegistry registry) throws Exception {
    return SyncServer.bind(kit.system(), s, registry).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  /** Polls {@code condition} until it holds or the deadline passes (no fixed sleeps). */
  static void eventually(Duration deadline, String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    long pause = 5;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("not within " + deadline + ": " + what);
      }
      Thread.sleep(pause);
      pause = Math.min(100, pause * 2);
    }
  }

  static long countFiles(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** A blocking socket that speaks frames byte-exactly, for hostile-input tests. */
  static final class RawClient implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final InputStream in;
    final FrameDecoder decoder = new FrameDecoder(1 << 20, 64 << 20);
    final ArrayDeque<Frame> frames = new ArrayDeque<>();
    boolean eof;

    RawClient(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(15_000);
      out = socket.getOutputStream();
      in = socket.getInputStream();
    }

    RawClient write(byte[] b) throws IOException {
      out.write(b);
      out.flush();
      return this;
    }

    RawClient write(String s) throws IOException {
      return write(s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    RawClient frame(String json) throws Exception {
      return frame(json, new byte[0]);
    }

    RawClient frame(String json, byte[] bin) throws Exception {
      return write(FrameEncoder.encode(
          SyncJson.parseObject(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), bin));
    }

    /** The next frame, or null at end of stream. */
    Frame read() throws IOException, FrameException {
      byte[] buf = new byte[65536];
      while (frames.isEmpty() && !eof) {
        int n;
        try {
          n = in.read(buf);
        } catch (java.net.SocketException e) {
          n = -1; // reset by the server counts as closed
        }
        if (n < 0) {
          eof = true;
        } else {
          decoder.feed(java.nio.ByteBuffer.wrap(buf, 0, n), frames::add);
        }
      }
      return frames.poll();
    }

    Frame expect(String command) throws Exception {
      Frame f = read();
      if (f == null) {
        fail("connection closed, expected " + command);
      }
      assertEquals(command, f.command(), () -> "got " + f.json());
      return f;
    }

    /** Asserts the server closes the connection (after any frames still in flight). */
    void expectClosed() throws Exception {
      try {
        while (read() != null) {
          // drain
        }
      } catch (SocketTimeoutException e) {
        fail("the server did not close the connection");
      }
    }

    List<Frame> drain() throws Exception {
      List<Frame> all = new java.util.ArrayList<>();
      Frame f;
      while ((f = read()) != null) {
        all.add(f);
      }
      return all;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
