/**
 * Block sync (shared/spec/sync-protocol.md): the server, its sessions and the client.
 *
 * <h2>Wiring it into the node</h2>
 *
 * <pre>{@code
 * // at start:
 * SyncSettings sync = SyncSettings.fromConfig(config.getConfig("peer.sync"),  // limits, timeouts
 *     syncRoot, syncPort);                                                    // --sync-root, --sync-port
 * SyncServer.Binding binding =
 *     SyncServer.bind(system, sync, registry).toCompletableFuture().get();   // the node's registry
 * // binding.port() is the port to advertise (NodeDirectory.NodeInfo.syncPort on main)
 * ActorRef<SyncTransfers.Command> transfers =
 *     context.spawn(SyncTransfers.create(sync), "sync-transfers");
 *
 * // sync_pull(nodeid, remote, local): look the peer up (NodeDirectory -> host, syncPort), then
 * AskPattern.ask(transfers, r -> new SyncTransfers.Start(Action.PULL, host, syncPort, remote,
 *     Path.of(local), sync.clientDefaultBlockSize, nodeId, r), timeout, scheduler);
 * // sync_push(nodeid, local, remote): the same with Action.PUSH
 * // sync_status(): AskPattern.ask(transfers, SyncTransfers.GetStatus::new, timeout, scheduler)
 *
 * // at shutdown:
 * binding.unbind();
 * }</pre>
 *
 * <p>The CLI is {@code io.peernode.node.sync.SyncCli.run(args, out, err)}; a one-off Java
 * client is {@link io.peernode.actors.sync.SyncClient#pull} / {@link
 * io.peernode.actors.sync.SyncClient#push}.
 *
 * <h2>What runs where</h2>
 *
 * <ul>
 *   <li>{@link io.peernode.actors.sync.SyncServer}: one actor per binding, parent of the sessions;
 *       enforces {@code max-sessions} (deny 503).
 *   <li>{@link io.peernode.actors.sync.SyncSession}: one actor per server-side connection.
 *   <li>{@link io.peernode.actors.sync.SyncClientSession}: one actor per client transfer; with
 *       {@code client.tree-cache.dir} set, it takes the tree of an unchanged local file from the
 *       {@code LocalTreeCache} (files on disk, not an actor) instead of hashing it.
 *   <li>File work (hashing, copying, writing, fsync, rename) runs on
 *       {@code peer.blocking-dispatcher}; frames move through Akka Streams TCP with the actor
 *       acking each inbound frame and each outbound frame (so both directions are back-pressured),
 *       and block data is streamed from disk in {@code io-chunk-bytes} pieces. A client with
 *       {@code client.transport = blocking} (the CLI) has a {@code BlockingConnection} in place of
 *       Akka's TCP: a blocking socket read and written on Akka's blocking-I/O dispatcher.
 * </ul>
 */
package io.peernode.actors.sync;
