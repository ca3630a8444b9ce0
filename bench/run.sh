#!/usr/bin/env bash
# Vigil vs DuckDB in one run, on one generated data set (`vigil generate`):
#   1. ingest: CloudTrail, API Gateway and WAF NDJSON → Parquet, Vigil on one core
#      and on all cores vs DuckDB (read_json streamed into COPY, and read_json into a
#      table then COPY) with 1 and all threads;
#   2. detection: every built-in scheduled rule over its latest window
#      (`vigil detect --due`) vs the same rules one by one in DuckDB;
#   3. hunting: every saved hunt (`vigil hunt run`) vs the same SQL in DuckDB;
#   4. memory: peak RSS of each process.
# Ratios are Vigil time / DuckDB time (below 1: Vigil is faster). The results
# replace the "One run" section of BENCHMARKS.md (between its markers).
#
# Usage: bench/run.sh [EVENTS] [DAYS] [SEED]   (default 10000000 2 42)
# WITH_CEILING=1 also runs the criterion parse bench on the generated
# CloudTrail (the serde_json IgnoredAny ceiling against Vigil's parse + Arrow
# build, one thread); it needs a bench-profile build of its own (~20 min once).
# Needs: a Rust toolchain, python3, /usr/bin/time, taskset. DuckDB comes from
# PyPI into the bench venv (~/.cache/vigil-bench-venv). Everything runs on
# 127.0.0.1 / local files; a 10 M event run takes about 15 minutes here.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-10000000}"
DAYS="${2:-2}"
SEED="${3:-42}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_BENCH_VENV:-$HOME/.cache/vigil-bench-venv}"
OUT="bench/out"
DATA="$OUT/gen-$EVENTS-$DAYS-$SEED"
LAKE="$OUT/gen-lake-$EVENTS-$DAYS-$SEED"
SCRATCH="$OUT/scratch"
THREADS="$(nproc)"
mkdir -p "$OUT"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import duckdb" 2>/dev/null || "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
DUCKDB_VERSION=$("$VENV/bin/python" -c "import duckdb; print(duckdb.__version__)")
if [ -n "${VIGIL_BIN:-}" ]; then
  VIGIL="$VIGIL_BIN"   # e.g. to try the script quickly with a debug build
  BUILD="$VIGIL_BIN"
else
  cargo build --release --quiet --bin vigil
  VIGIL="$CARGO_TARGET_DIR/release/vigil"
  BUILD="release build"
fi

# shellcheck source=bench/measure.sh
source bench/measure.sh

echo "==> generating $EVENTS events over $DAYS days (seed $SEED)" >&2
# Data generated before the generator wrote WAF logs is made again.
if [ ! -f "$DATA/labels.jsonl" ] || [ ! -d "$DATA/waf" ]; then
  rm -rf "$DATA"
  read -r GEN_S GEN_KB < <(measure "$VIGIL" generate --events "$EVENTS" --days "$DAYS" --seed "$SEED" --out "$DATA")
else
  GEN_S="(cached)"; GEN_KB=0
fi
bytes() { du -cb "$@" | tail -1 | cut -f1; }
CT_BYTES=$(bytes "$DATA"/cloudtrail/*.ndjson)
API_BYTES=$(bytes "$DATA"/apigateway/*.ndjson)
ALL_BYTES=$(bytes "$DATA"/cloudtrail "$DATA"/apigateway "$DATA"/lambda "$DATA"/waf)

echo "==> 1. ingest" >&2
INGEST_ROWS=""
for family in cloudtrail apigateway waf; do
  SIZE=$(bytes "$DATA/$family"/*.ndjson)
  rm -rf "$SCRATCH"; mkdir -p "$SCRATCH"
  read -r V1_S V1_KB < <(measure taskset -c 0 "$VIGIL" --lake "$SCRATCH/lake1" ingest --no-progress "$DATA/$family")
  read -r VN_S VN_KB < <(measure "$VIGIL" --lake "$SCRATCH/lakeN" ingest --no-progress "$DATA/$family")
  # One core means one core for both: whole processes (start, imports,
  # exit included), each pinned to core 0 with taskset, timed by /usr/bin/time.
  read -r D1_S D1_KB < <(measure taskset -c 0 "$VENV/bin/python" bench/duckdb-ingest.py "$DATA/$family/*.ndjson" "$SCRATCH/duck1.parquet" 1)
  read -r DN_S DN_KB < <(measure "$VENV/bin/python" bench/duckdb-ingest.py "$DATA/$family/*.ndjson" "$SCRATCH/duckN.parquet" "$THREADS")
  read -r T1_S T1_KB < <(measure taskset -c 0 "$VENV/bin/python" bench/duckdb-ingest.py "$DATA/$family/*.ndjson" "$SCRATCH/duck1.parquet" 1 table)
  read -r TN_S TN_KB < <(measure "$VENV/bin/python" bench/duckdb-ingest.py "$DATA/$family/*.ndjson" "$SCRATCH/duckN.parquet" "$THREADS" table)
  MBS() { awk -v b="$SIZE" -v s="$1" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
  cell() { echo "$1 s ($(MBS "$1") MB/s, $(mb "$2") MB)"; }
  INPUT="$family, $(awk -v b="$SIZE" 'BEGIN{printf "%.0f", b/1e6}') MB"
  INGEST_ROWS+="| $INPUT | 1 core | $(cell "$V1_S" "$V1_KB") | $(cell "$D1_S" "$D1_KB") | $(ratio "$V1_S" "$D1_S") | $(cell "$T1_S" "$T1_KB") | $(ratio "$V1_S" "$T1_S") |"$'\n'
  INGEST_ROWS+="| $INPUT | $THREADS cores | $(cell "$VN_S" "$VN_KB") | $(cell "$DN_S" "$DN_KB") | $(ratio "$VN_S" "$DN_S") | $(cell "$TN_S" "$TN_KB") | $(ratio "$VN_S" "$TN_S") |"$'\n'
done
rm -rf "$SCRATCH"

echo "==> the lake (all four families)" >&2
rm -rf "$LAKE"
read -r LAKE_S LAKE_KB < <(measure "$VIGIL" --lake "$LAKE" ingest --no-progress "$DATA/cloudtrail" "$DATA/apigateway" "$DATA/lambda" "$DATA/waf")
LAKE_SUMMARY=$(tail -1 "$OUT/last.out")

CEILING_ROWS=""
if [ "${WITH_CEILING:-0}" = 1 ]; then
  echo "==> 1b. parse-only ceiling (criterion)" >&2
  CT_FILE=$(ls "$PWD/$DATA"/cloudtrail/*.ndjson | sort | sed -n "$(( $(ls "$DATA"/cloudtrail/*.ndjson | wc -l) / 2 + 1 ))p")
  VIGIL_BENCH_CLOUDTRAIL="$CT_FILE" cargo bench --quiet -p vigil-ingest --bench parse -- \
    "ceiling|parse_and_build/cloudtrail" > "$OUT/criterion.txt" 2>&1
  thrpt() { awk -v id="$1" '$0 ~ id {found=1} found && /thrpt:/ {print $4, $5; exit}' "$OUT/criterion.txt"; }
  CEIL=$(thrpt "ceiling/cloudtrail_serde_ignored_any")
  PARSE=$(thrpt "parse_and_build/cloudtrail_ndjson")
  CEILING_ROWS="| serde_json IgnoredAny over the lines (the ceiling) | $CEIL |"$'\n'"| Vigil: parse + Arrow build | $PARSE |"$'\n'
fi

echo "==> 2. detection" >&2
NOW=$(date -u -d "@$(( $(date -u -d 2026-11-01T00:00:00Z +%s) + DAYS * 86400 - 150 ))" +%Y-%m-%dT%H:%M:%SZ)
# A short run: each side's best of three whole processes, so that one slow
# start (the machine's noise) does not decide the ratio.
read -r VD_S VD_KB < <(best_of_3 'rm -rf "$LAKE/_state" "$LAKE/findings"' \
  "$VIGIL" --lake "$LAKE" detect --due --now "$NOW" --no-alerts --format json --timings)
VD_RULES=$(grep -c . "$OUT/last.out" || true)
read -r DD_S DD_KB < <(best_of_3 ':' "$VENV/bin/python" bench/detect-duckdb.py "$LAKE" "$NOW" detect/rules "$THREADS")
DD_ENGINE=$(awk '/^total/ {print $2}' "$OUT/last.out")
SCHEDULED=$(grep -c -v '^total' "$OUT/last.out")

echo "==> 3. hunting" >&2
HUNT_ROWS=""
V_TOTAL=0; D_TOTAL=0
"$VENV/bin/python" bench/hunts-duckdb.py "$LAKE" queries/hunts "$THREADS" > "$OUT/hunts-duckdb.txt"
# Vigil in one session too (warm, as DuckDB's connection is).
(cd bench && python3 hunts-vigil-session.py "$VIGIL" "../$LAKE" ../queries/hunts) > "$OUT/hunts-vigil-session.txt"
W_TOTAL=0
read -r _ DH_KB < <(measure "$VENV/bin/python" bench/hunts-duckdb.py "$LAKE" queries/hunts "$THREADS")
VH_KB=0
while read -r name d_s d_rows; do
  best=""
  for _ in 1 2 3; do
    read -r _ kb < <(measure "$VIGIL" --lake "$LAKE" hunt run "$name" --format csv --output /dev/null)
    [ "$kb" -gt "$VH_KB" ] && VH_KB=$kb
    line=$(tail -1 "$OUT/last.err")
    s=$(sed -n 's/.* in \([0-9.]*\)s.*/\1/p' <<<"$line")
    rows=$(sed -n 's/^\([0-9]*\) row.*/\1/p' <<<"$line")
    best=$(awk -v a="$s" -v b="${best:-1e9}" 'BEGIN { print (a < b ? a : b) }')
  done
  if [ "$d_s" = "n/a" ]; then
    HUNT_ROWS+="| $name | $best | | n/a | | | $rows |"$'\n'
  else
    V_TOTAL=$(awk -v a="$V_TOTAL" -v b="$best" 'BEGIN { print a + b }')
    D_TOTAL=$(awk -v a="$D_TOTAL" -v b="$d_s" 'BEGIN { print a + b }')
    same=$([ "$rows" = "$d_rows" ] && echo "$rows" || echo "$rows ≠ $d_rows")
    warm=$(awk -v n="$name" '$1 == n { print $2 }' "$OUT/hunts-vigil-session.txt")
    W_TOTAL=$(awk -v a="$W_TOTAL" -v b="$warm" 'BEGIN { print a + b }')
    HUNT_ROWS+="| $name | $best | $warm | $d_s | $(ratio "$best" "$d_s") | $(ratio "$warm" "$d_s") | $same |"$'\n'
  fi
done < "$OUT/hunts-duckdb.txt"

REPORT="$OUT/report.md"
cat > "$REPORT" <<MD
<!-- bench/run.sh:begin -->
## One run: ingest, detection, hunting and memory on one generated data set

\`bench/run.sh $EVENTS $DAYS $SEED\`, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Vigil $BUILD, DuckDB $DUCKDB_VERSION (PyPI).
Data: \`vigil generate --events $EVENTS --days $DAYS --seed $SEED\` ($GEN_S s):
$(awk -v b="$ALL_BYTES" 'BEGIN{printf "%.0f", b/1e6}') MB of NDJSON, CloudTrail $(awk -v b="$CT_BYTES" 'BEGIN{printf "%.0f", b/1e6}') MB,
API Gateway $(awk -v b="$API_BYTES" 'BEGIN{printf "%.0f", b/1e6}') MB, Lambda subscription messages and WAF records the rest.
Ratios are Vigil's time / DuckDB's (below 1.00 Vigil is faster); peak RSS in parentheses.

### 1. Ingest: NDJSON → Parquet (zstd), same files, same end result

DuckDB two ways: \`COPY (SELECT * FROM read_json(...)) TO ...\` (streamed, its
fastest), and \`read_json\` into a table then \`COPY\` the table (load,
then export). Every time is a whole process's wall time (\`/usr/bin/time\`:
start, imports and exit included); on one core both sides run pinned to
core 0 with \`taskset\` (DuckDB also with \`SET threads=1\`).

| input | parallelism | Vigil | DuckDB streamed COPY | ratio | DuckDB table, then COPY | ratio |
|---|---|---|---|---|---|---|
$INGEST_ROWS
The lake for what follows (all four families, $LAKE_S s, peak $(mb "$LAKE_KB") MB): $LAKE_SUMMARY
$( [ -n "$CEILING_ROWS" ] && printf '\nParse only, one thread, first 32 MiB of one generated CloudTrail hour (criterion, median):\n\n| | throughput |\n|---|---|\n%s' "$CEILING_ROWS" )

### 2. Detection: the scheduled rule pack, latest window of each rule (\`--now $NOW\`), best of 3

| | wall (s) | peak RSS (MB) |
|---|---|---|
| Vigil \`detect --due\` ($VD_RULES findings), whole process | $VD_S | $(mb "$VD_KB") |
| DuckDB, the $SCHEDULED rules one by one ($THREADS threads), whole process | $DD_S | $(mb "$DD_KB") |
| DuckDB, queries alone | $DD_ENGINE | |
| **ratio** (whole processes) | **$(ratio "$VD_S" "$DD_S")** | |

### 3. Hunting: the saved hunts, default parameters, best of 3 (query time, no process start)

Vigil as \`vigil hunt run NAME\` (a process per run) and in one \`vigil query\`
session (all hunts, three times each: warm, as DuckDB's connection is).

| hunt | Vigil, a process (s) | Vigil, one session (s) | DuckDB (s) | ratio (process) | ratio (session) | rows |
|---|---|---|---|---|---|---|
$HUNT_ROWS| **all hunts** | **$V_TOTAL** | **$W_TOTAL** | **$D_TOTAL** | **$(ratio "$V_TOTAL" "$D_TOTAL")** | **$(ratio "$W_TOTAL" "$D_TOTAL")** | |

### 4. Memory (peak RSS)

Vigil: hunts $(mb "$VH_KB") MB at most per hunt; DuckDB: $(mb "$DH_KB") MB for all hunts in one process.
Ingest and detection: in the tables above.
<!-- bench/run.sh:end -->
MD

if grep -q '<!-- bench/run.sh:begin -->' BENCHMARKS.md; then
  "$VENV/bin/python" - "$REPORT" <<'PY'
import re, sys
report = open(sys.argv[1]).read().strip()
text = open("BENCHMARKS.md").read()
text = re.sub(r"<!-- bench/run.sh:begin -->.*?<!-- bench/run.sh:end -->", lambda _: report, text, flags=re.S)
open("BENCHMARKS.md", "w").write(text)
PY
else
  printf '\n%s\n' "$(cat "$REPORT")" >> BENCHMARKS.md
fi
cat "$REPORT"
