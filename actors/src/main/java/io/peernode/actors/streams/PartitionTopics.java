package io.peernode.actors.streams;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.pubsub.Topic;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's instance of each partition's distributed pub/sub topic (Akka typed
 * {@link Topic}, one per stream partition, found across the cluster through the receptionist).
 * A {@link StreamPartition} publishes its stored events to it, one {@link EventBatch} per append; {@link ClientSubscription}s
 * subscribe to it. Topic actors are created on first use and kept for the node's lifetime.
 */
public final class PartitionTopics {

  private final ActorSystem<?> system;
  private final ConcurrentHashMap<String, ActorRef<Topic.Command<EventBatch>>> topics =
      new ConcurrentHashMap<>();

  public PartitionTopics(ActorSystem<?> system) {
    this.system = system;
  }

  public ActorRef<Topic.Command<EventBatch>> topic(String streamId, int partition) {
    String name = topicName(streamId, partition);
    return topics.computeIfAbsent(name, n -> system.systemActorOf(
        Topic.create(EventBatch.class, n),
        "streamr-topic-" + URLEncoder.encode(n, StandardCharsets.UTF_8),
        Props.empty()));
  }

  static String topicName(String streamId, int partition) {
    return streamId + "#" + partition;
  }
}
