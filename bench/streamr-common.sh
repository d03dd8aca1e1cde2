# Shared by bench/streams-ws and bench/ws-idle (source after common.sh; needs WORK and PIDS).
# start_api_node NAME [node options...] starts `java -jar node/target/peer-node.jar` and sets
# API_PID, API_HTTP, API_KEY once it serves the Streamr data API. NODE_JAVA_OPTS are passed to
# the JVM (empty: the node's defaults).

start_api_node() {
  local name=$1; shift
  local dir=$WORK/$name
  API_KEY=bench-admin-key
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  java ${NODE_JAVA_OPTS:-} -jar "$NODE_JAR" --data-dir "$dir" --http-port 0 --cluster-port 0 \
    --sync-port 0 --admin-key "$API_KEY" "$@" > "$dir.out" 2> "$dir.err" &
  API_PID=$!; PIDS+=("$API_PID")
  until grep -q '^READY' "$dir.out" 2>/dev/null; do
    kill -0 "$API_PID" 2>/dev/null || { echo "the node did not start:" >&2; cat "$dir.err" >&2; exit 1; }
    sleep 0.05
  done
  API_HTTP=$(grep '^READY' "$dir.out" | sed 's/.*http=\([0-9]*\).*/\1/')
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $API_KEY" \
    "http://127.0.0.1:$API_HTTP/api/v1/streams")
  if [ "$code" != 200 ]; then
    echo "the node answers $code on /api/v1/streams" >&2
    exit 1
  fi
  echo "== $name: peer-node.jar pid $API_PID http $API_HTTP" >&2
}
