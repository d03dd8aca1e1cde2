package io.peernode.node.http;

import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import akka.util.ByteStringBuilder;

/**
 * Gathers what a connection writes while the socket is busy with the previous write, up to
 * {@code maxBytes} (then the writer is back-pressured), and passes it on as one chunk.
 *
 * <p>It sits at the end of a connection's flow, inside the part that {@link ConnectionSwitch}
 * runs, so that a burst of small WebSocket frames crosses into the connection's stream and the
 * TCP stage as a few chunks instead of one element each; the TCP stage is given a write buffer
 * of one chunk ({@link HttpServer}), because its own buffering appends every element to a
 * {@code ByteStrings} vector, one of the largest costs of a WebSocket that sends many small
 * frames.
 */
final class WriteBatcher extends GraphStage<FlowShape<ByteString, ByteString>> {

  private final Inlet<ByteString> in = Inlet.create("WriteBatcher.in");
  private final Outlet<ByteString> out = Outlet.create("WriteBatcher.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final int maxBytes;

  WriteBatcher(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      /** What waits for the socket; null when nothing does. */
      private ByteStringBuilder batch;
      private boolean finishing;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString bytes = grab(in);
            if (batch == null && isAvailable(out)) {
              push(out, bytes);
            } else {
              if (batch == null) batch = new ByteStringBuilder();
              batch.append(bytes);
            }
            if (batch == null || batch.length() < maxBytes) pull(in);
          }

          @Override
          public void onUpstreamFinish() {
            if (batch == null) {
              completeStage();
            } else {
              finishing = true; // the batch goes out first
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (batch == null) return;
            ByteString bytes = batch.result();
            batch = null;
            push(out, bytes);
            if (finishing) {
              completeStage();
            } else if (!hasBeenPulled(in)) {
              pull(in);
            }
          }
        });
      }

      @Override
      public void preStart() {
        pull(in);
      }
    };
  }
}
