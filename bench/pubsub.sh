#!/usr/bin/env bash
# Pub/sub fan-out: 3 node processes on this machine, 1 publisher on A, matching subscribers on
# B and C, 256-byte events; the Java API path (embedded nodes) and the JSON-RPC path, then a
# 3-node NATS cluster doing the same fan-out with the nats Java client. Prints delivered
# events/s, p50/p99 publish->deliver latency, and the ratio to NATS.
# Usage: bench/pubsub.sh            EVENTS=20000 by default
. "$(dirname "$0")/common.sh"
EVENTS=${EVENTS:-20000}
SIZE=${SIZE:-256}
JAVA=(java -Xmx512m)
need_packages nats-server
{ [ -f "$NODE_JAR" ] && [ -f "$BENCH_JAR" ]; } || build_jars
WORK=$(mktemp -d)
trap 'for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

bench() { "${JAVA[@]}" -cp "$BENCH_JAR" io.peernode.bench.UserApiBench "$@"; }
wait_line() { # file pattern
  local i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 6000 ] || { echo "timed out waiting for '$2' in $1" >&2; cat "${1%.out}.err" >&2 || true; exit 1; }
    sleep 0.02
  done
}
field() { grep "^$2" "$1" | grep -o "$3=[0-9.]*" | cut -d= -f2; }
report() { # label, sub outputs...
  local label=$1 rate=0 p50 p99; shift
  for f in "$@"; do rate=$(python3 -c "print($rate + $(field "$f" RESULT rate))"); done
  p50=$(field "$1" RESULT p50_ms); p99=$(field "$1" RESULT p99_ms)
  echo "$label: delivered $(for f in "$@"; do field "$f" RESULT delivered; done | python3 -c 'import sys; print(sum(int(x) for x in sys.stdin))')/$((2 * EVENTS)) events, ${rate%.*} events/s, p50 ${p50} ms, p99 ${p99} ms (subscriber B)" >&2
  echo "$rate"
}

# ---- Java API: every process embeds a node and uses node.userApi()
bench pub-node --data "$WORK/ja" --go "$WORK/go-java" --events "$EVENTS" --size "$SIZE" --linger 60 > "$WORK/ja.out" 2> "$WORK/ja.err" &
wait_line "$WORK/ja.out" '^READY'
CA=$(grep -o 'cluster=[0-9]*' "$WORK/ja.out" | cut -d= -f2)
bench sub-node --data "$WORK/jb" --seed "127.0.0.1:$CA" --events "$EVENTS" > "$WORK/jb.out" 2> "$WORK/jb.err" &
PB=$!
bench sub-node --data "$WORK/jc" --seed "127.0.0.1:$CA" --events "$EVENTS" > "$WORK/jc.out" 2> "$WORK/jc.err" &
PC=$!
wait_line "$WORK/jb.out" '^SUBSCRIBED'; wait_line "$WORK/jc.out" '^SUBSCRIBED'
touch "$WORK/go-java"; wait $PB $PC
JAVA_RATE=$(report "node, Java API" "$WORK/jb.out" "$WORK/jc.out")
for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true

# ---- JSON-RPC: plain node processes, the bench process is an HTTP client
node_proc() { # name, args...
  local name=$1; shift
  "${JAVA[@]}" -jar "$NODE_JAR" --data-dir "$WORK/$name" --http-port 0 --sync-port 0 --cluster-port 0 "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  wait_line "$WORK/$name.out" '^READY'
}
node_proc ra; CA=$(grep -o 'cluster=[0-9]*' "$WORK/ra.out" | cut -d= -f2)
node_proc rb --seed "127.0.0.1:$CA"; node_proc rc --seed "127.0.0.1:$CA"
http() { grep -o 'http=[0-9]*' "$WORK/$1.out" | cut -d= -f2; }
bench sub-rpc --url "http://127.0.0.1:$(http rb)" --events "$EVENTS" > "$WORK/rsb.out" 2> "$WORK/rsb.err" &
PB=$!
bench sub-rpc --url "http://127.0.0.1:$(http rc)" --events "$EVENTS" > "$WORK/rsc.out" 2> "$WORK/rsc.err" &
PC=$!
wait_line "$WORK/rsb.out" '^SUBSCRIBED'; wait_line "$WORK/rsc.out" '^SUBSCRIBED'
bench pub-rpc --url "http://127.0.0.1:$(http ra)" --go "$WORK/go-rpc" --events "$EVENTS" --size "$SIZE" > "$WORK/rpa.out" 2> "$WORK/rpa.err" &
touch "$WORK/go-rpc"; wait $PB $PC
RPC_RATE=$(report "node, JSON-RPC (batches of 64 publishes)" "$WORK/rsb.out" "$WORK/rsc.out")
for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true

# ---- NATS: 3 servers in one cluster, publisher on A, subscribers on B and C
N1=$(free_port); N2=$(free_port); N3=$(free_port); R1=$(free_port); R2=$(free_port); R3=$(free_port)
ROUTES="nats://127.0.0.1:$R1,nats://127.0.0.1:$R2,nats://127.0.0.1:$R3"
nats-server -a 127.0.0.1 -p "$N1" --cluster "nats://127.0.0.1:$R1" --routes "$ROUTES" > "$WORK/n1.log" 2>&1 &
nats-server -a 127.0.0.1 -p "$N2" --cluster "nats://127.0.0.1:$R2" --routes "$ROUTES" > "$WORK/n2.log" 2>&1 &
nats-server -a 127.0.0.1 -p "$N3" --cluster "nats://127.0.0.1:$R3" --routes "$ROUTES" > "$WORK/n3.log" 2>&1 &
sleep 2 # routes form within a second or two
bench sub-nats --url "nats://127.0.0.1:$N2" --events "$EVENTS" --timeout 60 > "$WORK/nsb.out" 2> "$WORK/nsb.err" &
PB=$!
bench sub-nats --url "nats://127.0.0.1:$N3" --events "$EVENTS" --timeout 60 > "$WORK/nsc.out" 2> "$WORK/nsc.err" &
PC=$!
wait_line "$WORK/nsb.out" '^SUBSCRIBED'; wait_line "$WORK/nsc.out" '^SUBSCRIBED'
sleep 1 # let the subscriptions' interest propagate over the routes
bench pub-nats --url "nats://127.0.0.1:$N1" --go "$WORK/go-nats" --events "$EVENTS" --size "$SIZE" > "$WORK/npa.out" 2> "$WORK/npa.err" &
touch "$WORK/go-nats"; wait $PB $PC
NATS_RATE=$(report "NATS 3-node cluster" "$WORK/nsb.out" "$WORK/nsc.out")

python3 - "$JAVA_RATE" "$RPC_RATE" "$NATS_RATE" <<'PY' >&2
import sys
j, r, n = map(float, sys.argv[1:])
print(f"ratio Java API / NATS: {j / n:.3f} (target >= 0.5); JSON-RPC / NATS: {r / n:.3f}")
PY
