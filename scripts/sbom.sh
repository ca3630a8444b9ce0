#!/usr/bin/env bash
# Writes the CycloneDX SBOM (JSON, spec 1.5) of the `vigil` binary, the one
# the Lambda bootstrap is, for TARGET (default: Lambda's arm64), and checks
# it: valid against CycloneDX's schema (cyclonedx-python-lib from PyPI, in
# the test venv) and naming every crate `cargo tree` links into the binary
# for that target, at its locked version. Installs the pinned
# cargo-cyclonedx on first use.
#
# Usage: scripts/sbom.sh [OUT_FILE] [TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-dist/lambda/vigil.cdx.json}"
TARGET="${2:-aarch64-unknown-linux-gnu}"
CARGO_CYCLONEDX_VERSION="0.5.9"
CYCLONEDX_PYTHON_LIB_VERSION="11.6.0"
VENV="${VIGIL_VENV:-$HOME/.cache/vigil-venv}"

# shellcheck source=scripts/cargo-tool.sh
source scripts/cargo-tool.sh
ensure_cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION"
if ! "$VENV/bin/python" -c "import cyclonedx.validation.json" 2>/dev/null; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "cyclonedx-python-lib[json-validation]==$CYCLONEDX_PYTHON_LIB_VERSION"
fi

# cargo-cyclonedx writes <package>_bin.cdx.json beside the manifest; it is
# moved to OUT at once. SOURCE_DATE_EPOCH: the same commit gives the same file.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
cargo cyclonedx --quiet --format json --spec-version 1.5 --describe binaries \
  --target "$TARGET" --no-build-deps
mkdir -p "$(dirname "$OUT")"
mv vigil_bin.cdx.json "$OUT"

cargo tree --locked --target "$TARGET" -e normal -p vigil --prefix none --format '{p}' \
  | sed 's/ (.*//; s/ (\*)//' | sort -u > "$OUT.tree"
"$VENV/bin/python" - "$OUT" "$OUT.tree" <<'PY'
import json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

sbom_path, tree_path = sys.argv[1], sys.argv[2]
text = open(sbom_path).read()
error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
if error is not None:
    sys.exit(f"{sbom_path}: not a valid CycloneDX 1.5 document: {error}")
sbom = json.loads(text)
listed = {(c["name"], c.get("version")) for c in sbom.get("components", [])}
top = sbom["metadata"]["component"]
listed.add((top["name"], top.get("version")))
linked = [line.strip() for line in open(tree_path) if line.strip()]
if len(linked) < 100:
    sys.exit(f"cargo tree listed only {len(linked)} crates: the check would prove nothing")
missing = []
for line in linked:
    name, _, version = line.partition(" v")
    if name and (name, version) not in listed:
        missing.append(f"{name} {version}")
if missing:
    sys.exit(f"{sbom_path}: crates linked into vigil but not in the SBOM: {', '.join(missing[:20])}")
print(f"SBOM {sbom_path}: CycloneDX 1.5, valid, {len(listed)} components, all {len(linked)} linked crates listed")
PY
rm -f "$OUT.tree"
