package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A stream end's pipe on its own (no actors, no sockets): the write-ahead of the Java writer,
 * which only credit lets out, and the demand of a waiting Java reader, to which the data
 * connection hands the next bytes with their credit.
 */
class ByteStreamPipeTest {

  static ByteString bytes(int n, int fill) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) fill);
    return ByteString.fromArrayUnsafe(b);
  }

  @Test
  void aWriteAheadIsAcceptedButOnlyCreditLetsItOut() {
    ByteStreamPipe.Outgoing out = new ByteStreamPipe.Outgoing();
    out.addCredit(100);
    AtomicInteger senderWoken = new AtomicInteger();
    AtomicInteger writerWoken = new AtomicInteger();
    assertEquals(ByteString.emptyByteString(), out.poll(1000, senderWoken::incrementAndGet));

    // 100 bytes of credit and 150 of write-ahead: 250 of 300 accepted.
    assertEquals(250, out.write(bytes(300, 1), 150, writerWoken::incrementAndGet));
    assertEquals(1, senderWoken.get(), "covered bytes wake the data connection");
    assertEquals(0, out.write(bytes(10, 2), 150, writerWoken::incrementAndGet), "no room left");
    assertEquals(0, out.write(bytes(10, 2), 0, null), "stream_write (no write-ahead) gets 0 too");

    assertEquals(100, out.poll(1000, senderWoken::incrementAndGet).size(), "only the covered bytes go out");
    assertEquals(0, out.poll(1000, senderWoken::incrementAndGet).size());
    assertEquals(150, out.size(), "the write-ahead waits");
    assertEquals(0, out.awaitCovered(writerWoken::incrementAndGet), "not all covered");

    // Credit covers the write-ahead first, wakes the writer, and does not wake the sender (the
    // data connection adds it itself and sends next).
    int sender = senderWoken.get();
    assertTrue(out.addCredit(120));
    assertEquals(1, writerWoken.get());
    assertEquals(sender, senderWoken.get());
    assertEquals(120, out.poll(1000, null).size());
    assertTrue(out.addCredit(100), "covers the last 30, 70 left over");
    assertEquals(1, out.awaitCovered(null), "all covered");
    assertEquals(30, out.poll(1000, null).size());
    assertEquals(70, out.write(bytes(70, 3), 0, null), "stream_write gets exactly the credit left");
    assertEquals(0, out.write(bytes(1, 3), 0, null));
  }

  @Test
  void theSocketWriterTakesCoveredPiecesAsTheyAreUpToItsChunkAndSplitsOnlyTheLast() {
    ByteStreamPipe.Outgoing out = new ByteStreamPipe.Outgoing();
    out.addCredit(250);
    assertEquals(100, out.write(bytes(100, 1), 0, null));
    assertEquals(100, out.write(bytes(100, 2), 0, null));
    assertEquals(100, out.write(bytes(100, 3), 100, null), "50 covered, 50 ahead");
    java.util.List<ByteString> pieces = new java.util.ArrayList<>();
    assertEquals(150, out.poll(150, null, pieces));
    assertEquals(java.util.List.of(bytes(100, 1), bytes(50, 2)), pieces, "whole pieces, the last one split");
    pieces.clear();
    AtomicInteger woken = new AtomicInteger();
    assertEquals(100, out.poll(1000, woken::incrementAndGet, pieces), "only what credit covers");
    assertEquals(java.util.List.of(bytes(50, 2), bytes(50, 3)), pieces);
    pieces.clear();
    assertEquals(0, out.poll(1000, woken::incrementAndGet, pieces));
    assertTrue(pieces.isEmpty());
    assertTrue(out.addCredit(50));
    assertEquals(0, woken.get(), "credit the data connection adds does not wake it");
    assertEquals(50, out.poll(1000, null, pieces));
    assertEquals(java.util.List.of(bytes(50, 3)), pieces);
    assertEquals(0, out.size());
  }

  @Test
  void closingDropsTheWriteAheadThatCreditDidNotCover() {
    ByteStreamPipe.Outgoing out = new ByteStreamPipe.Outgoing();
    out.addCredit(100);
    AtomicInteger writerWoken = new AtomicInteger();
    assertEquals(100, out.write(bytes(100, 1), 50, null));
    assertEquals(50, out.write(bytes(80, 2), 50, null));
    assertEquals(0, out.write(bytes(80, 2), 50, writerWoken::incrementAndGet));
    out.end();
    assertEquals(1, writerWoken.get(), "a waiting writer learns of the close");
    assertEquals(-1, out.write(bytes(1, 3), 50, null));
    assertEquals(-1, out.awaitCovered(null));
    assertEquals(100, out.size(), "what credit covered still goes out");
    assertFalse(out.drained());
    assertEquals(bytes(100, 1), out.poll(1000, null));
    assertTrue(out.drained());
  }

  @Test
  void aWaitingReadersDemandGetsTheNextBytesAndTheirCreditAtOnce() {
    ByteStreamPipe pipe = new ByteStreamPipe();
    AtomicInteger readerWoken = new AtomicInteger();
    AtomicInteger senderWoken = new AtomicInteger();
    pipe.outgoing.poll(1000, senderWoken::incrementAndGet); // the data connection waits

    // The reader finds nothing and leaves a demand of 100 bytes, credit batch 150.
    assertEquals(0, pipe.read(100, 150, readerWoken::incrementAndGet).size());
    pipe.arrived(bytes(60, 1));
    assertEquals(1, readerWoken.get(), "the reader is woken");
    assertEquals(0, pipe.incoming.size(), "handed bytes are the reader's, not unread");
    assertEquals(0, pipe.outgoing.takeCreditDue(), "60 is below the batch");

    // More bytes while the handed ones are not taken yet: they are queued (unread).
    pipe.arrived(bytes(120, 2));
    assertEquals(120, pipe.incoming.size());
    assertEquals(bytes(60, 1), pipe.read(100, 150, readerWoken::incrementAndGet), "the handed bytes first");
    assertEquals(0, pipe.outgoing.takeCreditDue(), "no credit twice for handed bytes");
    assertEquals(bytes(100, 2), pipe.read(100, 150, readerWoken::incrementAndGet));
    assertEquals(160, pipe.outgoing.takeCreditDue(), "60 handed + 100 taken: one batch");
    assertEquals(bytes(20, 2), pipe.read(100, 150, readerWoken::incrementAndGet));

    // A demand again; 130 bytes arrive: 100 handed (the demand), 30 queued.
    assertEquals(0, pipe.read(100, 150, readerWoken::incrementAndGet).size());
    pipe.arrived(bytes(130, 3));
    assertEquals(30, pipe.incoming.size());
    assertEquals(0, pipe.outgoing.takeCreditDue(), "120 is below the batch");
    assertEquals(bytes(100, 3), pipe.read(100, 150, null));
    assertEquals(bytes(30, 3), pipe.read(100, 150, null));
    assertEquals(150, pipe.outgoing.takeCreditDue(), "20 + 100 handed + 30 taken");

    // With a batch of 1, handed bytes' credit is due as they arrive, and the data connection
    // (which calls arrived itself, and sends it next) is not woken for it.
    pipe.outgoing.poll(1000, senderWoken::incrementAndGet);
    int sender = senderWoken.get();
    assertEquals(0, pipe.read(100, 1, readerWoken::incrementAndGet).size());
    pipe.arrived(bytes(150, 4));
    assertEquals(100, pipe.outgoing.takeCreditDue(), "the handed 100");
    assertEquals(sender, senderWoken.get());
    assertEquals(50, pipe.incoming.size());
  }

  @Test
  void aReaderThatStopsLeavesNoDemandAndStreamReadCreditsAtOnce() {
    ByteStreamPipe pipe = new ByteStreamPipe();
    AtomicInteger readerWoken = new AtomicInteger();
    assertEquals(0, pipe.read(100, 150, readerWoken::incrementAndGet).size());
    pipe.incoming.cancelDemand();
    pipe.arrived(bytes(40, 1));
    assertEquals(0, readerWoken.get());
    assertEquals(40, pipe.incoming.size(), "queued for stream_read, not handed to a gone reader");
    assertEquals(bytes(10, 1), pipe.read(10, 1, null));
    assertEquals(10, pipe.outgoing.takeCreditDue(), "stream_read gives credit back at once");

    pipe.incoming.end();
    assertFalse(pipe.incoming.drained());
    assertEquals(30, pipe.read(100, 1, null).size());
    assertTrue(pipe.incoming.drained());
  }
}
