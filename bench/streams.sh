#!/usr/bin/env bash
# One byte stream between two node processes (Java API Sink -> Source, 64 KiB chunks), each
# node with a 256 MiB heap, beside iperf3's single-stream loopback in the same run. Prints MB/s,
# the heap of both nodes after the transfer, and the ratio to iperf3.
# Usage: bench/streams.sh            MIB=1024 by default
. "$(dirname "$0")/common.sh"
MIB=${MIB:-1024}
need_packages iperf3
{ [ -f "$NODE_JAR" ] && [ -f "$BENCH_JAR" ]; } || build_jars
WORK=$(mktemp -d)
trap 'for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
bench() { java -Xmx256m ${BENCH_JAVA_OPTS:-} -cp "$BENCH_JAR" io.peernode.bench.UserApiBench "$@"; }
wait_line() {
  local i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 6000 ] || { echo "timed out waiting for '$2' in $1" >&2; exit 1; }
    sleep 0.02
  done
}

bench stream-recv --data "$WORK/b" > "$WORK/b.out" 2> "$WORK/b.err" &
PB=$!
wait_line "$WORK/b.out" '^READY'
BID=$(grep -o 'node=[0-9a-f]*' "$WORK/b.out" | cut -d= -f2)
BC=$(grep -o 'cluster=[0-9]*' "$WORK/b.out" | cut -d= -f2)
bench stream-send --data "$WORK/a" --seed "127.0.0.1:$BC" --to "$BID" --port "$BC" --mib "$MIB" > "$WORK/a.out" 2> "$WORK/a.err" &
PA=$!
wait $PB || { cat "$WORK/b.err" >&2; exit 1; }
wait $PA || true
NODE=$(grep '^RESULT' "$WORK/b.out")
SEND=$(grep '^RESULT' "$WORK/a.out" || echo "sender: no result")
NODE_MBS=$(grep -o 'mb_per_s=[0-9.]*' <<<"$NODE" | cut -d= -f2)
echo "node stream, Java API: $NODE" >&2
echo "  sender: $SEND" >&2

PORT=$(free_port)
iperf3 -s -1 -p "$PORT" -B 127.0.0.1 > "$WORK/iperf-s.log" 2>&1 &
sleep 0.5
IPERF_MBS=$(iperf3 -c 127.0.0.1 -p "$PORT" -n "${MIB}M" -P 1 -J | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6, 1))')
echo "iperf3 single stream loopback: $IPERF_MBS MB/s" >&2
python3 -c "print(f'ratio node / iperf3: {$NODE_MBS / $IPERF_MBS:.3f} (target >= 0.25)')" >&2
