package io.peernode.actors.streams;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.Source;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stream side of one client connection, in one stage: the client's text messages in, the
 * server's messages out (each the UTF-8 of one text message), and the connection's {@link
 * ClientConnection} actor, which each materialization starts and which is told when the
 * stream ends.
 *
 * <p>One stage instead of a composition of library stages (an actor sink, a source queue, a
 * merge hub for resends, a merge and a coupled-termination bidi) because an idle connection
 * is mostly its stream's stages, and a node holds many idle connections. The graph is a
 * blueprint with no per-connection state, so one instance serves every connection.
 *
 * <p>Guarantees: incoming messages reach the actor in order, at most {@code
 * peer.streams.connection.read-ahead} of them (and past the first, {@code read-ahead-chars} of
 * text) before the actor has handled them ({@link Link#readNext}, once per message); outgoing
 * messages are buffered up to {@code peer.streams.connection.outgoing-buffer}, beyond which
 * {@link Outgoing#offer} answers FULL at once; a resend answer is pulled only as fast as the
 * client reads; the end of either side ends both. With a {@link ClientConnection.Framing},
 * the messages waiting when the transport asks for more go out as one element (at most
 * {@code write-batch} bytes of them, and at least one message), in their order.
 */
final class ConnectionStage extends GraphStage<FlowShape<String, ByteString>> {

  /** What the connection's actor can do with its stream. Thread-safe; nothing blocks. */
  interface Link extends Outgoing {
    /**
     * An incoming message of {@code chars} characters is handled (each once, in the order they
     * came): its place in the read-ahead window is free.
     */
    void readNext(int chars);

    /** Sends a resend answer through the connection, as fast as the client reads it. */
    void resend(Source<String, NotUsed> answer);

    /** Ends the output after what is buffered (this closes the WebSocket); once. */
    void complete();

    /** Ends the output at once with an error (closes the WebSocket); once. */
    void fail(Throwable reason);
  }

  private static final Object WAKE_UP = new Object();
  private static final Object COMPLETE = new Object();

  /**
   * Messages in one element of a framed connection, whatever their size (write-batch bounds
   * their bytes): a burst of tiny messages still leaves in pieces the socket takes at once.
   */
  private static final int MAX_BATCH = 256;

  /** Actor names of connections, unique in the JVM. */
  private static final AtomicLong CONNECTIONS = new AtomicLong();

  private final Inlet<String> in = Inlet.create("ClientConnection.in");
  private final Outlet<ByteString> out = Outlet.create("ClientConnection.out");
  private final FlowShape<String, ByteString> shape = FlowShape.of(in, out);
  private final ActorSystem<?> system;
  private final ClientConnection.Deps deps;
  /** Null: each message is an element of its own. */
  private final ClientConnection.Framing framing;

  ConnectionStage(ActorSystem<?> system, ClientConnection.Deps deps,
      ClientConnection.Framing framing) {
    this.system = system;
    this.deps = deps;
    this.framing = framing;
  }

  @Override
  public FlowShape<String, ByteString> shape() {
    return shape;
  }

  // No name attribute: a stage with attributes of its own gets a copy of the inherited ones
  // in each materialization, heap that every idle WebSocket would keep.

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic implements Link {
    // Written by any thread (the actor, its subscriptions), read by the stage.
    private final ConcurrentLinkedQueue<ByteString> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** The stage found the queue empty with demand: the next offer must wake it. */
    private final AtomicBoolean waiting = new AtomicBoolean();
    private volatile boolean ended;
    /**
     * What the actor asks of the stage: {@link #WAKE_UP}, the characters of a handled message
     * (an Integer), {@link #COMPLETE}, a resend answer (a Source) or the Throwable to fail
     * with. One callback for all, as each callback is heap that every idle connection holds.
     */
    private AsyncCallback<Object> signal;

    // Stage state.
    private ActorRef<ClientConnection.Command> connection;
    /** Running resend answers; null until the first. */
    private List<SubSinkInlet<String>> resends;
    private int nextResend;
    /** Output ends once the queue is drained. */
    private boolean completing;
    /** Messages told to the actor and not yet handled, and their characters. */
    private int inFlight;
    private long inFlightChars;

    Logic() {
      super(shape);
      setHandler(in, new AbstractInHandler() {
        @Override
        public void onPush() {
          String text = grab(in);
          connection.tell(new ClientConnection.Frame(text));
          inFlight++;
          inFlightChars += text.length();
          readAhead();
        }

        @Override
        public void onUpstreamFinish() {
          completeStage();
        }

        @Override
        public void onUpstreamFailure(Throwable ex) {
          completeStage(); // the client is gone either way
        }
      });
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          emitNext();
        }
      });
    }

    @Override
    public void preStart() {
      signal = createAsyncCallback(this::onSignal);
      connection = system.systemActorOf(ClientConnection.create(deps, this),
          "streamr-connection-" + CONNECTIONS.incrementAndGet(), Props.empty());
      pull(in);
    }

    @Override
    public void postStop() {
      ended = true;
      if (connection != null) connection.tell(ClientConnection.ClientGone.INSTANCE);
    }

    // ---- Link: any thread ---------------------------------------------------------------------

    @Override
    public Offer offer(ByteString utf8) {
      if (ended) return Offer.CLOSED;
      if (queued.incrementAndGet() > deps.settings.outgoingBuffer) {
        queued.decrementAndGet();
        return Offer.FULL;
      }
      queue.add(utf8);
      if (waiting.get() && waiting.compareAndSet(true, false)) signal.invoke(WAKE_UP);
      return Offer.SENT;
    }

    @Override
    public void readNext(int chars) {
      signal.invoke(chars);
    }

    @Override
    public void resend(Source<String, NotUsed> answer) {
      signal.invoke(answer);
    }

    @Override
    public void complete() {
      ended = true;
      signal.invoke(COMPLETE);
    }

    @Override
    public void fail(Throwable reason) {
      ended = true;
      signal.invoke(reason);
    }

    // ---- stage --------------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private void onSignal(Object s) {
      if (s == WAKE_UP) {
        if (isAvailable(out)) emitNext();
      } else if (s instanceof Integer) {
        inFlight--;
        inFlightChars -= (Integer) s;
        readAhead();
      } else if (s == COMPLETE) {
        if (completing) return;
        completing = true;
        cancel(in);
        if (resends != null) {
          for (SubSinkInlet<String> r : resends) r.cancel();
          resends = null;
        }
        if (isAvailable(out)) emitNext();
      } else if (s instanceof Throwable) {
        failStage((Throwable) s);
      } else {
        runResend((Source<String, NotUsed>) s);
      }
    }

    /** Reads the next incoming message if the read-ahead window has room for it. */
    private void readAhead() {
      if (isClosed(in) || hasBeenPulled(in)) return;
      if (inFlight == 0 || (inFlight < deps.settings.readAhead
          && inFlightChars < deps.settings.readAheadChars)) {
        pull(in);
      }
    }

    /** Out has demand: the queue first (realtime and control messages), then resends. */
    private void emitNext() {
      ByteString text = queue.poll();
      if (text == null) {
        // Tell offers to wake the stage, then look again: an offer that came in between
        // is seen here or wakes the stage (a spare wake-up finds out busy or the queue empty).
        waiting.set(true);
        text = queue.poll();
        if (text != null) waiting.set(false);
      }
      if (text != null) {
        if (framing == null) {
          queued.decrementAndGet();
          push(out, text);
        } else {
          pushFramed(text);
        }
        return;
      }
      if (resends != null && emitResend()) return;
      if (completing) completeStage();
    }

    /** {@code first} and what waits behind it, up to write-batch bytes, as one element. */
    private void pushFramed(ByteString first) {
      int limit = deps.settings.writeBatch;
      // Sized by what is queued now: an element is one allocation, and the stage keeps none.
      ByteString[] batch = new ByteString[Math.max(1, Math.min(queued.get(), MAX_BATCH))];
      batch[0] = first;
      int count = 1;
      int bytes = first.length();
      ByteString next;
      // Only the stage takes from the queue: what it peeks at is what it polls.
      while (count < batch.length && (next = queue.peek()) != null
          && bytes + next.length() <= limit) {
        batch[count++] = queue.poll();
        bytes += next.length();
      }
      queued.addAndGet(-count);
      push(out, framing.frame(batch, count, bytes));
    }

    private ByteString framed(ByteString message) {
      return framing == null ? message : framing.frame(new ByteString[] {message}, 1,
          message.length());
    }

    private boolean emitResend() {
      for (int i = 0; i < resends.size(); i++) {
        int k = (nextResend + i) % resends.size();
        SubSinkInlet<String> r = resends.get(k);
        if (r.isAvailable()) {
          push(out, framed(ByteString.fromString(r.grab())));
          if (r.isClosed()) {
            resends.remove(k);
          } else {
            r.pull();
          }
          nextResend = k + 1;
          return true;
        }
      }
      return false;
    }

    private void runResend(Source<String, NotUsed> answer) {
      if (completing) return;
      SubSinkInlet<String> inlet = new SubSinkInlet<>("ClientConnection.resend");
      if (resends == null) resends = new ArrayList<>(2);
      resends.add(inlet);
      inlet.setHandler(new AbstractInHandler() {
        @Override
        public void onPush() {
          if (isAvailable(out)) emitNext();
        }

        @Override
        public void onUpstreamFinish() {
          // With an element still held, it goes once that is out (see emitResend).
          if (resends != null && !inlet.isAvailable()) resends.remove(inlet);
        }

        @Override
        public void onUpstreamFailure(Throwable ex) {
          // Answers recover into an error message; this is a last resort.
          if (resends != null) resends.remove(inlet);
        }
      });
      answer.runWith(inlet.sink(), subFusingMaterializer());
      inlet.pull();
    }
  }
}
