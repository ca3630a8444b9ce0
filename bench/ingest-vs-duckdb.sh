#!/usr/bin/env bash
# Ingest benchmark, Vigil vs DuckDB, in one run on the same generated file:
# NDJSON CloudTrail → Parquet (zstd), wall time and peak RSS of each.
# Usage: bench/ingest-vs-duckdb.sh [MB]   (default 512; 1024 for the 1 GB RSS check)
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-512}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_BENCH_VENV:-$HOME/.cache/vigil-bench-venv}"
OUT="bench/out"
mkdir -p "$OUT"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
cargo build --release --quiet
VIGIL="$CARGO_TARGET_DIR/release/vigil"

DATA="$OUT/cloudtrail-${MB}mb.ndjson"
[ -f "$DATA" ] || "$VENV/bin/python" bench/make-cloudtrail-ndjson.py testdata/corpus "$DATA" "$MB"
BYTES=$(stat -c %s "$DATA")

measure() { # command... → "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" >/dev/null
  cat "$OUT/time.txt"
}

rm -rf "$OUT/lake"
read -r V_S V_KB < <(measure "$VIGIL" --lake "$OUT/lake" ingest --no-progress "$DATA")
rm -f "$OUT/duck1.parquet" "$OUT/duckN.parquet"
read -r D1_S D1_KB < <(measure "$VENV/bin/python" bench/duckdb-ingest.py "$DATA" "$OUT/duck1.parquet" 1)
read -r DN_S DN_KB < <(measure "$VENV/bin/python" bench/duckdb-ingest.py "$DATA" "$OUT/duckN.parquet" "$(nproc)")

mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<MD
| ingest of $(awk -v b="$BYTES" 'BEGIN{printf "%.0f", b/1e6}') MB CloudTrail NDJSON → Parquet | wall (s) | MB/s | peak RSS (MB) | Vigil time / this |
|---|---|---|---|---|
| Vigil (parse on 1 thread, Parquet writer on another) | $V_S | $(mbps "$V_S") | $((V_KB / 1024)) | 1.00 |
| DuckDB read_json + COPY, 1 thread | $D1_S | $(mbps "$D1_S") | $((D1_KB / 1024)) | $(ratio "$V_S" "$D1_S") |
| DuckDB read_json + COPY, $(nproc) threads | $DN_S | $(mbps "$DN_S") | $((DN_KB / 1024)) | $(ratio "$V_S" "$DN_S") |
MD
