package io.peernode.node.streamr;

import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameError;
import akka.http.impl.engine.ws.FrameEvent;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.http.impl.engine.ws.ProtocolException;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import scala.Option;

/**
 * Removes the clients' frame masks (RFC 6455 section 5.3), as Akka HTTP's {@code
 * Masking.unmaskIf(true)} does, eight bytes at a time: Akka's XORs one byte per step of a
 * recursion and copies each frame's data twice (out of the ByteString and into a new one);
 * here it is copied once. In bench/streams-ws it was 4% of the node's CPU, for one publisher.
 * A frame without a mask is the same protocol error as there: the first such frame is answered
 * with a {@link FrameError} (Akka's frame handler closes the connection with 1002), and what
 * follows is dropped.
 */
final class Unmasking extends GraphStage<FlowShape<FrameEvent, FrameEventOrError>> {

  private static final VarHandle LONG_BE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private final Inlet<FrameEvent> in = Inlet.create("Unmasking.in");
  private final Outlet<FrameEventOrError> out = Outlet.create("Unmasking.out");
  private final FlowShape<FrameEvent, FrameEventOrError> shape = FlowShape.of(in, out);

  @Override
  public FlowShape<FrameEvent, FrameEventOrError> shape() {
    return shape;
  }

  /**
   * XORs {@code b} with {@code mask} repeated, its top byte first (the key's first byte on the
   * wire); answers the mask to go on with at the byte after {@code b}.
   */
  static int unmask(byte[] b, int mask) {
    int n = b.length;
    int i = 0;
    long m = ((long) mask << 32) | (mask & 0xFFFFFFFFL);
    for (; i + 8 <= n; i += 8) {
      LONG_BE.set(b, i, (long) LONG_BE.get(b, i) ^ m);
    }
    for (; i < n; i++) {
      b[i] ^= (byte) (mask >>> 24);
      mask = Integer.rotateLeft(mask, 8);
    }
    return mask;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      /** The mask at the next byte of the frame being read, while it has parts to come. */
      private int mask;
      private boolean inFrame;
      private boolean failed;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            FrameEvent e = grab(in);
            if (failed) {
              pull(in);
            } else if (e instanceof FrameStart) {
              onStart((FrameStart) e);
            } else if (!inFrame) {
              failStage(new IllegalStateException("unexpected FrameData (need FrameStart first)"));
            } else {
              inFrame = !e.lastPart();
              push(out, ((FrameData) e).withData(unmasked(e.data())));
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      private void onStart(FrameStart start) {
        FrameHeader h = start.header();
        Option<Object> key = h.mask();
        if (key.isEmpty()) {
          failed = true;
          push(out, new FrameError(new ProtocolException("Frame wasn't masked")));
          return;
        }
        mask = (Integer) key.get();
        inFrame = !start.lastPart();
        FrameHeader plain =
            h.copy(h.opcode(), Option.empty(), h.length(), h.fin(), h.rsv1(), h.rsv2(), h.rsv3());
        push(out, start.copy(plain, unmasked(start.data())));
      }

      private ByteString unmasked(ByteString data) {
        if (data.isEmpty()) return data;
        byte[] b = data.toArray();
        mask = unmask(b, mask);
        return ByteString.fromArrayUnsafe(b);
      }
    };
  }
}
