#!/usr/bin/env python3
"""Cold start, per-event latency, S3 requests and cost of the `vigil`
bootstrap under a local Lambda Runtime API (127.0.0.1), pinned to one core.

Usage: bench/lambda-bench.py BOOTSTRAP [--family F] [--events N] [--payload-mb MB]
                             [--runs R] [--sample-every K] [--s3 ENDPOINT] [--bulk]

Each run starts the bootstrap as Lambda would (`ingest-cloudwatch`, every
built-in streaming rule on, a lake in a temporary folder or, with --s3, in a
bucket of the S3 endpoint given, such as moto on 127.0.0.1) and serves it N
CloudWatch Logs subscription events, each carrying MB of log data of the
family F (`apigateway` access-log lines, `cloudtrail` records as CloudTrail
sends them to CloudWatch Logs, `lambda` function logs: platform lines and
JSON application lines), gzip + base64 as CloudWatch sends them. It measures:
  init      process start -> its first GET /next (runtime ready);
  first     the first event, /next answered -> /response received (the
            pipeline is built then: rules parsed, lake opened);
  warm      the same for the following events (median and p95);
  peak RSS  VmHWM of the process after the last event;
  requests  the S3 requests of each warm event, from its EMF line (by
            billing class: PUT, COPY, LIST; GET, HEAD; DELETE);
  cost      dollars per GB of log data: compute (warm median per event at
            the arm64 price of a 1,769 MB function, one vCPU), Lambda's
            per-request charge, and the S3 requests at S3 Standard prices.
With --bulk, the same payloads (one gzip file each) are also ingested in
one process, `vigil ingest` and `vigil run --no-alerts` pinned to the same
core: the bulk cost per MB (ingest's wall time plus the streaming rules' time
`vigil run` reports) that a warm event is compared with.
With --sample-every K (a soak), it also samples the process's VmRSS and open
file descriptors after every K events, reports the RSS slope after the first
tenth of the events (least squares, KB per 1,000 events) and the descriptors'
range, and checks that the lake holds every record once (rows = distinct
ids = records sent); it exits non-zero otherwise.
Prints one JSON document.
"""
import argparse
import base64
import math
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from procstats import apigateway_line, rss_and_fds, slope


# Prices (us-east-1, December 2026): Lambda arm64 per GB-second and per
# request; S3 Standard per 1,000 requests of each class.
LAMBDA_ARM64_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
FUNCTION_MEMORY_MB = 1769
S3_PUT_CLASS = 0.005 / 1000
S3_GET_CLASS = 0.0004 / 1000


def apigateway_record(seed, i, at):
    return apigateway_line(f"bench-{seed}-{i}", i, at)


def cloudtrail_record(seed, i, at):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at / 1000))
    reads = ["GetObject", "DescribeInstances", "ListBuckets", "GetCallerIdentity", "Decrypt"]
    name = reads[i % len(reads)]
    return json.dumps({
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole", "principalId": f"AROAEXAMPLE{i % 40:05d}:session",
            "arn": f"arn:aws:sts::111122223333:assumed-role/app-{i % 40}/session",
            "accountId": "111122223333", "accessKeyId": f"ASIAEXAMPLE{i % 40:09d}",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": f"AROAEXAMPLE{i % 40:05d}",
                                  "arn": f"arn:aws:iam::111122223333:role/app-{i % 40}",
                                  "accountId": "111122223333", "userName": f"app-{i % 40}"},
                "attributes": {"creationDate": when, "mfaAuthenticated": "false"}},
        },
        "eventTime": when, "eventSource": "s3.amazonaws.com" if name == "GetObject" else "ec2.amazonaws.com",
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": f"10.0.{i % 200}.{i % 250}",
        "userAgent": "aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17",
        "requestParameters": {"bucketName": "orders-archive", "key": f"2026/11/{i:08d}.json"},
        "responseElements": None,
        "requestID": f"REQ{seed:06d}{i:010d}", "eventID": f"{seed:08x}-{i:04x}-4000-8000-{i:012x}",
        "readOnly": True, "eventType": "AwsApiCall", "managementEvent": name != "GetObject",
        "recipientAccountId": "111122223333", "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "s3.us-east-1.amazonaws.com"},
    })


def lambda_record(seed, i, at):
    request = f"{seed:08x}-{i // 6:04x}-4a1b-9c2d-{i // 6:012x}"
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at / 1000)) + f".{at % 1000:03d}Z"
    match i % 6:
        case 0:
            return f"START RequestId: {request} Version: $LATEST"
        case 1 | 2 | 3:
            return json.dumps({
                "timestamp": when, "level": "INFO" if i % 5 else "WARN", "requestId": request,
                "message": f"charged order {i} for customer c-{i % 997}",
                "service": "payments", "cold_start": False, "function_request_id": request,
                "xray_trace_id": f"1-6743a1b2-{i:024x}",
            })
        case 4:
            return f"END RequestId: {request}"
        case _:
            return (f"REPORT RequestId: {request}\tDuration: {12 + i % 40}.53 ms\t"
                    f"Billed Duration: {13 + i % 40} ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB")


FAMILIES = {
    "apigateway": ("/aws/apigateway/access-logs/prod", apigateway_record),
    "cloudtrail": ("aws-cloudtrail-logs-111122223333-bench", cloudtrail_record),
    "lambda": ("/aws/lambda/payments-charge", lambda_record),
}


def payload(family, mb, seed):
    """A subscription event holding about `mb` MB of `family` log data."""
    group, record = FAMILIES[family]
    events, size, i = [], 0, 0
    base = 1795510800000 + seed * 10_000_000
    while size < mb * 1_000_000:
        line = record(seed, i, base + i)
        events.append({"id": f"{seed:020d}{i:036d}", "timestamp": base + i, "message": line})
        size += len(line)
        i += 1
    data = json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "111122223333",
        "logGroup": group, "logStream": "bench",
        "subscriptionFilters": ["vigil"], "logEvents": events,
    }).encode()
    return json.dumps({"awslogs": {"data": base64.b64encode(gzip.compress(data)).decode()}}).encode(), len(data), len(events)


class Api:
    def __init__(self, events):
        self.events = list(events)
        self.lock = threading.Condition()
        self.first_next = None
        self.sent = {}
        self.done = {}
        self.errors = []
        self.pid = None
        self.sample_every = None
        self.samples = []


def serve(api):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            now = time.perf_counter()
            with api.lock:
                if api.first_next is None:
                    api.first_next = now
                while not api.events:
                    api.lock.wait()
                rid, body = api.events.pop(0)
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111122223333:function:bench")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            with api.lock:
                api.sent[rid] = time.perf_counter()

        def do_POST(self):
            now = time.perf_counter()
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rid = self.path.split("/")[4] if "/invocation/" in self.path else "init"
            with api.lock:
                if self.path.endswith("/error"):
                    api.errors.append(body.decode(errors="replace"))
                api.done[rid] = (now, body)
                if api.sample_every and len(api.done) % api.sample_every == 0:
                    api.samples.append((len(api.done), *rss_and_fds(api.pid)))
                api.lock.notify_all()
            self.send_response(202)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lake_counts(bootstrap, lake, table, env):
    out = subprocess.run(
        [bootstrap, "--lake", lake, "query", "--format", "json",
         f"SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM {table}"],
        capture_output=True, text=True, check=True, env={**os.environ, **env})
    row = json.loads(out.stdout)[0]
    return int(row["n"]), int(row["d"])


def s3_lake(endpoint):
    """A new bucket on the S3 endpoint (moto takes any credentials)."""
    bucket = f"vigil-lambda-bench-{os.getpid()}-{time.monotonic_ns()}"
    request = urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")
    urllib.request.urlopen(request).close()
    return f"s3://{bucket}/lake"


def emf_lines(path):
    """The EMF documents the function printed, in order."""
    docs = []
    with open(path) as out:
        for line in out:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and "_aws" in doc:
                docs.append(doc)
    return docs


REQUEST_METRICS = ["S3Puts", "S3Copies", "S3Lists", "S3Gets", "S3Heads", "S3Deletes"]


def one_run(bootstrap, family, events, sample_every=None, s3=None):
    api = Api(events)
    api.sample_every = sample_every
    server = serve(api)
    s3_env = {}
    if s3:
        lake = s3_lake(s3)
        s3_env = {"VIGIL_S3_ENDPOINT": s3, "AWS_ACCESS_KEY_ID": "testing",
                  "AWS_SECRET_ACCESS_KEY": "testing"}
    else:
        lake = tempfile.mkdtemp(prefix="vigil-lambda-bench-")
    stdout = tempfile.NamedTemporaryFile(prefix="vigil-lambda-bench-", suffix=".out", delete=False)
    env = {
        **s3_env,
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "_HANDLER": "ingest-cloudwatch",
        "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1",
        "VIGIL_LAKE": lake, "VIGIL_LOG": "warn",
        # The allocator's settings pass through, to measure them.
        **{k: v for k, v in os.environ.items() if k.startswith("MIMALLOC_")},
    }
    started = time.perf_counter()
    proc = subprocess.Popen(["taskset", "-c", "0", bootstrap], env=env,
                            stdout=stdout, stderr=subprocess.PIPE)
    api.pid = proc.pid
    ids = [rid for rid, _ in events]
    with api.lock:
        api.lock.wait_for(lambda: len(api.done) >= len(ids) or proc.poll() is not None,
                          timeout=max(300, 2 * len(ids)))
    rss_kb = None
    with open(f"/proc/{proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                rss_kb = int(line.split()[1])
    proc.kill()
    proc.wait()
    server.shutdown()
    if api.errors or len(api.done) < len(ids):
        sys.exit(f"the function failed: {api.errors} {proc.stderr.read().decode()[-2000:]}")
    latencies = [(api.done[r][0] - api.sent[r]) * 1000 for r in ids]
    stdout.close()
    docs = emf_lines(stdout.name)
    os.unlink(stdout.name)
    # Warm events' requests: the first one's include opening the lake.
    requests = {m: [d.get(m, 0) for d in docs[1:]] for m in REQUEST_METRICS}
    soak = {}
    if sample_every:
        rows, distinct = lake_counts(bootstrap, lake, family, s3_env)
        warm = [(n, rss) for n, rss, _ in api.samples if n >= len(ids) // 10]
        soak = {
            "lake_rows": rows, "lake_distinct_event_ids": distinct,
            "rss_kb_after_warm_up": warm[0][1], "rss_kb_last": api.samples[-1][1],
            "rss_slope_kb_per_1000_events": round(slope(warm, per=1000), 1),
            "fds_min": min(f for _, _, f in api.samples),
            "fds_max": max(f for _, _, f in api.samples),
            "samples": len(api.samples),
        }
    return {
        "soak": soak,
        "init_ms": (api.first_next - started) * 1000,
        "first_event_ms": latencies[0],
        "warm_ms": latencies[1:],
        "peak_rss_mb": rss_kb / 1024,
        "requests": requests,
        "findings": sum(d.get("Findings", 0) for d in docs),
        "response": json.loads(api.done[ids[0]][1]),
    }


def bulk(bootstrap, events, log_data_mb):
    """The same payloads ingested in one process: ms per MB of log data."""
    folder = tempfile.mkdtemp(prefix="vigil-lambda-bench-bulk-")
    for rid, body in events:
        data = base64.b64decode(json.loads(body)["awslogs"]["data"])
        with open(os.path.join(folder, f"{rid}.json.gz"), "wb") as f:
            f.write(data)
    timed = {}
    for command in (["ingest", folder], ["run", "--no-alerts", folder]):
        lake = tempfile.mkdtemp(prefix="vigil-lambda-bench-bulk-lake-")
        started = time.perf_counter()
        # From an empty folder: no vigil.toml is read, as under Lambda.
        out = subprocess.run(["taskset", "-c", "0", bootstrap, "--lake", lake, *command],
                             capture_output=True, text=True, cwd=lake, check=True)
        timed[command[0]] = ((time.perf_counter() - started) * 1000, out.stderr + out.stdout)
        shutil.rmtree(lake)
    shutil.rmtree(folder)
    found = re.search(r"streaming rules over (\d+) batch\(es\) of \d+ rows on average, ([\d.]+) ms per batch",
                      timed["run"][1])
    # No line when no streaming rule reads the family's table.
    streaming_ms = int(found.group(1)) * float(found.group(2)) if found else 0.0
    ingest_ms = timed["ingest"][0]
    return {
        "ingest_ms_per_mb": ingest_ms / log_data_mb,
        "streaming_ms_per_mb": streaming_ms / log_data_mb,
        "ms_per_mb": (ingest_ms + streaming_ms) / log_data_mb,
        "ingest_mb_per_s": log_data_mb / ingest_ms * 1000,
    }


def cost_per_gb(warm_ms, log_data_bytes, put_class, get_class):
    """Dollars per GB of log data, by part, for events of `log_data_bytes`."""
    events_per_gb = 1e9 / log_data_bytes
    gb_seconds = warm_ms / 1000 * FUNCTION_MEMORY_MB / 1024
    parts = {
        "compute": events_per_gb * gb_seconds * LAMBDA_ARM64_GB_SECOND,
        "lambda_requests": events_per_gb * LAMBDA_REQUEST,
        "s3_requests": events_per_gb * (put_class * S3_PUT_CLASS + get_class * S3_GET_CLASS),
    }
    parts["total"] = sum(parts.values())
    return {k: float(f"{v:.3g}") for k, v in parts.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bootstrap")
    p.add_argument("--family", choices=sorted(FAMILIES), default="apigateway")
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--payload-mb", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--sample-every", type=int, default=None)
    p.add_argument("--bulk", action="store_true")
    p.add_argument("--s3", metavar="ENDPOINT", default=None,
                   help="an S3 endpoint (moto) for the lake, e.g. http://127.0.0.1:5000")
    a = p.parse_args()
    events, raw_bytes, records, sent = [], 0, 0, 0
    for i in range(a.events):
        body, raw_bytes, records = payload(a.family, a.payload_mb, i)
        events.append((f"req-{i:04d}", body))
        sent += records
    runs = [one_run(a.bootstrap, a.family, events, a.sample_every, a.s3) for _ in range(a.runs)]
    warm = sorted(x for r in runs for x in r["warm_ms"])
    requests = {m: statistics.median(x for r in runs for x in r["requests"][m]) if warm else None
                for m in REQUEST_METRICS}
    warm_median = statistics.median(warm) if warm else None
    bulk_cost = bulk(a.bootstrap, events, a.events * raw_bytes / 1e6) if a.bulk else None
    put_class = (requests["S3Puts"] or 0) + (requests["S3Copies"] or 0) + (requests["S3Lists"] or 0)
    get_class = (requests["S3Gets"] or 0) + (requests["S3Heads"] or 0)
    print(json.dumps({
        "family": a.family, "lake": "s3" if a.s3 else "local",
        "bootstrap_bytes": os.path.getsize(a.bootstrap),
        "event_bytes": len(events[0][1]), "log_data_bytes": raw_bytes, "records_per_event": records,
        "runs": a.runs, "events_per_run": a.events,
        "init_ms_median": statistics.median(r["init_ms"] for r in runs),
        "first_event_ms_median": statistics.median(r["first_event_ms"] for r in runs),
        "warm_event_ms_median": warm_median,
        "warm_event_ms_p95": warm[math.ceil(len(warm) * 0.95) - 1] if warm else None,
        "warm_ms_per_mb": warm_median / (raw_bytes / 1e6) if warm else None,
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "bulk": bulk_cost,
        "warm_over_bulk": (warm_median / (raw_bytes / 1e6) / bulk_cost["ms_per_mb"]
                           if bulk_cost and bulk_cost["ms_per_mb"] and warm else None),
        "s3_requests_per_warm_event_median": requests,
        "findings_per_run": [r["findings"] for r in runs],
        "usd_per_gb": cost_per_gb(warm_median, raw_bytes, put_class, get_class) if warm else None,
        "response": runs[0]["response"],
        "soak": [r["soak"] for r in runs] if a.sample_every else None,
    }, indent=2))
    for r in runs:
        if a.sample_every and not (r["soak"]["lake_rows"] == r["soak"]["lake_distinct_event_ids"] == sent):
            sys.exit(f"records lost or taken twice: {r['soak']} of {sent}")


if __name__ == "__main__":
    main()
