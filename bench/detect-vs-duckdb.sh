#!/usr/bin/env bash
# Detection benchmark, Vigil vs DuckDB, in one run on the same lake:
# every built-in scheduled rule over its latest window of a busy two hours
# (5 million events by default), as one scheduled run (`vigil detect --due`)
# against the same rules run one by one in DuckDB on the same Parquet files.
# Usage: [ORDER=delivered] bench/detect-vs-duckdb.sh [MILLION_EVENTS]
# (ORDER=delivered: events in time order, as AWS delivers them, instead of
# shuffled over the two hours; see bench/make-detect-data.py.)
set -euo pipefail
cd "$(dirname "$0")/.."
M="${1:-5}"
NOW="2026-11-24T09:52:30Z"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_BENCH_VENV:-$HOME/.cache/vigil-bench-venv}"
OUT="bench/out"
export ORDER="${ORDER:-shuffled}"
SUFFIX=""
[ "$ORDER" = shuffled ] || SUFFIX="-$ORDER"
DATA="$OUT/detect-${M}m$SUFFIX"
LAKE="$OUT/detect-lake-${M}m$SUFFIX"
mkdir -p "$OUT"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
cargo build --release --quiet --bin vigil
VIGIL="$CARGO_TARGET_DIR/release/vigil"

# Markers written last tell complete data and a complete lake from what an
# interrupted run left behind.
if [ ! -f "$DATA/.complete-all" ]; then
  rm -rf "$DATA" "$LAKE"; mkdir -p "$DATA"
  python3 bench/make-detect-data.py "$DATA" "$M"
fi
if [ ! -f "$LAKE/.complete" ]; then
  rm -rf "$LAKE"
  "$VIGIL" --lake "$LAKE" ingest --no-progress "$DATA"/*.ndjson | tail -1
  touch "$LAKE/.complete"
fi

# Partition pruning: the run reads only the hours its windows touch (the
# "rows" it reports, against the lake's total); detect/tests/engine.rs proves
# with EXPLAIN that a window read lists only its hour's files.
echo "== lake rows: $("$VIGIL" --lake "$LAKE" query "SELECT count(*) AS n FROM events" --format csv 2>/dev/null | tail -1)"

best() { sort -n | head -1; }
echo "== Vigil: the whole pack, each table's window read once (3 runs, best)"
for i in 1 2 3; do
  rm -rf "$LAKE/_state" "$LAKE/findings" "$LAKE/_alerts"
  /usr/bin/time -f "%e %M" -o "$OUT/vtime.txt" "$VIGIL" --lake "$LAKE" detect --due --now "$NOW" --mode scheduled --timings --no-alerts --format json >"$OUT/vigil-findings.jsonl" 2>"$OUT/vigil-timings.txt"
  cat "$OUT/vtime.txt"
done | tee "$OUT/vigil-runs.txt"
cat "$OUT/vigil-timings.txt"
echo "findings: $(wc -l < "$OUT/vigil-findings.jsonl")"

echo "== DuckDB: the same rules one by one, 2 threads (3 runs, best total)"
for i in 1 2 3; do
  "$VENV/bin/python" bench/detect-duckdb.py "$LAKE" "$NOW" detect/rules 2 > "$OUT/duck-$i.txt"
  tail -1 "$OUT/duck-$i.txt"
done
cat "$OUT/duck-1.txt"
