package io.peernode.actors.streams;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.stream.StreamSupport;

/** Clustered ActorSystems in one JVM for tests: artery on 127.0.0.1, port 0, joined to the first. */
final class TestCluster {

  private TestCluster() {}

  static Config config(String extra) {
    return ConfigFactory.parseString(extra + "\n"
            + "akka.actor.provider = cluster\n"
            + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
            + "akka.remote.artery.canonical.port = 0\n"
            + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
            + "akka.cluster.downing-provider-class = \"\"\n"
            + "akka.actor.serialize-messages = off\n"
            + "akka.loglevel = INFO\n")
        .withFallback(ConfigFactory.load());
  }

  /** Joins every system to the first and waits (with a deadline) until all see all Up. */
  static void join(List<ActorTestKit> kits, Duration deadline) {
    ActorSystem<?> first = kits.get(0).system();
    for (ActorTestKit k : kits) {
      Cluster.get(k.system()).manager()
          .tell(Join.create(Cluster.get(first).selfMember().address()));
    }
    long end = System.nanoTime() + deadline.toNanos();
    for (ActorTestKit k : kits) {
      k.createTestProbe().awaitAssert(Duration.ofNanos(Math.max(1, end - System.nanoTime())),
          Duration.ofMillis(100), () -> {
            long up = StreamSupport.stream(
                    Cluster.get(k.system()).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up()).count();
            if (up != kits.size()) {
              throw new AssertionError(up + " of " + kits.size() + " members up");
            }
            return null;
          });
    }
  }
}
