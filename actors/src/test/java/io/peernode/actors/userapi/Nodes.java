package io.peernode.actors.userapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.peernode.actors.cluster.TestCluster;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.CollectorRegistry;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Test helpers: a UserApi per test-cluster node, JSON literals, waiting on results. */
final class Nodes {

  private Nodes() {}

  static UserApi userApi(TestCluster.Node node) {
    return userApi(node, new CollectorRegistry());
  }

  static UserApi userApi(TestCluster.Node node, CollectorRegistry registry) {
    return UserApi.create(node.system(), node.id, node.system().settings().config(), registry);
  }

  static JsonNode json(String text) {
    return CanonicalJson.parse(text);
  }

  /** The result, waiting at most 15 s; the failure's cause is rethrown as is. */
  static <T> T await(CompletionStage<T> stage) {
    return await(stage, java.time.Duration.ofSeconds(15));
  }

  static <T> T await(CompletionStage<T> stage, java.time.Duration max) {
    try {
      return stage.toCompletableFuture().get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException) {
        throw (RuntimeException) e.getCause();
      }
      throw new AssertionError(e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("no result within " + max, e);
    }
  }

  static UserApiException failure(CompletionStage<?> stage) {
    try {
      await(stage);
    } catch (UserApiException e) {
      return e;
    }
    throw new AssertionError("expected the call to fail");
  }

  static double metric(CollectorRegistry registry, String name, String[] labels, String[] values) {
    Double v = registry.getSampleValue(name, labels, values);
    return v == null ? 0 : v;
  }

  /** A single-node testkit; remoting on a free port, so parallel test runs never collide. */
  static akka.actor.testkit.typed.javadsl.ActorTestKit localTestKit() {
    return akka.actor.testkit.typed.javadsl.ActorTestKit.create(
        ConfigFactory.parseString("akka.actor.provider = cluster\n"
                + "akka.remote.artery.canonical.port = 0\nakka.remote.artery.canonical.hostname = \"127.0.0.1\"")
            .withFallback(ConfigFactory.load()));
  }

  static com.typesafe.config.Config config(String text) {
    return ConfigFactory.parseString(text);
  }
}
