#!/usr/bin/env bash
# Runs Vigil's whole test suite, as README.md says:
#   - a Python venv with moto's server (installed on first use),
#   - moto_server started on 127.0.0.1 on a free port, its endpoint exported
#     as VIGIL_TEST_MOTO_ENDPOINT, and stopped by its PID on exit,
#   - pySigma and its SQLite backend in the same venv, the reference the
#     Sigma compiler is tested against, and ocsf-json-schema, the one the
#     OCSF mappings are, and MaxMind's maxminddb reader with the GeoLite2
#     City database of maxminddb-geolite2, the one the GeoIP functions are
#     (VIGIL_TEST_PYTHON),
#   - headless Chromium and chromedriver (Debian's packages, installed with
#     apt-get when missing) and Selenium in the same venv: the browser test
#     of the console,
#   - every cargo test, the #[ignore]d ones that need moto, the Python
#     references or the browser included,
#   - cargo deny over the dependencies (scripts/deny.sh: the RustSec
#     snapshot in testdata/, offline; installs the pinned cargo-deny) and
#     the CycloneDX SBOM of the binary (scripts/sbom.sh, validated with
#     PyPI's cyclonedx-python-lib),
#   - every fuzz target for 15 s (fuzz/smoke.sh: installs the pinned
#     cargo-fuzz; the instrumented build has its own target folder),
#   - cfn-lint and checkov on infra/template.yaml (their own venv: checkov
#     pins libraries moto also uses).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}"
VENV="${VIGIL_VENV:-$HOME/.cache/vigil-venv}"
MOTO_VERSION="5.2.5"
# The Sigma reference (differential tests of vigil-sigma).
PYSIGMA_VERSION="2.0.1"
PYSIGMA_SQLITE_VERSION="2.1.1"
# The OCSF reference: schema.ocsf.io's export of each OCSF version, offline,
# as JSON Schema (differential tests of the OCSF mappings).
OCSF_JSON_SCHEMA_VERSION="1.2.0"
JSONSCHEMA_VERSION="4.26.0"
# The console's browser test: Selenium drives Debian's chromium through chromedriver.
SELENIUM_VERSION="4.50.0"
# The GeoIP reference: MaxMind's own reader, over the GeoLite2 City database a
# PyPI package ships (differential tests of the geo_* functions).
MAXMINDDB_VERSION="3.2.0"
MAXMINDDB_GEOLITE2_VERSION="2018.703"
INFRA_VENV="${VIGIL_INFRA_VENV:-$HOME/.cache/vigil-infra-venv}"
CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"

if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "==> creating $VENV with moto[server]==$MOTO_VERSION"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
if ! "$VENV/bin/python" -c "import sigma.backends.sqlite" 2>/dev/null; then
  echo "==> installing pySigma $PYSIGMA_VERSION and its SQLite backend into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "pysigma==$PYSIGMA_VERSION" "pysigma-backend-sqlite==$PYSIGMA_SQLITE_VERSION"
fi
if ! "$VENV/bin/python" -c "import ocsf_json_schema, jsonschema" 2>/dev/null; then
  echo "==> installing ocsf-json-schema $OCSF_JSON_SCHEMA_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "ocsf-json-schema==$OCSF_JSON_SCHEMA_VERSION" "jsonschema==$JSONSCHEMA_VERSION"
fi
if ! "$VENV/bin/python" -c "import selenium" 2>/dev/null; then
  echo "==> installing selenium $SELENIUM_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
fi
if ! "$VENV/bin/python" -c "import maxminddb, _maxminddb_geolite2" 2>/dev/null; then
  echo "==> installing maxminddb $MAXMINDDB_VERSION and maxminddb-geolite2 $MAXMINDDB_GEOLITE2_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "maxminddb==$MAXMINDDB_VERSION" "maxminddb-geolite2==$MAXMINDDB_GEOLITE2_VERSION"
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "==> installing chromium and chromium-driver (Debian packages)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export VIGIL_TEST_PYTHON="$VENV/bin/python"

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_LOG=$(mktemp -t vigil-moto.XXXXXX.log)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
cleanup() { kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/')" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    echo "moto_server exited early:"; cat "$MOTO_LOG"; exit 1
  fi
  sleep 0.2
done
echo "==> moto_server on 127.0.0.1:$PORT (pid $MOTO_PID)"

export VIGIL_TEST_MOTO_ENDPOINT="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN || true

cargo test --workspace --all-targets -- --include-ignored

echo "==> vigil rules test (every built-in rule's inline tests)"
# The binary the tests above built (a plain `cargo run` resolves features for
# the root package alone and would rebuild DataFusion a second time).
"$CARGO_TARGET_DIR/debug/vigil" rules test

echo "==> cargo deny: advisories (offline RustSec snapshot), licenses, bans, sources"
scripts/deny.sh

echo "==> the SBOM of the Lambda bootstrap (CycloneDX, checked against its schema and cargo tree)"
scripts/sbom.sh "$(mktemp -d)/vigil.cdx.json"

echo "==> fuzz smoke: every cargo fuzz target for 15 s from its seeds (fails on a crash, hang or limit breach)"
fuzz/smoke.sh 15

echo "==> cfn-lint and checkov on infra/template.yaml"
if [ ! -x "$INFRA_VENV/bin/checkov" ] || [ ! -x "$INFRA_VENV/bin/cfn-lint" ]; then
  echo "==> creating $INFRA_VENV with cfn-lint==$CFN_LINT_VERSION checkov==$CHECKOV_VERSION"
  python3 -m venv "$INFRA_VENV"
  "$INFRA_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION"
fi
"$INFRA_VENV/bin/cfn-lint" infra/template.yaml
# Every skipped check is justified in the template (Metadata: checkov: skip).
if ! CHECKOV_OUT=$("$INFRA_VENV/bin/checkov" --file infra/template.yaml \
    --framework cloudformation --quiet --compact --skip-download 2>&1); then
  echo "$CHECKOV_OUT"
  echo "checkov: failing checks in infra/template.yaml"
  exit 1
fi
echo "$CHECKOV_OUT" | grep -E "Passed checks" || { echo "$CHECKOV_OUT"; exit 1; }
