#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds: the sample logs, the real records of
# testdata/corpus (each file up to 256 KB, as it is and as a CloudWatch Logs
# subscription payload), the rules, Sigma rules and vigil.toml files of the
# checkout, and hunting SQL. The corpus grows as the fuzzer finds new paths;
# it is not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
C=fuzz/corpus
mkdir -p "$C"/{envelope,cloudtrail,apigateway,lambda_logs,waf,rule_toml,sigma,sql_guard,vigil_toml,intel}
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
mapfile -t intel < <(find sample-context/intel -type f | sort)
seed intel "${intel[@]}"
# One feed of each other format: CSV with its header, a MISP export, a STIX
# bundle with the pattern shapes Vigil reads.
cat > "$C/intel/csv" <<'CSV'
indicator,kind,confidence,first_seen,last_seen,tags
203.0.113.7,ip,80,2026-11-01T00:00:00Z,1793491200,c2;botnet
198.51.100.0/24,cidr,0.6,,,scanner
evil.example,,,,,
https://evil.example/login,url,,,,phish
AKIAEXAMPLEKEY000002,access_key,,,,
arn:aws:iam::111122223333:role/x,arn,,,,
111122223333,account,,,,
CSV
cat > "$C/intel/misp" <<'MISP'
uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,object_uuid,object_name,object_meta_category
a1,7,Network activity,ip-src,203.0.113.9,,1,1793491200,,"tlp:amber,c2",,,
a2,7,Network activity,domain|ip,bad.example|198.51.100.3,,0,1793491200,,,,,
a3,7,Network activity,url,http://bad.example/a,,1,1793491200,,,,,
a4,7,Network activity,user-agent,curl/7.1,,1,1793491200,,,,,
MISP
cat > "$C/intel/stix" <<'STIX'
{"type":"bundle","id":"bundle--f","objects":[
{"type":"indicator","id":"indicator--a","pattern_type":"stix","pattern":"[ipv4-addr:value = '203.0.113.5'] OR [ipv6-addr:value = '2001:db8::/32']","valid_from":"2026-11-01T00:00:00Z","valid_until":"2027-11-01T00:00:00Z","confidence":70,"labels":["c2"]},
{"type":"indicator","id":"indicator--b","pattern_type":"stix","pattern":"[domain-name:value = 'bad.example' OR url:value = 'http://bad.example/x']","valid_from":"2026-11-01T00:00:00Z"},
{"type":"indicator","id":"indicator--c","pattern_type":"stix","pattern":"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' MATCHES '^nikto']","valid_from":"2026-11-01T00:00:00Z"},
{"type":"indicator","id":"indicator--d","pattern_type":"stix","revoked":true,"pattern":"[user-account:user_id = 'AKIAEXAMPLEKEY000003']","valid_from":"2026-11-01T00:00:00Z"}
]}
STIX
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
