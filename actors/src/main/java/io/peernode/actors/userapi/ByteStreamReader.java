package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.stream.Attributes;
import akka.stream.Outlet;
import akka.stream.SourceShape;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

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
 *
 * <p>Each materialization attaches itself ({@code attach}: the endpoint's lookup and {@link
 * ByteStreamEndpoint.AttachReader}, asked when the stage starts) and emits once it is attached:
 * empty (a reader is attached already) completes it, a failed lookup fails it. The stage does
 * this itself rather than behind {@code Source.completionStageSource}, whose inner source would
 * hand every element across a sub-stream boundary (an async event per element, and more code
 * for the JIT to compile on the hot path).
 */
final class ByteStreamReader extends GraphStage<SourceShape<ByteString>> {

  private final Outlet<ByteString> out = Outlet.create("ByteStreamReader.out");
  private final SourceShape<ByteString> shape = SourceShape.of(out);
  private final Supplier<CompletionStage<Optional<ByteStreamPipe.End>>> attach;
  private final int take;
  private final int element;
  private final long creditBatch;

  /** A reader of a stream end attached already. */
  ByteStreamReader(ByteStreamPipe pipe, ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    this(() -> CompletableFuture.completedFuture(Optional.of(new ByteStreamPipe.End(pipe, endpoint))), settings);
  }

  /** A reader that attaches with {@code attach} when it starts (empty: another reader has the stream). */
  ByteStreamReader(Supplier<CompletionStage<Optional<ByteStreamPipe.End>>> attach, UserApiSettings settings) {
    this.attach = attach;
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
      private CompletionStage<Optional<ByteStreamPipe.End>> attaching;
      /** Null until attached. */
      private ByteStreamPipe pipe;
      private ActorRef<ByteStreamEndpoint.Command> endpoint;
      /** What was taken and not yet emitted. */
      private ByteString rest = ByteString.emptyByteString();
      private final AsyncCallback<Object> more = createAsyncCallback(d -> {
        if (isAvailable(out)) {
          emitNext();
        }
      });
      private final Runnable wake = () -> more.invoke(null);

      {
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (pipe != null) {
              emitNext();
            }
          }
        });
      }

      @Override
      public void preStart() {
        AsyncCallback<Object> attached = createAsyncCallback(this::attached);
        attaching = attach.get();
        attaching.whenComplete((end, failure) -> attached.invoke(failure != null ? failure : end));
      }

      @SuppressWarnings("unchecked")
      private void attached(Object result) {
        if (result instanceof Throwable) {
          Throwable t = (Throwable) result;
          failStage(t instanceof CompletionException && t.getCause() != null ? t.getCause() : t);
          return;
        }
        Optional<ByteStreamPipe.End> end = (Optional<ByteStreamPipe.End>) result;
        if (end.isEmpty()) {
          completeStage(); // one reader at a time: another one has the stream
          return;
        }
        pipe = end.get().pipe;
        endpoint = end.get().endpoint;
        if (isAvailable(out)) {
          emitNext();
        }
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
        if (pipe != null) {
          pipe.incoming.cancelDemand();
          endpoint.tell(ByteStreamEndpoint.ReaderDetached.INSTANCE);
        } else if (attaching != null) {
          // Stopped before the attach came back: once it does, the endpoint must not keep
          // this reader as attached (it would refuse every later one).
          attaching.thenAccept(end -> end.ifPresent(e -> {
            e.pipe.incoming.cancelDemand();
            e.endpoint.tell(ByteStreamEndpoint.ReaderDetached.INSTANCE);
          }));
        }
      }
    };
  }
}
