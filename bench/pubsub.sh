#!/usr/bin/env bash
# Pub/sub fan-out, 256-byte events, 1 publisher on A, a matching subscription on B and on C:
#   1. node, Java API: 3 bench JVMs, each embedding a node (node.userApi());
#   2. node, JSON-RPC: 3 plain node processes (peer-node.jar), one client JVM (java.net.http);
#   3. NATS: a 3-server nats-server cluster, one client JVM with jnats connections to A, B, C.
# Prints delivered events/s (B + C), p50/p99 publish->deliver latency, and the ratios to NATS.
# The publisher keeps at most a window of events in flight to the slower subscriber (published,
# not yet drained), so no queue overflows; each system gets the window that gives its highest
# rate without failures (node: 200; windows up to 4096 give the same rate and only add queueing
# latency (2026-12-01, see results/NOTES.md); NATS: 4096, its rate still grows with the window).
# NATS runs more events (it is ~10-100x faster) so that its phase lasts long enough to give a
# stable rate; the node's 50k events take ~5 s, much of it still JIT warm-up (EVENTS=300000 shows
# the steadier rate).
# Usage: bench/pubsub.sh     env: EVENTS=50000 WARMUP=5000 NODE_WINDOW=200 RPC_CONCURRENCY=8
#                                 NATS_EVENTS=500000 NATS_WINDOW=4096
#                                 RPC_BATCH=1 SIZE=256 HEAP=512m REBUILD=0 (1: rebuild the jars)
#                                 PHASES="java rpc nats" (a subset runs only those)
. "$(dirname "$0")/common.sh"
EVENTS=${EVENTS:-50000}
WARMUP=${WARMUP:-5000}
NODE_WINDOW=${NODE_WINDOW:-200}
NATS_EVENTS=${NATS_EVENTS:-500000}
NATS_WINDOW=${NATS_WINDOW:-4096}
SIZE=${SIZE:-256}
RPC_CONCURRENCY=${RPC_CONCURRENCY:-8}
RPC_BATCH=${RPC_BATCH:-1}
HEAP=${HEAP:-512m}
PHASES=${PHASES:-java rpc nats}
phase() { [[ " $PHASES " == *" $1 "* ]]; }
JAVA_RATE=0; RPC_RATE=0; NATS_RATE=0
need_packages nats-server
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$NODE_JAR" ] || [ ! -f "$BENCH_JAR" ]; then build_jars; fi
WORK=$(mktemp -d /tmp/bench-pubsub.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

COMMON=(--events "$EVENTS" --warmup "$WARMUP" --size "$SIZE" --window "$NODE_WINDOW")
NATS_ARGS=(--events "$NATS_EVENTS" --warmup "$WARMUP" --size "$SIZE" --window "$NATS_WINDOW")
bench() { exec java -Xmx$HEAP ${JAVA_OPTS:-} -cp "$BENCH_JAR" io.peernode.bench.PubSubBench "$@"; }
wait_line() { # file pattern [pid]
  local i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then echo "process for $1 died:" >&2; tail -20 "${1%.out}.err" >&2; exit 1; fi
    i=$((i + 1)); [ $i -lt $((20 * ${WAIT_SECS:-900})) ] || { echo "timed out waiting for '$2' in $1" >&2; tail -20 "${1%.out}.err" >&2; exit 1; }
    sleep 0.05
  done
}
val() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }
# CPU seconds (user + system) used so far by all the given processes, from /proc.
cpu_of() { for p in "$@"; do cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null; done |
  awk -v hz="$(getconf CLK_TCK)" '{ s += $1 + $2 } END { printf "%.2f", s / hz }'; }
# cpu_report CPU_BEFORE: CPU seconds of every process of the phase since CPU_BEFORE, per 100k delivered
cpu_report() {
  local used; used=$(awk -v a="$(cpu_of "${PIDS[@]}")" -v b="$1" 'BEGIN { printf "%.2f", a - b }')
  awk -v u="$used" -v n="$((2 * ${2:-$EVENTS} + 2 * WARMUP))" 'BEGIN {
    printf "  CPU of all its processes (nodes/servers and clients) during the run: %.1f s, %.2f s per 100k delivered\n", u, u / n * 100000 }'
}
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
# summary LABEL FILE...: prints one line per subscriber and a total; sets RATE
summary() {
  local label=$1; shift
  local lines; lines=$(cat "$@" | grep '^RESULT sub=')
  echo "$label"
  sed 's/^RESULT /  /' <<<"$lines"
  RATE=$(val rate <<<"$(sed -n 1p <<<"$lines")")
  RATE=$(awk -v a="$RATE" -v b="$(val rate <<<"$(sed -n 2p <<<"$lines")")" 'BEGIN { printf "%.0f", a + b }')
  echo "  => delivered $RATE events/s in total (B + C)"
}

echo "load before: $(uptime)"
echo "events: node $EVENTS measured (+ $WARMUP warm-up), window $NODE_WINDOW; NATS $NATS_EVENTS (+ $WARMUP), window $NATS_WINDOW; $SIZE bytes each"

# ---- 1. node, Java API
if phase java; then
bench node-pub --data "$WORK/ja" --go "$WORK/go" --progress "$WORK/prog-b,$WORK/prog-c" "${COMMON[@]}" \
  > "$WORK/ja.out" 2> "$WORK/ja.err" &
PA=$!; PIDS+=($PA)
wait_line "$WORK/ja.out" '^READY' $PA
CA=$(grep '^READY' "$WORK/ja.out" | val cluster)
bench node-sub --data "$WORK/jb" --seed "127.0.0.1:$CA" --name B --progress "$WORK/prog-b" "${COMMON[@]}" \
  > "$WORK/jb.out" 2> "$WORK/jb.err" &
PB=$!; PIDS+=($PB)
bench node-sub --data "$WORK/jc" --seed "127.0.0.1:$CA" --name C --progress "$WORK/prog-c" "${COMMON[@]}" \
  > "$WORK/jc.out" 2> "$WORK/jc.err" &
PC=$!; PIDS+=($PC)
wait_line "$WORK/jb.out" '^SUBSCRIBED' $PB; wait_line "$WORK/jc.out" '^SUBSCRIBED' $PC
CPU0=$(cpu_of "${PIDS[@]}"); touch "$WORK/go"
wait_line "$WORK/jb.out" '^RESULT' $PB; wait_line "$WORK/jc.out" '^RESULT' $PC
grep -h '^PUBLISHED' "$WORK/ja.out" | sed 's/^/  publisher A: /' || true
summary "node, Java API (3 JVMs embedding a node):" "$WORK/jb.out" "$WORK/jc.out"; JAVA_RATE=$RATE
cpu_report "$CPU0"
stop_all
fi

# ---- 2. node, JSON-RPC
if phase rpc; then
node_proc() { # name [seed]
  local name=$1; shift
  exec java -Xmx$HEAP -jar "$NODE_JAR" --data-dir "$WORK/$name" --http-port 0 --sync-port 0 --cluster-port 0 "$@"
}
node_proc ra > "$WORK/ra.out" 2> "$WORK/ra.err" & PIDS+=($!); wait_line "$WORK/ra.out" '^READY' $!
CA=$(grep '^READY' "$WORK/ra.out" | val cluster)
node_proc rb --seed "127.0.0.1:$CA" > "$WORK/rb.out" 2> "$WORK/rb.err" & PIDS+=($!)
node_proc rc --seed "127.0.0.1:$CA" > "$WORK/rc.out" 2> "$WORK/rc.err" & PIDS+=($!)
wait_line "$WORK/rb.out" '^READY'; wait_line "$WORK/rc.out" '^READY'
http() { echo "http://127.0.0.1:$(grep '^READY' "$WORK/$1.out" | val http)"; }
bench rpc --pub "$(http ra)" --subs "$(http rb),$(http rc)" --go "$WORK/go-rpc" --concurrency "$RPC_CONCURRENCY" --batch "$RPC_BATCH" "${COMMON[@]}" \
  > "$WORK/rpc.out" 2> "$WORK/rpc.err" &
PR=$!; PIDS+=($PR)
wait_line "$WORK/rpc.out" '^SUBSCRIBED' $PR
CPU0=$(cpu_of "${PIDS[@]}"); touch "$WORK/go-rpc"
wait_line "$WORK/rpc.out" '^DONE' $PR
grep -h '^PUBLISHED' "$WORK/rpc.out" | sed 's/^/  publisher A: /' || true
summary "node, JSON-RPC (3 node processes, $RPC_CONCURRENCY concurrent publish requests of $RPC_BATCH event(s), B and C drained by pubsub_events):" "$WORK/rpc.out"; RPC_RATE=$RATE
cpu_report "$CPU0"
stop_all
fi

# ---- 3. NATS
if phase nats; then
N1=$(free_port); N2=$(free_port); N3=$(free_port); R1=$(free_port); R2=$(free_port); R3=$(free_port)
ROUTES="nats://127.0.0.1:$R1,nats://127.0.0.1:$R2,nats://127.0.0.1:$R3"
for i in 1 2 3; do
  eval "P=\$N$i; R=\$R$i"
  nats-server -a 127.0.0.1 -p "$P" -cluster "nats://127.0.0.1:$R" -routes "$ROUTES" > "$WORK/nats$i.log" 2>&1 &
  PIDS+=($!)
done
i=0; until [ "$(grep -c 'Route connection created' "$WORK"/nats*.log 2>/dev/null | awk -F: '{s+=$NF} END {print s}')" -ge 6 ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
bench nats --pub "nats://127.0.0.1:$N1" --subs "nats://127.0.0.1:$N2,nats://127.0.0.1:$N3" --go "$WORK/go-nats" "${NATS_ARGS[@]}" \
  > "$WORK/nats.out" 2> "$WORK/nats.err" &
PN=$!; PIDS+=($PN)
wait_line "$WORK/nats.out" '^SUBSCRIBED' $PN
CPU0=$(cpu_of "${PIDS[@]}"); touch "$WORK/go-nats"
wait_line "$WORK/nats.out" '^DONE' $PN
grep -h '^PUBLISHED' "$WORK/nats.out" | sed 's/^/  publisher A: /' || true
summary "NATS (3 nats-server $(nats-server --version | awk '{print $NF}') in one cluster, jnats):" "$WORK/nats.out"; NATS_RATE=$RATE
cpu_report "$CPU0" "$NATS_EVENTS"
stop_all
fi

echo "load after: $(uptime)"
[ "$NATS_RATE" != 0 ] || exit 0
awk -v j="$JAVA_RATE" -v r="$RPC_RATE" -v n="$NATS_RATE" 'BEGIN {
  printf "ratio node Java API / NATS: %.3f (target >= 0.5: %s)\n", j / n, (j / n >= 0.5 ? "met" : "MISSED")
  printf "ratio node JSON-RPC / NATS: %.3f\n", r / n }'
