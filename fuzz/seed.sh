#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds: the sample logs, the real records of
# testdata/corpus (each file up to 256 KB, as it is and as a CloudWatch Logs
# subscription payload), the rules, Sigma rules and vigil.toml files of the
# checkout, and hunting SQL. The corpus grows as the fuzzer finds new paths;
# it is not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p "$C"/{envelope,cloudtrail,apigateway,lambda_logs,waf,rule_toml,sigma,sql_guard,vigil_toml}
seed() { # target file...
  local target="$1"; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 262144 ] || continue
    cp "$f" "$C/$target/$(sha1sum "$f" | cut -c1-16)"
  done
}
mapfile -t logs < <(find sample-logs testdata/corpus -type f \( -name '*.json' -o -name '*.ndjson' -o -name '*.log' -o -name '*.txt' -o -name '*.gz' \) | sort)
seed envelope "${logs[@]}"
mapfile -t ct < <(printf '%s\n' "${logs[@]}" | grep -i -e cloudtrail -e stratus -e invictus -e otrf)
seed cloudtrail "${ct[@]}"
mapfile -t ag < <(printf '%s\n' "${logs[@]}" | grep -i -e apigateway -e api-gateway -e access)
seed apigateway "${ag[@]}"
mapfile -t lm < <(printf '%s\n' "${logs[@]}" | grep -i -e lambda -e cwlogs -e powertools)
seed lambda_logs "${lm[@]}"
mapfile -t wf < <(printf '%s\n' "${logs[@]}" | grep -i waf)
seed waf "${wf[@]}"
# Subscription payloads (base64 of gzip of the CloudWatch Logs JSON) of a few samples.
python3 - "$C/envelope" sample-logs <<'PY'
import base64, gzip, json, os, sys
out, root = sys.argv[1], sys.argv[2]
n = 0
for d, _, files in os.walk(root):
    for name in sorted(files):
        lines = open(os.path.join(d, name), "rb").read().decode("utf-8", "replace").splitlines()[:50]
        payload = {"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "/fuzz",
                   "logStream": "s", "subscriptionFilters": ["f"],
                   "logEvents": [{"id": str(i), "timestamp": 1795510800000 + i, "message": l} for i, l in enumerate(lines)]}
        data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
        open(os.path.join(out, f"awslogs-{n}"), "w").write(json.dumps({"awslogs": {"data": data}}))
        n += 1
PY
mapfile -t rules < <(find detect/rules -name '*.toml' | sort)
seed rule_toml "${rules[@]}"
mapfile -t sigma < <(find testdata/corpus/sigma-aws-rules testdata/corpus/sigma-correlation-spec -name '*.yml' | sort)
seed sigma "${sigma[@]}"
mapfile -t configs < <(find . -name 'vigil*.toml' -not -path './fuzz/*' -not -path './target/*' | sort)
seed vigil_toml "${configs[@]}"
i=0
while IFS= read -r sql; do
  printf '%s' "$sql" > "$C/sql_guard/q$i"; i=$((i + 1))
done <<'SQL'
SELECT src_ip, count(*) AS n FROM apigateway WHERE status = 401 GROUP BY src_ip ORDER BY n DESC LIMIT 10
WITH t AS (SELECT * FROM cloudtrail) SELECT event_name FROM t UNION ALL SELECT 'x'
SELECT * FROM events e JOIN findings f ON e.event_id = f.event_id
SELECT intel_match('ip', src_ip)['source'] FROM cloudtrail
INSERT INTO cloudtrail SELECT * FROM cloudtrail
SELECT * INTO t2 FROM cloudtrail
COPY (SELECT 1) TO '/tmp/x'
CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'
SELECT 1; DROP TABLE cloudtrail
SQL
echo "seeds: $(find "$C" -type f | wc -l) files in $C"
