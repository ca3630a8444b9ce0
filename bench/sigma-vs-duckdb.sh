#!/usr/bin/env bash
# The SigmaHQ pack (detect/packs/sigma) on bench/run.sh's generated lake,
# Vigil vs DuckDB in one run: the pack's rules as one detection run over the
# latest 5 minutes and the latest hour before NOW (`vigil detect --pack
# sigma --rule ...`, findings settled, no alerts), against the same SQL
# (`vigil sigma convert` of each rule) run one by one in DuckDB on the same
# Parquet files (bench/sql-duckdb.py). Best of 3 whole processes each.
# Usage: bench/sigma-vs-duckdb.sh [EVENTS DAYS SEED]  (default: 10000000 2 42)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-10000000}"; DAYS="${2:-2}"; SEED="${3:-42}"
THREADS=$(nproc)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_BENCH_VENV:-$HOME/.cache/vigil-bench-venv}"
OUT="bench/out"
DATA="$OUT/gen-$EVENTS-$DAYS-$SEED"
LAKE="$OUT/gen-lake-$EVENTS-$DAYS-$SEED"
mkdir -p "$OUT"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
cargo build --release --quiet --bin vigil
VIGIL="$CARGO_TARGET_DIR/release/vigil"

if [ ! -d "$LAKE/cloudtrail" ]; then
  [ -f "$DATA/labels.jsonl" ] || "$VIGIL" generate --events "$EVENTS" --days "$DAYS" --seed "$SEED" --out "$DATA"
  "$VIGIL" --lake "$LAKE" ingest --no-progress "$DATA/cloudtrail" "$DATA/apigateway" "$DATA/lambda" | tail -1
fi

# shellcheck source=bench/measure.sh
source bench/measure.sh

# The pack's rules: their Vigil ids and the SQL each runs.
SQL="$OUT/sigma-pack.sql"
: > "$SQL"
IDS=()
for f in detect/packs/sigma/*.yml; do
  "$VIGIL" sigma convert "$f" >> "$SQL" 2>/dev/null
  IDS+=(--rule "sigma_$(basename "$f" .yml | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')")
done
RULES=$(grep -c . "$SQL")

END_S=$(( $(date -u -d 2026-11-01T00:00:00Z +%s) + DAYS * 86400 - 150 ))
NOW=$(date -u -d "@$END_S" +%Y-%m-%dT%H:%M:%SZ)
ROWS=""
for span in 300 3600; do
  FROM=$(date -u -d "@$(( END_S - span ))" +%Y-%m-%dT%H:%M:%SZ)
  read -r V_S V_KB < <(best_of_3 'rm -rf "$LAKE/_state" "$LAKE/findings" "$LAKE/_alerts"' \
    "$VIGIL" --lake "$LAKE" --pack sigma detect --from "$FROM" --to "$NOW" --mode streaming "${IDS[@]}" \
    --no-alerts --format json --timings)
  V_FINDINGS=$(grep -c . "$OUT/last.out" || true)
  V_ENGINE=$(awk '/│ total/ {print $4}' "$OUT/last.err")
  read -r D_S D_KB < <(best_of_3 ':' "$VENV/bin/python" bench/sql-duckdb.py "$LAKE" "$FROM" "$NOW" "$SQL" "$THREADS")
  D_ROWS=$(awk '$1 != "total" {n += $3} END {print n}' "$OUT/last.out")
  D_ENGINE=$(awk '$1 == "total" {print $2}' "$OUT/last.out")
  ROWS+="| last $(( span / 60 )) min | $V_S ($(mb "$V_KB") MB) | $V_ENGINE | $V_FINDINGS | $D_S ($(mb "$D_KB") MB) | $D_ENGINE | $D_ROWS | **$(ratio "$V_S" "$D_S")** | $(ratio "$V_ENGINE" "$D_ENGINE") |"$'\n'
done
rm -rf "$LAKE/_state" "$LAKE/findings" "$LAKE/_alerts"

cat <<MD
\`bench/sigma-vs-duckdb.sh $EVENTS $DAYS $SEED\`, $(date -u +%Y-%m-%d), $THREADS cores, the $RULES rules of the SigmaHQ pack
up to \`--now $NOW\`, DuckDB $("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)') with $THREADS threads; best of 3 whole processes (peak RSS).

| span | Vigil, whole process (s) | Vigil, rules alone (s) | Vigil findings | DuckDB, whole process (s) | DuckDB, queries alone (s) | DuckDB rows | ratio (processes) | ratio (engines) |
|---|---|---|---|---|---|---|---|---|
$ROWS
MD
