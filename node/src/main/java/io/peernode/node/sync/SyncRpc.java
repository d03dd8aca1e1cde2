package io.peernode.node.sync;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peernode.actors.cluster.NodeDirectory;
import io.peernode.actors.sync.SyncResult;
import io.peernode.actors.sync.SyncSettings;
import io.peernode.actors.sync.SyncTransfers;
import io.peernode.node.rpc.RpcMethods;
import io.peernode.protocol.NodeId;
import io.peernode.protocol.jsonrpc.RpcException;
import io.peernode.protocol.jsonrpc.RpcParams;
import io.peernode.protocol.sync.CommandException;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.peernode.protocol.sync.SyncPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * {@code sync_pull}, {@code sync_push} and {@code sync_status}: this node syncs a file with
 * another cluster member, found by node id through the node directory (its advertised host and
 * sync port).
 *
 * <p>Local paths are relative to this node's sync root and follow the protocol's filename
 * rules, so the JSON-RPC API cannot be used to read or write files elsewhere on the host. A
 * call waits for its transfer up to {@code peer.sync.rpc-wait} and then answers with the
 * result; a longer transfer answers {@code {"id", "state": "running"}} and goes on, and
 * {@code sync_status} shows its progress.
 */
public final class SyncRpc {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final ActorSystem<?> system;
  private final ActorRef<SyncTransfers.Command> transfers;
  private final Path syncRoot;
  private final Duration rpcWait;
  private final Duration lookupTimeout;
  private final SyncSettings settings;

  private SyncRpc(ActorSystem<?> system, ActorRef<SyncTransfers.Command> transfers, Path syncRoot,
                  Duration rpcWait, Duration lookupTimeout, SyncSettings settings) {
    this.settings = settings;
    this.system = system;
    this.transfers = transfers;
    this.syncRoot = syncRoot;
    this.rpcWait = rpcWait;
    this.lookupTimeout = lookupTimeout;
  }

  public static void register(RpcMethods methods, ActorSystem<?> system, ActorRef<SyncTransfers.Command> transfers,
                              SyncSettings settings, Duration rpcWait, Duration lookupTimeout) {
    SyncRpc rpc = new SyncRpc(system, transfers, settings.root, rpcWait, lookupTimeout, settings);
    methods.register("sync_pull", List.of("nodeid", "remote_path", "local_path", "block_size"),
        p -> rpc.transfer(Action.PULL, p, p.text("remote_path"), p.text("local_path")));
    methods.register("sync_push", List.of("nodeid", "local_path", "remote_path", "block_size"),
        p -> rpc.transfer(Action.PUSH, p, p.text("remote_path"), p.text("local_path")));
    methods.register("sync_status", List.of(), p -> rpc.status());
  }

  private CompletionStage<JsonNode> transfer(Action action, RpcParams params, String remotePath, String localPath) {
    NodeId peer = nodeId(params);
    checkName("remote_path", remotePath);
    Path local = confined(checkName("local_path", localPath));
    Long blockSize = params.optionalInteger("block_size", 1024, 16L << 20);
    int block = blockSize == null ? this.settings.blockSizeFor(SyncCli.localSize(local)) : blockSize.intValue();
    if (Long.bitCount(block) != 1) {
      throw RpcException.invalidParams("block_size", "must be a power of two, got " + block);
    }
    return NodeDirectory.lookup(system, peer, lookupTimeout).thenCompose(info -> {
      if (info.isEmpty()) {
        throw RpcException.nodeError("node " + peer + " is not a reachable cluster member");
      }
      NodeDirectory.NodeInfo target = info.get();
      CompletableFuture<SyncTransfers.Finished> finished = new CompletableFuture<>();
      CompletionStage<SyncTransfers.Finished> started = AskPattern.ask(transfers,
          replyTo -> new SyncTransfers.Start(action, target.host, target.syncPort, remotePath, local, block,
              peer.hex(), replyTo),
          // The ask is the transfer itself; the RPC answers earlier when it takes longer (below).
          Duration.ofDays(1), system.scheduler());
      started.whenComplete((f, t) -> {
        if (t != null) {
          finished.completeExceptionally(t);
        } else {
          finished.complete(f);
        }
      });
      return finished.orTimeout(rpcWait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .handle((f, t) -> {
            if (t instanceof TimeoutException || (t != null && t.getCause() instanceof TimeoutException)) {
              ObjectNode running = JSON.objectNode();
              running.put("state", "running");
              running.put("message", "still running after " + rpcWait.toSeconds() + " s; see sync_status");
              return (JsonNode) running;
            }
            if (t != null) {
              throw RpcException.nodeError("sync " + action.wire() + " failed: " + t.getMessage());
            }
            if (!f.ok()) {
              throw new RpcException(RpcException.NODE_ERROR,
                  "sync " + action.wire() + " of " + remotePath + " failed"
                      + (f.status() != 0 ? " (status " + f.status() + ")" : "") + ": " + f.error());
            }
            ObjectNode done = result(f.result());
            done.put("id", f.id());
            done.put("state", "done");
            return done;
          });
    });
  }

  private CompletionStage<JsonNode> status() {
    CompletionStage<SyncTransfers.Status> status =
        AskPattern.ask(transfers, SyncTransfers.GetStatus::new, lookupTimeout, system.scheduler());
    return status.thenApply(s -> {
      ArrayNode out = JSON.arrayNode();
      for (SyncTransfers.Transfer t : s.transfers()) {
        ObjectNode row = out.addObject();
        row.put("id", t.id());
        row.put("action", t.action());
        row.put("peer", t.peer());
        row.put("remote_path", t.remotePath());
        row.put("local_path", syncRoot.relativize(Path.of(t.localPath())).toString());
        row.put("state", t.state());
        row.put("phase", t.phase());
        row.put("done", t.done());
        row.put("total", t.total());
        row.put("bytes_on_wire", t.bytesOnWire());
        row.put("started", t.started().toString());
        if (t.finished() != null) {
          row.put("finished", t.finished().toString());
        }
        if (t.result() != null) {
          row.set("result", result(t.result()));
        }
        if (t.error() != null) {
          row.put("error", t.error());
        }
      }
      return (JsonNode) out;
    });
  }

  private ObjectNode result(SyncResult r) {
    ObjectNode out = JSON.objectNode();
    out.put("action", r.action());
    out.put("remote_path", r.remotePath());
    out.put("size", r.size());
    out.put("block_size", r.blockSize());
    out.put("blocks_compared", r.blocksCompared());
    out.put("blocks_transferred", r.blocksTransferred());
    out.put("local_tree_cached", r.localTreeCached());
    out.put("bytes_on_wire", r.bytesOnWire());
    out.put("millis", r.elapsed().toMillis());
    return out;
  }

  /** The path below the sync root, refusing names that a symbolic link would lead out of it. */
  private Path confined(String name) {
    Path path = syncRoot.resolve(name).normalize();
    try {
      Path realRoot = syncRoot.toRealPath();
      Path existing = path;
      while (existing != null && !java.nio.file.Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null || !existing.toRealPath().startsWith(realRoot)) {
        throw RpcException.invalidParams("local_path", "leads out of the sync root");
      }
    } catch (java.io.IOException e) {
      throw RpcException.invalidParams("local_path", "cannot be resolved: " + e.getMessage());
    }
    return path;
  }

  private static NodeId nodeId(RpcParams params) {
    String text = params.text("nodeid");
    if (!NodeId.isValid(text)) {
      throw RpcException.invalidParams("nodeid", "expected 40 hex characters");
    }
    return NodeId.parse(text);
  }

  private static String checkName(String param, String name) {
    try {
      return String.join("/", SyncPaths.segments(name));
    } catch (CommandException e) {
      throw RpcException.invalidParams(param, e.getMessage());
    }
  }
}
