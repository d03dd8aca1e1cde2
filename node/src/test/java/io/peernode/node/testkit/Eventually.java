package io.peernode.node.testkit;

import java.time.Duration;

/**
 * Polls an assertion until it holds or a deadline passes, then rethrows its last failure.
 * The way to wait for the cluster to converge without sleeping and hoping.
 */
public final class Eventually {

  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  private Eventually() {}

  public static void await(Duration within, Check check) {
    long deadline = System.nanoTime() + within.toNanos();
    Throwable last;
    long pause = 20;
    while (true) {
      try {
        check.run();
        return;
      } catch (Exception | AssertionError e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        break;
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting", e);
      }
      pause = Math.min(pause * 2, 250);
    }
    if (last instanceof AssertionError) {
      throw new AssertionError("still failing after " + within.toMillis() + " ms: " + last.getMessage(), last);
    }
    throw new AssertionError("still failing after " + within.toMillis() + " ms: " + last, last);
  }
}
