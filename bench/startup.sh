#!/usr/bin/env bash
# Start-up and membership figures of the node with its shipped defaults:
# cold start to READY, heap after start, 3-node cluster formation, kill -9 removal.
# Usage: bench/startup.sh   (builds the jar if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node/target/peer-node.jar ] || mvn -q -B -DskipTests package
JAR=node/target/peer-node.jar
WORK=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
now_ms() { date +%s%3N; }

start_node() { # name, extra args...; prints "pid http cluster"
  local name=$1; shift
  java -jar "$JAR" --data-dir "$WORK/$name" --http-port 0 --sync-port 0 --cluster-port 0 "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  local pid=$!
  until grep -q '^READY' "$WORK/$name.out" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$WORK/$name.err" >&2; exit 1; }
    sleep 0.02
  done
  local line; line=$(grep '^READY' "$WORK/$name.out")
  echo "$pid $(sed 's/.*http=\([0-9]*\).*/\1/' <<<"$line") $(sed 's/.*cluster=\([0-9]*\).*/\1/' <<<"$line")"
}
peers() { curl -s -d '{"jsonrpc":"2.0","id":1,"method":"node_peers"}' "http://127.0.0.1:$1/rpc"; }
members() { curl -s "http://127.0.0.1:$1/health"; }

t0=$(now_ms); read -r PA HA CA < <(start_node a); t1=$(now_ms)
echo "cold start to READY (first node, new data dir): $((t1 - t0)) ms"
sleep 2
echo "heap after start: $(jcmd $PA GC.heap_info | grep -o 'used [0-9]*K' | head -1)"
t0=$(now_ms)
read -r PB HB CB < <(start_node b --seed 127.0.0.1:$CA)
read -r PC HC CC < <(start_node c --seed 127.0.0.1:$CA)
until [ "$(peers $HA | grep -o '\[\"[0-9a-f]\{40\}' | wc -l)" = 2 ] && [ "$(peers $HC | grep -o '\[\"[0-9a-f]\{40\}' | wc -l)" = 2 ]; do sleep 0.05; done
t1=$(now_ms)
echo "3-node cluster formed (b and c started, all list 2 peers): $((t1 - t0)) ms"
CID=$(grep -o 'node=[0-9a-f]*' "$WORK/c.out" | cut -d= -f2)
t0=$(now_ms); kill -9 $PC
until ! peers $HA | grep -q "$CID"; do sleep 0.05; done; t1=$(now_ms)
until ! members $HA | grep -q "$CID"; do sleep 0.05; done; t2=$(now_ms)
echo "kill -9: gone from node_peers after $((t1 - t0)) ms, removed from the cluster after $((t2 - t0)) ms"
t0=$(now_ms); kill -TERM $PB
while kill -0 $PB 2>/dev/null; do sleep 0.02; done; t1=$(now_ms)
echo "SIGTERM to exit: $((t1 - t0)) ms"
