package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.stream.Attributes;
import akka.stream.Inlet;
import akka.stream.SinkShape;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;

/**
 * The Java API's writer into a byte stream ({@code UserApi.streamSink}): a sink that puts each
 * element into the stream end's {@link ByteStreamPipe} as far as there is credit for the peer's
 * buffer plus {@code stream-write-ahead} bytes beyond it, and pulls the next element only once
 * the last one is fully accepted, so a slow reader slows the writer and at most one element
 * waits here. The data connection's stage takes the bytes from the pipe (joined up to {@code
 * stream-chunk}) without a message to the endpoint, and sends the write-ahead as soon as the
 * peer's credit covers it, without waking this stage first. Completing the sink closes the
 * stream ({@link ByteStreamEndpoint.WriterDone}) once every byte it accepted is covered by
 * credit; when the stream closes first, the sink cancels its upstream.
 */
final class ByteStreamWriter extends GraphStage<SinkShape<ByteString>> {

  private final Inlet<ByteString> in = Inlet.create("ByteStreamWriter.in");
  private final SinkShape<ByteString> shape = SinkShape.of(in);
  private final ByteStreamPipe pipe;
  private final ActorRef<ByteStreamEndpoint.Command> endpoint;
  private final long writeAhead;

  ByteStreamWriter(ByteStreamPipe pipe, ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    this.pipe = pipe;
    this.endpoint = endpoint;
    this.writeAhead = Math.min(settings.streamWriteAhead, settings.streamBuffer);
  }

  @Override
  public SinkShape<ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private ByteString held = ByteString.emptyByteString();
      private boolean finishing;
      private final AsyncCallback<Done> credit = createAsyncCallback(d -> serve());
      private final Runnable wake = () -> credit.invoke(Done.done());

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            held = grab(in);
            serve();
          }

          @Override
          public void onUpstreamFinish() {
            finishing = true;
            // Its only port is closed now: without this the stage would stop here, before the
            // element it holds has credit (it completes itself once it is accepted).
            setKeepGoing(true);
            serve();
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            endpoint.tell(new ByteStreamEndpoint.WriterDone(ex));
            completeStage();
          }
        });
      }

      @Override
      public void preStart() {
        pull(in);
      }


      private void serve() {
        while (!held.isEmpty()) {
          long n = pipe.outgoing.write(held, writeAhead, wake);
          if (n < 0) {
            // The stream is closed: nothing more can go anywhere.
            completeStage();
            return;
          }
          if (n == 0) {
            return; // woken when credit comes back or the stream closes
          }
          held = n == held.size() ? ByteString.emptyByteString() : held.drop((int) n);
        }
        if (finishing) {
          // The close goes out after the bytes sent before it: only once credit covers them all.
          int covered = pipe.outgoing.awaitCovered(wake);
          if (covered == 0) {
            return; // woken when credit comes or the stream closes
          }
          if (covered < 0) {
            completeStage();
            return;
          }
          endpoint.tell(new ByteStreamEndpoint.WriterDone(null));
          completeStage();
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }
    };
  }
}
