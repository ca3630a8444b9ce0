#!/usr/bin/env bash
# The lake's codec for its unique-per-row columns (raw records, ids, nested
# JSON), measured: ingest/benches/codecs.rs on generated data, one thread.
# Prints a markdown table per family and codec (encode speed, bytes stored,
# read speed of the `raw` column); BENCHMARKS.md "Codecs" keeps it with the
# cost model.
#
# Usage: bench/codecs.sh [EVENTS] [MB]   (default 2000000 events, 64 MB a family)
# Needs a release build of `vigil` (for `vigil generate`) and a release
# build of vigil-ingest's benches (cargo builds both; ~30 min from clean,
# ~20 min more for the benches when `vigil` is built already).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-2000000}"
MB="${2:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
DATA="bench/out/codecs-$EVENTS"
mkdir -p bench/out
if [ ! -d "$DATA/apigateway" ]; then
  cargo build --release --quiet --bin vigil
  "$CARGO_TARGET_DIR/release/vigil" generate --events "$EVENTS" --days 1 --seed 42 --out "$DATA" >&2
fi
VIGIL_BENCH_CODEC_DATA="$PWD/$DATA" VIGIL_BENCH_CODEC_MB="$MB" \
  cargo bench --profile release --quiet -p vigil-ingest --bench codecs
