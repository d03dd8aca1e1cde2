package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.stream.Attributes;
import akka.stream.Outlet;
import akka.stream.SourceShape;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;

/**
 * The Java API's reader of a byte stream ({@code UserApi.streamSource}): a source that takes the
 * unread bytes straight from the stream end's {@link ByteStreamPipe} as downstream pulls, up to
 * {@code stream-chunk} at a time, and emits them in elements of at most {@code
 * stream-source-chunk} (slices, not copies). It takes nothing it was not asked for, so a slow
 * consumer leaves the buffer full and the writer's credit at 0. When it finds nothing unread it
 * leaves its demand (one chunk) in the pipe, and the data connection hands the next bytes to it
 * directly. Credit for what it took goes back to the peer in batches of at least {@code
 * stream-credit-batch} bytes (a batch is never more than the buffer, so a writer without credit
 * always has some coming); for bytes handed to its demand the data connection gives it back
 * as it hands them, without waiting for this stage to wake. Completes once the
 * stream is closed and its unread bytes are taken; tells the endpoint when it stops
 * ({@link ByteStreamEndpoint.ReaderDetached}).
 */
final class ByteStreamReader extends GraphStage<SourceShape<ByteString>> {

  private final Outlet<ByteString> out = Outlet.create("ByteStreamReader.out");
  private final SourceShape<ByteString> shape = SourceShape.of(out);
  private final ByteStreamPipe pipe;
  private final ActorRef<ByteStreamEndpoint.Command> endpoint;
  private final int take;
  private final int element;
  private final long creditBatch;

  ByteStreamReader(ByteStreamPipe pipe, ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    this.pipe = pipe;
    this.endpoint = endpoint;
    this.take = settings.streamChunk;
    this.element = settings.streamSourceChunk;
    this.creditBatch = Math.min(settings.streamCreditBatch, settings.streamBuffer);
  }

  @Override
  public SourceShape<ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      /** What was taken and not yet emitted. */
      private ByteString rest = ByteString.emptyByteString();
      private final AsyncCallback<Done> more = createAsyncCallback(d -> {
        if (isAvailable(out)) {
          emitNext();
        }
      });
      private final Runnable wake = () -> more.invoke(Done.done());

      {
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            emitNext();
          }
        });
      }

      private void emitNext() {
        if (rest.isEmpty()) {
          rest = pipe.read(take, creditBatch, wake);
          if (rest.isEmpty()) {
            if (pipe.incoming.drained()) {
              completeStage();
            }
            return;
          }
        }
        if (rest.size() <= element) {
          ByteString e = rest;
          rest = ByteString.emptyByteString();
          push(out, e);
        } else {
          push(out, rest.take(element));
          rest = rest.drop(element);
        }
      }

      @Override
      public void postStop() {
        pipe.incoming.cancelDemand();
        endpoint.tell(ByteStreamEndpoint.ReaderDetached.INSTANCE);
      }
    };
  }
}
