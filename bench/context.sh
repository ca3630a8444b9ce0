#!/usr/bin/env bash
# What context costs: the streaming path with and without `[context]` (a
# 12,100-indicator intel set, GeoLite2 City from the test venv, the sample
# directory), and look-ups per second of each context function on one core.
#
# The data set: `vigil generate --events 1000000 --days 1 --seed 7` (made
# here if missing). `vigil run --no-alerts` over it twice per configuration,
# alternated; the streaming rules' time comes from its report. Then
# `SELECT count(f(src_ip)) FROM apigateway` against `SELECT count(src_ip)`
# on one core (taskset -c 0, one DataFusion partition): the difference is
# the functions' time.
#
# Usage: bench/context.sh   (needs the test venv of scripts/test.sh for GeoLite2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_VENV:-$HOME/.cache/vigil-venv}"
OUT="bench/out"
DATA="$OUT/gen-1000000-1-7"
SCRATCH="$OUT/context-scratch"
if [ -n "${VIGIL_BIN:-}" ]; then
  VIGIL="$VIGIL_BIN"
else
  cargo build --release --quiet --bin vigil
  VIGIL="$CARGO_TARGET_DIR/release/vigil"
fi
# shellcheck source=bench/measure.sh
source bench/measure.sh
mkdir -p "$OUT"
[ -d "$DATA/apigateway" ] || "$VIGIL" generate --events 1000000 --days 1 --seed 7 --out "$DATA" >/dev/null

rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
GEOLITE=$("$VENV/bin/python" -c "from _maxminddb_geolite2 import geolite2_database; print(geolite2_database())")
"$VENV/bin/python" - "$SCRATCH/intel.csv" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write("indicator,kind,confidence,tags\n")
    for _ in range(10000):
        f.write(f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(256)},ip,70,bench\n")
    for _ in range(1000):
        f.write(f"{r.randrange(1, 224)}.{r.randrange(256)}.{r.randrange(256)}.0/24,cidr,60,bench\n")
    for i in range(100):
        f.write(f"(?i)^benchtool{i}/,user_agent_regex,50,bench\n")
    for i in range(1000):
        f.write(f"AKIABENCH{i:011d},access_key,90,bench\n")
PY
cat > "$SCRATCH/with.toml" <<TOML
[context]
intel = ["intel.csv"]
geoip = ["$GEOLITE"]
directory = ["$PWD/sample-context/accounts.csv", "$PWD/sample-context/owners.csv"]
TOML
: > "$SCRATCH/without.toml"

streaming() { # config → "total_s ms_per_batch batches"
  rm -rf "$SCRATCH/lake"
  read -r s _ < <(measure "$VIGIL" --config "$1" --lake "$SCRATCH/lake" run --no-alerts "$DATA")
  local line
  line=$(grep -ho "streaming rules over [0-9]* batch(es) of [0-9]* rows on average, [0-9.]* ms per batch" "$OUT/last.out" "$OUT/last.err" | tail -1)
  local batches ms
  batches=$(echo "$line" | sed -n 's/streaming rules over \([0-9]*\) batch.*/\1/p')
  ms=$(echo "$line" | sed -n 's/.*average, \([0-9.]*\) ms per batch/\1/p')
  echo "$s $ms $batches"
}
echo "| configuration | run | wall (s) | streaming per batch (ms) | batches |"
echo "|---|---|---|---|---|"
for run in 1 2; do
  for config in without with; do
    read -r s ms batches < <(streaming "$SCRATCH/$config.toml")
    echo "| $config context | $run | $s | $ms | $batches |"
  done
done

rm -rf "$SCRATCH/lake"
"$VIGIL" --config "$SCRATCH/without.toml" --lake "$SCRATCH/lake" ingest --no-progress "$DATA/apigateway" >/dev/null 2>&1
ROWS=$("$VIGIL" --config "$SCRATCH/without.toml" --lake "$SCRATCH/lake" query --format csv "SELECT count(*) AS n FROM apigateway" | tail -1)
one_core() { # sql → seconds (best of 3)
  local best=""
  for _ in 1 2 3; do
    read -r s _ < <(DATAFUSION_EXECUTION_TARGET_PARTITIONS=1 measure taskset -c 0 "$VIGIL" --config "$SCRATCH/with.toml" --lake "$SCRATCH/lake" query "$1")
    best=$(awk -v a="$s" -v b="${best:-$s}" 'BEGIN { print (a < b) ? a : b }')
  done
  echo "$best"
}
BASE=$(one_core "SELECT count(src_ip) FROM apigateway")
echo
echo "$ROWS rows of apigateway; the bare scan: $BASE s"
echo
echo "| function | wall (s) | look-ups per second, one core |"
echo "|---|---|---|"
for f in "intel_match('ip', src_ip)" "intel_match('user_agent', user_agent)" "geo_country(src_ip)" "geo_city(src_ip)" \
         "geo_asn(src_ip)" "geo_distance_km(src_ip, '8.8.8.8')" "ua_family(user_agent)" "account_name(account_id)"; do
  s=$(one_core "SELECT count($f) FROM apigateway")
  per=$(awk -v n="$ROWS" -v a="$s" -v b="$BASE" 'BEGIN { d = a - b; if (d <= 0) print "n/a"; else printf "%.0f", n / d }')
  echo "| \`$f\` | $s | $per |"
done
