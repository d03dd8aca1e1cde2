#!/usr/bin/env bash
# Pub/sub fan-out, 256-byte events, 1 publisher on A, a matching subscription on B and on C:
#   1. node, Java API: 3 bench JVMs, each embedding a node (node.userApi());
#   2. node, JSON-RPC: 3 plain node processes (peer-node.jar), one client JVM (java.net.http);
#   3. NATS: a 3-server nats-server cluster, one client JVM with jnats connections to A, B, C.
# Prints delivered events/s (B + C), p50/p99 publish->deliver latency, and the ratios to NATS.
# The publisher keeps at most a window of events in flight to the slower subscriber (published,
# not yet drained), so no queue overflows; each system gets the window that gives its highest
# rate without failures: 4096 for both since perf-pubsub-6 (NATS: its rate still grows with the
# window; node: 4096 against 1000, four alternating pairs of full runs on main: 286k-414k against
# 198k-348k ev/s, 0.45-0.53 against 0.53-0.87 CPU-s per 100k, ~300-530 events per cluster message
# against ~150-260, p50 latency 7-11 against 3-5 ms; the node's 1000 dated from perf-pubsub-3,
# when 2000-4096 were no better; NODE_WINDOW=1000 gives the old row; see results/NOTES.md).
# The node's window stays below its subscriptions' queue (8,192), so nothing is refused.
# The Java API phase measures as many events as NATS (EVENTS = NATS_EVENTS = 500k: the same
# fan-out; until perf-pubsub-5 it measured 200k, ~2 s at ~200k ev/s, in which C2 took ~45% of
# the node's CPU; over 500k still ~40%, see results/NOTES.md); EVENTS=200000 is the old
# default. JSON-RPC (~10-50x slower) measures RPC_EVENTS (200k) so that its phase ends in time.
# The first WARMUP events of each phase are not measured: neither their rate nor the
# CPU spent on them (the CPU figure starts once both subscribers have received the warm-up
# events, read from their progress counters), so the node's figures are those of warm JVMs
# (with 5k warm-up events, C1/C2 compilation was ~40% of the three JVMs' CPU).
# THREADS=1 also prints, per process, the CPU of its thread groups over the measured part.
# Usage: bench/pubsub.sh     env: EVENTS=500000 RPC_EVENTS=200000 WARMUP=150000 NODE_WINDOW=4096 RPC_WINDOW=1000 RPC_CONCURRENCY=8
#                                 NATS_EVENTS=500000 NATS_WINDOW=4096
#                                 RPC_BATCH=1 SIZE=256 HEAP=512m REBUILD=0 (1: rebuild the jars)
#                                 PHASES="java rpc nats" (a subset runs only those)
#                                 CONSUME=bytes (Java API subscribers: UserApi.eventBytesSource, reading seq and ts
#                                   from the UTF-8 as the NATS subscriber reads them from its payload's bytes;
#                                   json: UserApi.eventSource, JsonNode trees; poll: UserApi.events)
. "$(dirname "$0")/common.sh"
EVENTS=${EVENTS:-500000}
RPC_EVENTS=${RPC_EVENTS:-200000}
WARMUP=${WARMUP:-150000}
NODE_WINDOW=${NODE_WINDOW:-4096}
RPC_WINDOW=${RPC_WINDOW:-1000} # the JSON-RPC phase keeps the window it had (not the target of perf-pubsub-6)
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
RPC_ARGS=(--events "$RPC_EVENTS" --warmup "$WARMUP" --size "$SIZE" --window "$RPC_WINDOW")
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
# cpu_report CPU_BEFORE [EVENTS] [WARM_TOO]: CPU seconds of every process of the phase since
# CPU_BEFORE, per 100k delivered (the measured events; with WARM_TOO=1 the warm-up ones too,
# for a phase whose CPU is counted from the start)
cpu_report() {
  local used; used=$(awk -v a="$(cpu_of "${PIDS[@]}")" -v b="$1" 'BEGIN { printf "%.2f", a - b }')
  local n=$((2 * ${2:-$EVENTS})); [ "${3:-0}" = 1 ] && n=$((n + 2 * WARMUP))
  awk -v u="$used" -v n="$n" -v w="${3:-0}" 'BEGIN {
    printf "  CPU of all its processes (nodes/servers and clients) %s: %.1f s, %.2f s per 100k delivered\n",
      (w == 1 ? "during the whole run" : "after the warm-up"), u, u / n * 100000 }'
  # The JIT's share: on this 2-core machine C2 is still compiling a backlog long after the
  # warm-up; without it is the steady-state cost of a long-running node.
  local jit; jit=$({ sed 's/^/B /' <<<"$THREADS0"; thread_ticks | sed 's/^/A /'; } | awk -v hz="$(getconf CLK_TCK)" '
    $3 ~ /CompilerThre/ { if ($1 == "B") b += $4; else a += $4 } END { printf "%.2f", (a - b) / hz }')
  awk -v u="$used" -v j="$jit" -v n="$n" 'BEGIN {
    printf "  of which JIT compiler threads %.1f s; without them %.1f s, %.2f s per 100k delivered\n", j, u - j, (u - j) / n * 100000 }'
  [ "${THREADS:-0}" = 1 ] && { process_report "$PROCS0"; thread_report "$THREADS0"; }
  return 0
}
# Per-thread CPU ticks of the phase's processes: lines "pid name ticks" (digits in names folded to N).
# Two processes per node process, not several per thread: this runs inside the measured part,
# on the same two cores.
thread_ticks() {
  for p in "${PIDS[@]}"; do
    cat /proc/"$p"/task/*/stat 2>/dev/null | awk -v p="$p" '{
      name = $0; sub(/^[^(]*\(/, "", name); sub(/\) [^)]*$/, "", name); gsub(/ /, "", name); gsub(/[0-9]+/, "N", name)
      rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " "); print p, name, f[12] + f[13] }'
  done
}
# thread_report BEFORE: CPU seconds per process and thread group since the thread_ticks output BEFORE
thread_report() {
  { sed 's/^/B /' <<<"$1"; thread_ticks | sed 's/^/A /'; } | awk -v hz="$(getconf CLK_TCK)" '
    { k = $2 " " $3; if ($1 == "B") b[k] += $4; else a[k] += $4 }
    END { for (k in a) { d = (a[k] - b[k]) / hz; if (d >= 0.05) printf "    %-40s %6.2f s\n", k, d } }' | sort -k1,1n -k3,3nr
}
# Per-process CPU ticks: lines "pid ticks".
process_ticks() { for p in "${PIDS[@]}"; do echo "$p $(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null | awk '{ print $1 + $2 }')"; done; }
# process_report BEFORE: CPU seconds per process since the process_ticks output BEFORE. (The
# thread groups below miss the threads that ended meanwhile: pool threads come and go.)
process_report() {
  { sed 's/^/B /' <<<"$1"; process_ticks | sed 's/^/A /'; } | awk -v hz="$(getconf CLK_TCK)" '
    { if ($1 == "B") b[$2] = $3; else a[$2] = $3 }
    END { for (k in a) printf "    %-40s %6.2f s\n", k " (process)", (a[k] - b[k]) / hz }' | sort -k1,1n
}
# wait_warm COUNTER_FILE...: until every subscriber's progress counter (big-endian u64) reached WARMUP
wait_warm() {
  local i=0
  while :; do
    local ok=1
    for f in "$@"; do
      local v; v=$(od -An -t u8 --endian=big -N8 "$f" 2>/dev/null | tr -d ' ')
      [ -n "$v" ] && [ "$v" -ge "$WARMUP" ] || ok=0
    done
    [ $ok = 1 ] && return 0
    # Every 10 ms: each look forks a reader per counter, on the cores the warm-up runs on.
    i=$((i + 1)); [ $i -lt $((100 * ${WAIT_SECS:-900})) ] || { echo "timed out waiting for the warm-up" >&2; exit 1; }
    sleep 0.01
  done
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
echo "events: node $EVENTS measured (JSON-RPC $RPC_EVENTS) (+ $WARMUP warm-up), window $NODE_WINDOW (JSON-RPC $RPC_WINDOW); NATS $NATS_EVENTS (+ $WARMUP), window $NATS_WINDOW; $SIZE bytes each"

# ---- 1. node, Java API
if phase java; then
bench node-pub --data "$WORK/ja" --go "$WORK/go" --progress "$WORK/prog-b,$WORK/prog-c" "${COMMON[@]}" \
  > "$WORK/ja.out" 2> "$WORK/ja.err" &
PA=$!; PIDS+=($PA)
wait_line "$WORK/ja.out" '^READY' $PA
CA=$(grep '^READY' "$WORK/ja.out" | val cluster)
bench node-sub --data "$WORK/jb" --seed "127.0.0.1:$CA" --name B --progress "$WORK/prog-b" --consume "${CONSUME:-bytes}" "${COMMON[@]}" \
  > "$WORK/jb.out" 2> "$WORK/jb.err" &
PB=$!; PIDS+=($PB)
bench node-sub --data "$WORK/jc" --seed "127.0.0.1:$CA" --name C --progress "$WORK/prog-c" --consume "${CONSUME:-bytes}" "${COMMON[@]}" \
  > "$WORK/jc.out" 2> "$WORK/jc.err" &
PC=$!; PIDS+=($PC)
wait_line "$WORK/jb.out" '^SUBSCRIBED' $PB; wait_line "$WORK/jc.out" '^SUBSCRIBED' $PC
touch "$WORK/go"; wait_warm "$WORK/prog-b" "$WORK/prog-c"
CPU0=$(cpu_of "${PIDS[@]}"); THREADS0=$(thread_ticks); PROCS0=$(process_ticks)
wait_line "$WORK/jb.out" '^RESULT' $PB; wait_line "$WORK/jc.out" '^RESULT' $PC
grep -h '^PUBLISHED' "$WORK/ja.out" | sed 's/^/  publisher A: /' || true
summary "node, Java API (3 JVMs embedding a node):" "$WORK/jb.out" "$WORK/jc.out"; JAVA_RATE=$RATE
cpu_report "$CPU0"
for i in $(seq 50); do grep -q '^SENT' "$WORK/ja.out" && break; sleep 0.1; done # after the CPU figure: printed 2 s after the last publish
grep -h '^SENT' "$WORK/ja.out" | sed 's/^/  publisher A, events per cluster message: /' || true
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
bench rpc --pub "$(http ra)" --subs "$(http rb),$(http rc)" --go "$WORK/go-rpc" --concurrency "$RPC_CONCURRENCY" --batch "$RPC_BATCH" --progress "$WORK/prog-rb,$WORK/prog-rc" "${RPC_ARGS[@]}" \
  > "$WORK/rpc.out" 2> "$WORK/rpc.err" &
PR=$!; PIDS+=($PR)
wait_line "$WORK/rpc.out" '^SUBSCRIBED' $PR
touch "$WORK/go-rpc"; wait_warm "$WORK/prog-rb" "$WORK/prog-rc"
CPU0=$(cpu_of "${PIDS[@]}"); THREADS0=$(thread_ticks); PROCS0=$(process_ticks)
wait_line "$WORK/rpc.out" '^DONE' $PR
grep -h '^PUBLISHED' "$WORK/rpc.out" | sed 's/^/  publisher A: /' || true
summary "node, JSON-RPC (3 node processes, $RPC_CONCURRENCY concurrent publish requests of $RPC_BATCH event(s), B and C drained by pubsub_events):" "$WORK/rpc.out"; RPC_RATE=$RATE
cpu_report "$CPU0" "$RPC_EVENTS"
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
bench nats --pub "nats://127.0.0.1:$N1" --subs "nats://127.0.0.1:$N2,nats://127.0.0.1:$N3" --go "$WORK/go-nats" --progress "$WORK/prog-nb,$WORK/prog-nc" "${NATS_ARGS[@]}" \
  > "$WORK/nats.out" 2> "$WORK/nats.err" &
PN=$!; PIDS+=($PN)
wait_line "$WORK/nats.out" '^SUBSCRIBED' $PN
touch "$WORK/go-nats"; wait_warm "$WORK/prog-nb" "$WORK/prog-nc"
CPU0=$(cpu_of "${PIDS[@]}"); THREADS0=$(thread_ticks); PROCS0=$(process_ticks)
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
