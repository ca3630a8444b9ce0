#!/usr/bin/env bash
# Audits Vigil's dependencies with cargo-deny (deny.toml): advisories from
# the RustSec snapshot in testdata/rustsec-advisory-db (no fetch from the
# network), licenses, bans (one arrow/parquet/datafusion/object_store) and
# sources (crates.io only). Installs the pinned cargo-deny on first use.
#
# Usage: scripts/deny.sh [cargo deny check arguments, e.g. `advisories`]
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DENY_VERSION="0.20.2"
SNAPSHOT="${VIGIL_RUSTSEC_DB:-testdata/rustsec-advisory-db}"

# shellcheck source=scripts/cargo-tool.sh
source scripts/cargo-tool.sh
ensure_cargo_tool cargo-deny "$CARGO_DENY_VERSION"

# cargo-deny opens its databases as git repositories, in a folder named after
# the database's URL: a repository of the snapshot, committed at the
# snapshot's own date (so that its age is the snapshot's, not today's).
DBS="$HOME/.cache/vigil-advisory-dbs"
DB="$DBS/advisory-db-3157b0e258782691"
STAMP=$(sha256sum "$SNAPSHOT/SNAPSHOT.md" | cut -c1-16)
if [ "$(cat "$DBS/snapshot" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$DB"
  mkdir -p "$DB"
  cp -R "$SNAPSHOT/." "$DB/"
  DATE=$(sed -n 's/.*(\([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\)).*/\1/p' "$SNAPSHOT/SNAPSHOT.md" | head -1)
  git -C "$DB" init -q
  git -C "$DB" add -A
  GIT_AUTHOR_DATE="${DATE}T00:00:00Z" GIT_COMMITTER_DATE="${DATE}T00:00:00Z" \
    git -C "$DB" -c user.name=vigil -c user.email=vigil@localhost commit -q -m "RustSec advisory-db snapshot $DATE"
  echo "$STAMP" > "$DBS/snapshot"
fi

# --offline keeps cargo-deny from fetching advisories, and also its `cargo
# metadata` from downloading crates: the lockfile's crates for every target
# (a build fetches only this machine's) come from the registry first.
cargo fetch --locked --quiet
VIGIL_ADVISORY_DBS="$DBS" cargo deny --locked --offline check "$@"
