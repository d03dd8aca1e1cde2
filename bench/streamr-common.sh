# Shared by bench/streams-ws and bench/ws-idle (source after common.sh; needs WORK and PIDS).
# start_api_node NAME [node options...] starts one node serving the Streamr data API and sets
# API_PID, API_HTTP, API_KEY. It runs `java -jar node/target/peer-node.jar`; if that node does
# not serve /api/v1 (its Main does not mount the data API yet), it runs the stand-in
# io.peernode.bench.DataApiNode instead (the same StreamrApi, the node's Akka settings, one
# process) and says so. NODE_JAVA_OPTS are passed to the JVM (empty: the node's defaults).

start_api_node() {
  local name=$1; shift
  local dir=$WORK/$name
  API_KEY=bench-admin-key
  mkdir -p "$dir"
  local kind
  for kind in node standin; do
    if [ $kind = node ]; then
      # shellcheck disable=SC2086
      java ${NODE_JAVA_OPTS:-} -jar "$NODE_JAR" --data-dir "$dir" --http-port 0 --cluster-port 0 \
        --sync-port 0 --admin-key "$API_KEY" "$@" > "$dir.out" 2> "$dir.err" &
    else
      # shellcheck disable=SC2086
      java ${NODE_JAVA_OPTS:-} -cp "$BENCH_JAR" io.peernode.bench.DataApiNode --data-dir "$dir" \
        --admin-key "$API_KEY" "$@" > "$dir.out" 2> "$dir.err" &
    fi
    API_PID=$!; PIDS+=("$API_PID")
    until grep -q '^READY' "$dir.out" 2>/dev/null; do
      kill -0 "$API_PID" 2>/dev/null || { echo "$kind did not start:" >&2; cat "$dir.err" >&2; exit 1; }
      sleep 0.05
    done
    API_HTTP=$(grep '^READY' "$dir.out" | sed 's/.*http=\([0-9]*\).*/\1/')
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $API_KEY" \
      "http://127.0.0.1:$API_HTTP/api/v1/streams")
    if [ "$code" = 200 ]; then
      API_KIND=$kind
      echo "== $name: $([ $kind = node ] && echo "peer-node.jar" || echo "stand-in DataApiNode (peer-node.jar does not serve /api/v1 yet)") pid $API_PID http $API_HTTP" >&2
      return 0
    fi
    echo "== $name: $kind answers $code on /api/v1/streams; stopping it" >&2
    kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true
    rm -rf "$dir"; mkdir -p "$dir"
  done
  echo "no process serves the data API" >&2
  exit 1
}
