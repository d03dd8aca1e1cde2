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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The Java API's writer into a byte stream ({@code UserApi.streamSink}): a sink that puts each
 * element into the stream end's {@link ByteStreamPipe} as far as there is credit for the peer's
 * buffer plus {@code stream-write-ahead} bytes beyond it, and pulls the next element only once
 * the last one is fully accepted, so a slow reader slows the writer and at most one element
 * waits here. The data connection takes the bytes from the pipe (up to {@code stream-chunk} per
 * data frame) without a message to the endpoint, and sends the write-ahead as soon as the
 * peer's credit covers it, without waking this stage first. Completing the sink closes the
 * stream ({@link ByteStreamEndpoint.WriterDone}) once every byte it accepted is covered by
 * credit; when the stream closes first, the sink cancels its upstream.
 *
 * <p>Each materialization attaches itself ({@code attach}: the endpoint's lookup and {@link
 * ByteStreamEndpoint.AttachWriter}, asked when the stage starts) and pulls its first element
 * once it is attached; a failed lookup fails it (its upstream is cancelled). The stage does this
 * itself rather than behind {@code Sink.completionStageSink}, whose inner sink would take every
 * element across a sub-stream boundary (an async event per element, and more code for the JIT
 * to compile on the hot path), and which would never close the stream for an upstream that
 * completes before its first element.
 */
final class ByteStreamWriter extends GraphStage<SinkShape<ByteString>> {

  private final Inlet<ByteString> in = Inlet.create("ByteStreamWriter.in");
  private final SinkShape<ByteString> shape = SinkShape.of(in);
  private final Supplier<CompletionStage<ByteStreamPipe.End>> attach;
  private final long writeAhead;

  /** A writer into a stream end attached already. */
  ByteStreamWriter(ByteStreamPipe pipe, ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    this(() -> CompletableFuture.completedFuture(new ByteStreamPipe.End(pipe, endpoint)), settings);
  }

  /** A writer that attaches with {@code attach} when it starts. */
  ByteStreamWriter(Supplier<CompletionStage<ByteStreamPipe.End>> attach, UserApiSettings settings) {
    this.attach = attach;
    this.writeAhead = Math.min(settings.streamWriteAhead, settings.streamBuffer);
  }

  @Override
  public SinkShape<ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private CompletionStage<ByteStreamPipe.End> attaching;
      /** Null until attached. */
      private ByteStreamPipe pipe;
      private ActorRef<ByteStreamEndpoint.Command> endpoint;
      /** Upstream failed before the stage was attached. */
      private Throwable failedEarly;
      private ByteString held = ByteString.emptyByteString();
      private boolean finishing;
      private final AsyncCallback<Done> credit = createAsyncCallback(d -> serve());
      private final Runnable wake = () -> credit.invoke(Done.done());

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            held = grab(in); // pulled only once attached
            serve();
          }

          @Override
          public void onUpstreamFinish() {
            finishing = true;
            // Its only port is closed now: without this the stage would stop here, before the
            // element it holds has credit (it completes itself once it is accepted).
            setKeepGoing(true);
            if (pipe != null) {
              serve();
            }
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            if (endpoint != null) {
              endpoint.tell(new ByteStreamEndpoint.WriterDone(ex));
            } else {
              failedEarly = ex; // told once attached (postStop)
            }
            completeStage();
          }
        });
      }

      @Override
      public void preStart() {
        AsyncCallback<Object> attached = createAsyncCallback(this::attached);
        attaching = attach.get();
        attaching.whenComplete((end, failure) -> attached.invoke(failure != null ? failure : end));
      }

      private void attached(Object result) {
        if (result instanceof Throwable) {
          Throwable t = (Throwable) result;
          failStage(t instanceof CompletionException && t.getCause() != null ? t.getCause() : t);
          return;
        }
        pipe = ((ByteStreamPipe.End) result).pipe;
        endpoint = ((ByteStreamPipe.End) result).endpoint;
        if (finishing) {
          serve(); // upstream completed with no element: the stream closes
        } else {
          pull(in);
        }
      }

      @Override
      public void postStop() {
        if (endpoint == null && failedEarly != null && attaching != null) {
          // Upstream failed before the attach came back: the failure closes the stream all the same.
          Throwable cause = failedEarly;
          attaching.thenAccept(end -> end.endpoint.tell(new ByteStreamEndpoint.WriterDone(cause)));
        }
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
