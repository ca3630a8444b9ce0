#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 15) from the
# seed corpus; fails on the first crash, hang or limit breach. Prints one
# line per target: executions, coverage (edges) and corpus size.
#
# Usage: fuzz/smoke.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
CARGO_FUZZ_VERSION="0.13.2"
SECONDS_EACH="${1:-15}"
shift || true
# shellcheck source=scripts/cargo-tool.sh
source ../scripts/cargo-tool.sh
ensure_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION"
# Its own target folder: the instrumented build shares nothing with the
# workspace's.
export CARGO_TARGET_DIR="${VIGIL_FUZZ_TARGET_DIR:-$HOME/.cache/vigil-fuzz-target}"
[ -d corpus ] || ./seed.sh >/dev/null
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo fuzz list)
cargo fuzz build --sanitizer none
dict_of() {
  case "$1" in
    sql_guard) echo dict/sql.dict ;;
    rule_toml|sigma|vigil_toml) echo dict/config.dict ;;
    intel) echo dict/intel.dict ;;
    *) echo dict/logs.dict ;;
  esac
}
echo "| target | seconds | executions | edges (cov) | corpus |"
echo "|---|---|---|---|---|"
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  if ! cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
      -dict="$(dict_of "$t")" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "panicked|bytes held|assert|reconcile|SUMMARY|ERROR|Timeout|timeout|out-of-memory|Test unit written" "$log" | cut -c1-600 | head -20
    echo "fuzz target $t failed: see fuzz/artifacts/$t/"
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  echo "| \`$t\` | $SECONDS_EACH | $execs | $cov | $corpus |"
  rm -f "$log"
done
