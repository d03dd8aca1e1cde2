/**
 * Block sync (shared/spec/sync-protocol.md): the server, its sessions and the client.
 *
 * <h2>Wiring it into the node</h2>
 *
 * <pre>{@code
 * // at start, before joining the cluster (so the port can be advertised as a role):
 * SyncSettings sync = SyncSettings.fromConfig(config.getConfig("peer.sync")   // limits, timeouts
 *         .withValue("port", ConfigValueFactory.fromAnyRef(syncPort)),       // --sync-port
 *     syncRoot);                                                              // --sync-root
 * SyncServer.Binding binding =
 *     SyncServer.bind(system, sync, registry).toCompletableFuture().get();   // own registry
 * roles.add(SyncRoles.roleOf(binding.port()));
 * ActorRef<SyncTransfers.Command> transfers =
 *     context.spawn(SyncTransfers.create(sync), "sync-transfers");
 *
 * // sync_pull(nodeid, remote, local): member = NodeRoles.memberOf(state, id),
 * //   host = SyncRoles.hostOf(member), port = SyncRoles.syncPortOf(member)
 * AskPattern.ask(transfers, r -> new SyncTransfers.Start(Action.PULL, host, port, remote,
 *     Path.of(local), sync.clientDefaultBlockSize, nodeId, r), timeout, scheduler);
 * // sync_status(): AskPattern.ask(transfers, SyncTransfers.GetStatus::new, ...)
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
 *   <li>{@link io.peernode.actors.sync.SyncClientSession}: one actor per client transfer.
 *   <li>File work (hashing, copying, writing, fsync, rename) runs on
 *       {@code peer.blocking-dispatcher}; frames move through Akka Streams TCP with the actor
 *       acking each inbound frame and each outbound frame (so both directions are back-pressured),
 *       and block data is streamed from disk in {@code io-chunk-bytes} pieces.
 * </ul>
 */
package io.peernode.actors.sync;
