#!/usr/bin/env bash
# The soak test (not in the default suite; figures in BENCHMARKS.md "Soak"):
#   1. `vigil tail --follow` over a CloudWatch Logs group on moto (127.0.0.1)
#      while a producer writes 200 events/s for 10 minutes (bench/soak.py);
#   2. the Lambda bootstrap under bench/lambda-bench.py for 2,000
#      subscription events (--sample-every 100).
# Each reports its RSS slope after warm-up, its file descriptors, and fails
# when an event is lost or taken twice.
#
# Usage: bench/soak.sh [VIGIL] [MINUTES]   (VIGIL: default the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VIGIL="${1:-$TARGET/release/vigil}"
MINUTES="${2:-10}"
VENV="${VIGIL_VENV:-$HOME/.cache/vigil-venv}"
[ -x "$VENV/bin/moto_server" ] || { echo "run scripts/test.sh once: it makes $VENV"; exit 1; }
[ -x "$VIGIL" ] || { echo "no binary at $VIGIL (cargo build --release)"; exit 1; }

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/')" 2>/dev/null && break
  sleep 0.2
done
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

echo "==> vigil tail --follow, 200 events/s for $MINUTES minutes"
"$VENV/bin/python" bench/soak.py "$VIGIL" "http://127.0.0.1:$PORT" --rate 200 --minutes "$MINUTES"

echo "==> the Lambda bootstrap, 2,000 subscription events"
"$VENV/bin/python" bench/lambda-bench.py "$VIGIL" --events 2000 --payload-mb 0.05 --runs 1 --sample-every 100
