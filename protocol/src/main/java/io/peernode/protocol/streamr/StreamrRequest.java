package io.peernode.protocol.streamr;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A request a client sends over the WebSocket, already validated by {@link StreamrRequests}.
 * Field names follow client-protocol.md; optional fields are resolved to their defaults
 * (partition 0) except where "absent" means something (publish {@code ts} and {@code pkey}).
 */
public sealed interface StreamrRequest {

  /** The wire name of the request type ("publish", ...), used in error payloads. */
  String type();

  String stream();

  /** The key sent as {@code authKey}; empty for anonymous requests. */
  Optional<String> authKey();

  /**
   * {@code {"type":"publish","stream","authKey","msg","ts"?,"pkey"?}}.
   *
   * @param msgJson {@code msg} as it stood in the request: its JSON string literal, quotes
   *     and escapes included; null when the request was not read by the fast path. Lets the
   *     node put the event's content into broadcasts without escaping it again.
   */
  record Publish(String stream, Optional<String> authKey, String msg, OptionalLong ts,
      Optional<String> pkey, String msgJson) implements StreamrRequest {

    public Publish(String stream, Optional<String> authKey, String msg, OptionalLong ts,
        Optional<String> pkey) {
      this(stream, authKey, msg, ts, pkey, null);
    }

    /** The same request without {@link #msgJson}. */
    public Publish withoutMsgJson() {
      return msgJson == null ? this : new Publish(stream, authKey, msg, ts, pkey);
    }

    @Override
    public String type() {
      return "publish";
    }
  }

  /** {@code {"type":"subscribe","stream","partition"?,"authKey"?}}. */
  record Subscribe(String stream, int partition, Optional<String> authKey)
      implements StreamrRequest {
    @Override
    public String type() {
      return "subscribe";
    }
  }

  /** {@code {"type":"unsubscribe","stream","partition"?}}. */
  record Unsubscribe(String stream, int partition, Optional<String> authKey)
      implements StreamrRequest {
    @Override
    public String type() {
      return "unsubscribe";
    }
  }

  /** {@code {"type":"resend","stream","partition"?,"sub","authKey"?, <one ResendSpec>}}. */
  record Resend(
      String stream, int partition, String sub, Optional<String> authKey, ResendSpec spec)
      implements StreamrRequest {
    @Override
    public String type() {
      return "resend";
    }
  }

  /** Which stored events a resend asks for. */
  sealed interface ResendSpec {
    /** {@code resend_all: true}. */
    record All() implements ResendSpec {}

    /** {@code resend_last: n}: the last n stored events. */
    record Last(long count) implements ResendSpec {}

    /** {@code resend_from: offset} with optional {@code resend_to: offset}, both inclusive. */
    record FromOffset(long from, OptionalLong to) implements ResendSpec {}

    /** {@code resend_from_time: epochMillis}: events whose timestamp is at or after it. */
    record FromTime(long fromMillis) implements ResendSpec {}
  }
}
