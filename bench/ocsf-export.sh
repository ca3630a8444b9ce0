#!/usr/bin/env bash
# `vigil export ocsf` against `vigil ingest` on one core (taskset -c 0), on
# the data set of `bench/run.sh` (run it first): the same records ingested
# into a fresh lake, then that lake exported as OCSF, as Parquet in Security
# Lake's layout and as NDJSON. Prints records/s for each and the ratios.
#
# Usage: bench/ocsf-export.sh [EVENTS] [DAYS] [SEED]   (default 10000000 2 42)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-10000000}"
DAYS="${2:-2}"
SEED="${3:-42}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
OUT="bench/out"
DATA="$OUT/gen-$EVENTS-$DAYS-$SEED"
SCRATCH="$OUT/ocsf-scratch"
[ -d "$DATA/waf" ] || { echo "no $DATA: run bench/run.sh $EVENTS $DAYS $SEED first" >&2; exit 1; }
if [ -n "${VIGIL_BIN:-}" ]; then
  VIGIL="$VIGIL_BIN"
else
  cargo build --release --quiet --bin vigil
  VIGIL="$CARGO_TARGET_DIR/release/vigil"
fi
# shellcheck source=bench/measure.sh
source bench/measure.sh

rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
read -r INGEST_S INGEST_KB < <(measure taskset -c 0 "$VIGIL" ingest --no-progress --lake "$SCRATCH/lake" \
  "$DATA/cloudtrail" "$DATA/apigateway" "$DATA/lambda" "$DATA/waf")
RECORDS=$(cat "$OUT/last.out" "$OUT/last.err" | sed -n 's/.* records read = \([0-9]*\) parsed.*/\1/p' | tail -1)
read -r PARQUET_S PARQUET_KB < <(measure taskset -c 0 "$VIGIL" --lake "$SCRATCH/lake" export ocsf --out "$SCRATCH/security-lake")
EVENTS_OUT=$(sed -n 's/^\([0-9]*\) OCSF events.*/\1/p' "$OUT/last.err")
NOT_MAPPABLE=$(sed -n 's/.*; \([0-9]*\) records not mappable.*/\1/p' "$OUT/last.err")
# NDJSON is counted, not kept: with each record's raw_data it is ~2 KB an event.
read -r NDJSON_S NDJSON_KB < <(measure bash -c "taskset -c 0 '$VIGIL' --lake '$SCRATCH/lake' export ocsf --format ndjson --out - | wc -c > '$SCRATCH/ndjson-bytes'")
NDJSON_MB=$(awk '{ printf "%.0f", $1 / 1e6 }' "$SCRATCH/ndjson-bytes")
PARQUET_MB=$(du -sm "$SCRATCH/security-lake" | cut -f1)
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
cat <<TABLE
| one core | wall (s) | records/s | peak RSS (MB) | output |
|---|---|---|---|---|
| \`vigil ingest\` (NDJSON → lake) | $INGEST_S | $(per_s "$RECORDS" "$INGEST_S") | $(mb "$INGEST_KB") | $RECORDS records |
| \`vigil export ocsf\` (Parquet, Security Lake layout) | $PARQUET_S | $(per_s "$EVENTS_OUT" "$PARQUET_S") | $(mb "$PARQUET_KB") | $EVENTS_OUT events, $PARQUET_MB MB, $NOT_MAPPABLE not mappable |
| \`vigil export ocsf --format ndjson\` | $NDJSON_S | $(per_s "$EVENTS_OUT" "$NDJSON_S") | $(mb "$NDJSON_KB") | $NDJSON_MB MB |

Ingest's records/s over export's events/s: Parquet $(ratio "$(per_s "$RECORDS" "$INGEST_S")" "$(per_s "$EVENTS_OUT" "$PARQUET_S")"), NDJSON $(ratio "$(per_s "$RECORDS" "$INGEST_S")" "$(per_s "$EVENTS_OUT" "$NDJSON_S")") (goal ≤ 2).
TABLE
rm -rf "$SCRATCH"
