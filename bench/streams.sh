#!/usr/bin/env bash
# One user-API byte stream between two node processes (bench JVMs embedding a node, -Xmx256m):
# A opens it with streamOpen(B) and writes MIB MiB of 64 KiB chunks through streamSink, B reads
# it through streamSource. Beside it, in the same run, iperf3's single-stream loopback.
# Prints MB/s (10^6 bytes/s) of both, the ratio, and the heap used of both node JVMs (sampled
# in-process every 50 ms, and with jcmd GC.heap_info every second).
# Before it, a WARMUP_MIB transfer over a first stream warms the JIT up (the JVMs are cold; in a
# 1 GiB transfer from cold, C1/C2 compilation took ~45% of the node CPU in the first seconds).
# Usage: bench/streams.sh     env: MIB=1024 WARMUP_MIB=256 HEAP=256m REBUILD=0 (1: rebuild jars)
. "$(dirname "$0")/common.sh"
MIB=${MIB:-1024}
WARMUP_MIB=${WARMUP_MIB:-256}
STREAMS=1; [ "$WARMUP_MIB" = 0 ] || STREAMS=2
HEAP=${HEAP:-256m}
need_packages iperf3
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$NODE_JAR" ] || [ ! -f "$BENCH_JAR" ]; then build_jars; fi
WORK=$(mktemp -d /tmp/bench-streams.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench() { exec java -Xmx$HEAP ${JAVA_OPTS:-} -cp "$BENCH_JAR" io.peernode.bench.StreamBench "$@"; }
wait_line() { # file pattern [pid]
  local i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then echo "process for $1 died:" >&2; tail -20 "${1%.out}.err" >&2; exit 1; fi
    i=$((i + 1)); [ $i -lt $((20 * ${WAIT_SECS:-900})) ] || { echo "timed out waiting for '$2' in $1" >&2; tail -20 "${1%.out}.err" >&2; exit 1; }
    sleep 0.05
  done
}
val() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }
# jcmd PID GC.heap_info: "garbage-first heap   total 262144K, used 123456K" -> 123456
heap_used_k() { jcmd "$1" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | head -1 | grep -o '[0-9]*'; }

echo "load before: $(uptime)"
bench recv --data "$WORK/b" --streams "$STREAMS" > "$WORK/b.out" 2> "$WORK/b.err" &
PB=$!; PIDS+=($PB)
wait_line "$WORK/b.out" '^READY' $PB
BID=$(grep '^READY' "$WORK/b.out" | grep -o 'node=[0-9a-f]*' | cut -d= -f2)
BC=$(grep '^READY' "$WORK/b.out" | val cluster)
bench send --data "$WORK/a" --seed "127.0.0.1:$BC" --to "$BID" --port "$BC" --mib "$MIB" --warmup-mib "$WARMUP_MIB" --done "$WORK/done" \
  > "$WORK/a.out" 2> "$WORK/a.err" &
PA=$!; PIDS+=($PA)
wait_line "$WORK/a.out" '^READY' $PA
MAXA=0; MAXB=0
while kill -0 $PB 2>/dev/null; do
  u=$(heap_used_k $PA || true); [ -n "$u" ] && [ "$u" -gt $MAXA ] && MAXA=$u
  u=$(heap_used_k $PB || true); [ -n "$u" ] && [ "$u" -gt $MAXB ] && MAXB=$u
  sleep 1
done
wait $PB || true
touch "$WORK/done"
wait $PA || true
RECV=$(grep '^RESULT' "$WORK/b.out" || true)
[ -n "$RECV" ] || { echo "receiver gave no result:" >&2; tail -20 "$WORK/b.err" >&2; tail -20 "$WORK/a.err" >&2; exit 1; }
SENT=$(grep '^SENT ' "$WORK/a.out" || true)
SEND=$(grep '^RESULT' "$WORK/a.out" || true)
NODE_MBS=$(val mb_per_s <<<"$RECV")
echo "node stream, Java API ($MIB MiB, streamSink on A -> streamSource on B, -Xmx$HEAP each; after a $WARMUP_MIB MiB warm-up stream):"
grep -h '^WARMUP' "$WORK/b.out" | sed 's/^WARMUP /  warm-up stream at B: /' || true
echo "  receiver B: ${RECV#RESULT }"
echo "  sender A:   ${SENT#SENT } ${SEND#RESULT }"
echo "  jcmd GC.heap_info max used (1 s samples): A $((MAXA / 1024)) MiB, B $((MAXB / 1024)) MiB"
HA=$(val heap_max_used_mib <<<"$SEND"); HB=$(val heap_max_used_mib <<<"$RECV")
awk -v a="${HA:-999}" -v b="${HB:-999}" -v ja=$((MAXA / 1024)) -v jb=$((MAXB / 1024)) 'BEGIN {
  m = a; if (b > m) m = b; if (ja > m) m = ja; if (jb > m) m = jb
  printf "  heap of both nodes under 256 MiB: %s (largest sample %.1f MiB)\n", (m < 256 ? "yes" : "NO"), m }'

PORT=$(free_port)
iperf3 -s -1 -B 127.0.0.1 -p "$PORT" > "$WORK/iperf-s.log" 2>&1 &
PIDS+=($!)
sleep 0.5
iperf3 -c 127.0.0.1 -p "$PORT" -n "${MIB}M" -J > "$WORK/iperf.json"
IPERF_MBS=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 8e6, 1))' "$WORK/iperf.json")
IPERF_CPU=$(python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["end"]["cpu_utilization_percent"]; print("client %.0f%% / server %.0f%% of one core" % (c["host_total"], c["remote_total"]))' "$WORK/iperf.json")
echo "iperf3 single stream loopback ($MIB MiB): $IPERF_MBS MB/s, CPU $IPERF_CPU"
echo "load after: $(uptime)"
awk -v n="$NODE_MBS" -v i="$IPERF_MBS" 'BEGIN {
  printf "ratio node stream / iperf3: %.3f (target >= 0.25: %s)\n", n / i, (n / i >= 0.25 ? "met" : "MISSED") }'
