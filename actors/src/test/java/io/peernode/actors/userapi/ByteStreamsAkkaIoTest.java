package io.peernode.actors.userapi;

/** {@link ByteStreamsTest} with the data connections on akka.io ({@code stream-data-transport = akka-io}). */
class ByteStreamsAkkaIoTest extends ByteStreamsTest {

  @Override
  String transport() {
    return "akka-io";
  }
}
