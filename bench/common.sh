# Shared by the bench/* scripts: build the node and bench jars, install peer systems.
# Source it: . "$(dirname "$0")/common.sh"
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# NODE_JAR may name another build (an A/B of two commits with one script).
NODE_JAR=${NODE_JAR:-$ROOT/node/target/peer-node.jar}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/peer-bench.jar}

build_jars() {
  # clean: without it the shade plugin re-shades the previous shaded peer-node.jar, whose stale
  # copies of the other modules' classes win over the fresh ones (seen 2026-12-01).
  (cd "$ROOT" && mvn -q -B -Pbench -DskipTests clean package)
}

# Installs Debian packages that are missing (the peers measured beside the node).
need_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
