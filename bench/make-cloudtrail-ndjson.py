#!/usr/bin/env python3
"""Writes N MB of CloudTrail NDJSON shaped like the real Invictus IR capture:
its 2,900 records repeated in order, each with a fresh eventID and requestID and
times shifted forward, so the event-name, identity and nested-parameter mix is
that of a real account. Usage: make-cloudtrail-ndjson.py CORPUS_DIR OUT MB"""
import datetime as dt, glob, json, os, sys, uuid

corpus, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = []
for f in sorted(glob.glob(os.path.join(corpus, "invictus-ir-aws-dataset/CloudTrail/*.json"))):
    records.extend(json.load(open(f))["Records"])
target = mb << 20
written, i = 0, 0
base = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
with open(out, "w") as fh:
    while written < target:
        r = dict(records[i % len(records)])
        r["eventID"] = str(uuid.UUID(int=i + 1))
        r["requestID"] = str(uuid.UUID(int=(i + 1) << 64))
        r["eventTime"] = (base + dt.timedelta(seconds=i // 50)).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = json.dumps(r, separators=(",", ":")) + "\n"
        fh.write(line)
        written += len(line)
        i += 1
print(f"{i} records, {written / 1e6:.1f} MB")
