#!/usr/bin/env bash
# How fast the console's pages load: `vigil serve` (release build) over the
# sample lake and over a generated lake, each page requested 5 times with
# the bearer token after one warm-up request; prints the median and the
# slowest of the 5 (seconds, server time as curl measures it on loopback).
#
# Usage: bench/console.sh [LAKE]   (LAKE: a generated lake with findings, e.g.
#        bench/out/gen-lake-10000000-2-42 after `vigil detect` over it)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
if [ -n "${VIGIL_BIN:-}" ]; then
  VIGIL="$VIGIL_BIN"
else
  cargo build --release --quiet --bin vigil
  VIGIL="$CARGO_TARGET_DIR/release/vigil"
fi
SCRATCH=$(mktemp -d -t vigil-console-bench.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$SCRATCH"; }
trap cleanup EXIT
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

(cd "$SCRATCH" && "$VIGIL" --lake "$SCRATCH/sample-lake" run "$OLDPWD/sample-logs" >/dev/null 2>&1)

# serve LAKE: the server in the background ($SERVER), its address in $BASE
# (not a command substitution: its subshell would run the EXIT trap).
serve() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; fi
  rm -f "$SCRATCH/serve.err"
  VIGIL_CONSOLE_TOKEN="$TOKEN" "$VIGIL" --lake "$1" serve --listen 127.0.0.1:0 2>"$SCRATCH/serve.err" &
  SERVER=$!
  for _ in $(seq 1 100); do
    if grep -q "login?code=" "$SCRATCH/serve.err" 2>/dev/null; then break; fi
    sleep 0.1
  done
  BASE=$(sed -n 's|.*\(http://[0-9.:]*\)/login.*|\1|p' "$SCRATCH/serve.err" | head -1)
}

# times BASE PATH → "median slowest" of 5 requests after a warm-up.
times() {
  curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$1$2"
  for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w "%{time_total}\n" -H "Authorization: Bearer $TOKEN" "$1$2"
  done | sort -n | awk '{ t[NR] = $1 } END { printf "%.3f %.3f\n", t[3], t[5] }'
}

echo "| page | lake | median (s) | slowest (s) |"
echo "|---|---|---|---|"
for lake in "$SCRATCH/sample-lake" ${1:+"$1"}; do
  serve "$lake"
  base="$BASE"
  name=$([ "$lake" = "$SCRATCH/sample-lake" ] && echo "samples" || basename "$lake")
  first=$(curl -s -H "Authorization: Bearer $TOKEN" "$base/findings" | grep -o 'href="&#x2f;findings&#x2f;[0-9a-f]*"' | head -1 | sed 's/.*&#x2f;\([0-9a-f]*\)"/\1/')
  for page in / /findings /rules /hunts ${first:+"/findings/$first"}; do
    read -r median slowest < <(times "$base" "$page")
    label=$([ "${page#/findings/}" != "$page" ] && echo "/findings/<id>" || echo "$page")
    echo "| \`$label\` | $name | $median | $slowest |"
  done
done
