#!/usr/bin/env bash
# What context costs: the streaming path with and without `[context]` (a
# 12,100-indicator intel set, GeoLite2 City from the test venv, the sample
# directory), and look-ups per second of each context function on one core.
#
# The data set: `vigil generate --events 1000000 --days 1 --seed 7` (made
# here if missing). `vigil run --no-alerts` over it twice per configuration,
# alternated; the streaming rules' time comes from its report. Then each
# function over a column of the lake on one core (taskset -c 0, one
# DataFusion partition), every row read 20 times over, against the bare scan
# of the same rows: the difference is the function's time.
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
"$VIGIL" --config "$SCRATCH/without.toml" --lake "$SCRATCH/lake" ingest --no-progress "$DATA/apigateway" "$DATA/cloudtrail" >/dev/null 2>&1
q() { "$VIGIL" --config "$SCRATCH/without.toml" --lake "$SCRATCH/lake" query --format csv "$1" | tail -1; }
one_core() { # sql → seconds (best of 3)
  local best=""
  for _ in 1 2 3; do
    read -r s _ < <(DATAFUSION_EXECUTION_TARGET_PARTITIONS=1 measure taskset -c 0 "$VIGIL" --config "$SCRATCH/with.toml" --lake "$SCRATCH/lake" query "$1")
    best=$(awk -v a="$s" -v b="${best:-$s}" 'BEGIN { print (a < b) ? a : b }')
  done
  echo "$best"
}
# Each row 20 times over (a cross join), so that the functions' time is
# seconds, well above the process's start and the timer's resolution. The
# bare scan of the same rows is subtracted.
TIMES=20
echo
echo "Each row read $TIMES times (a cross join); the bare scan of the same rows subtracted."
echo
echo "| function | table | calls | distinct arguments | wall (s) | bare scan (s) | look-ups per second, one core |"
echo "|---|---|---|---|---|---|---|"
for entry in "apigateway|src_ip|intel_match('ip', src_ip)" "apigateway|user_agent|intel_match('user_agent', user_agent)" \
             "apigateway|src_ip|geo_country(src_ip)" "apigateway|src_ip|geo_city(src_ip)" "apigateway|src_ip|geo_asn(src_ip)" \
             "apigateway|src_ip|geo_distance_km(src_ip, '8.8.8.8')" "apigateway|user_agent|ua_family(user_agent)" \
             "cloudtrail|recipient_account_id|account_name(recipient_account_id)" \
             "cloudtrail|user_identity_arn|principal_owner(user_identity_arn)"; do
  IFS='|' read -r table column f <<<"$entry"
  over="FROM $table CROSS JOIN unnest(range($TIMES)) AS r(i)"
  calls=$(q "SELECT count(*) AS n $over")
  distinct=$(q "SELECT count(DISTINCT $column) AS n FROM $table")
  base=$(one_core "SELECT count($column) $over")
  s=$(one_core "SELECT count($f) $over")
  per=$(awk -v n="$calls" -v a="$s" -v b="$base" 'BEGIN { d = a - b; if (d <= 0) print "n/a"; else printf "%.0f", n / d }')
  echo "| \`$f\` | $table | $calls | $distinct | $s | $base | $per |"
done
# The lake's addresses are few (the generator's clients); a GeoIP database
# is a tree of about 60 MB, so many distinct addresses cost cache misses.
# Five million distinct addresses spread over the IPv4 space, made in SQL
# (the same expression without the function is the bare scan).
N=5000000
IPS="(SELECT concat(CAST((i * 7) % 223 + 1 AS VARCHAR), '.', CAST((i / 223) % 256 AS VARCHAR), '.', CAST((i / 57088) % 256 AS VARCHAR), '.', CAST((i * 131) % 256 AS VARCHAR)) AS ip FROM unnest(range($N)) AS r(i)) AS t"
base=$(one_core "SELECT count(ip) FROM $IPS")
for f in "intel_match('ip', ip)" "geo_country(ip)" "geo_city(ip)" "geo_distance_km(ip, '8.8.8.8')"; do
  s=$(one_core "SELECT count($f) FROM $IPS")
  per=$(awk -v n="$N" -v a="$s" -v b="$base" 'BEGIN { d = a - b; if (d <= 0) print "n/a"; else printf "%.0f", n / d }')
  echo "| \`$f\` | $N distinct addresses (SQL) | $N | $N | $s | $base | $per |"
done
