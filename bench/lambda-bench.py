#!/usr/bin/env python3
"""Cold start and per-event latency of the `vigil` bootstrap under a local
Lambda Runtime API (127.0.0.1), pinned to one core.

Usage: bench/lambda-bench.py BOOTSTRAP [--events N] [--payload-mb MB] [--runs R]
                             [--sample-every K]

Each run starts the bootstrap as Lambda would (`ingest-cloudwatch`, a local
lake in a temporary folder) and serves it N CloudWatch Logs subscription
events, each carrying MB of API Gateway access-log data (gzip + base64, as
CloudWatch sends it). It measures:
  init      process start -> its first GET /next (runtime ready);
  first     the first event, /next answered -> /response received (the
            pipeline is built then: rules parsed, lake opened);
  warm      the same for the following events (median and p95);
  peak RSS  VmHWM of the process after the last event.
With --sample-every K (a soak), it also samples the process's VmRSS and open
file descriptors after every K events, reports the RSS slope after the first
tenth of the events (least squares, KB per 1,000 events) and the descriptors'
range, and checks that the lake holds every record once (rows = distinct
request ids = records sent); it exits non-zero otherwise.
Prints one JSON document.
"""
import argparse
import base64
import math
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def payload(mb, seed):
    """A subscription event holding about `mb` MB of access-log lines."""
    events, size, i = [], 0, 0
    base = 1795510800000 + seed * 10_000_000
    while size < mb * 1_000_000:
        line = json.dumps({
            "requestId": f"bench-{seed}-{i}", "ip": f"198.51.100.{i % 250}",
            "requestTimeEpoch": base + i, "httpMethod": "GET",
            "resourcePath": "/orders/{id}", "path": f"/prod/orders/{i}",
            "status": "200" if i % 17 else "401", "protocol": "HTTP/1.1",
            "responseLength": "512", "responseLatency": "35", "integrationLatency": "30",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
            "apiId": "a1b2c3d4e5", "stage": "prod",
        })
        events.append({"id": f"{seed:020d}{i:036d}", "timestamp": base + i, "message": line})
        size += len(line)
        i += 1
    data = json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "111122223333",
        "logGroup": "/aws/apigateway/access-logs/prod", "logStream": "bench",
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


def rss_and_fds(pid):
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope_per_1000(points):
    """Least-squares slope of (events, KB) points, in KB per 1,000 events."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 1000 * sum((x - mx) * (y - my) for x, y in points) / var if var else None


def lake_counts(bootstrap, lake):
    out = subprocess.run(
        [bootstrap, "--lake", lake, "query", "--format", "json",
         "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM apigateway"],
        capture_output=True, text=True, check=True)
    row = json.loads(out.stdout)[0]
    return int(row["n"]), int(row["d"])


def one_run(bootstrap, events, sample_every=None):
    api = Api(events)
    api.sample_every = sample_every
    server = serve(api)
    lake = tempfile.mkdtemp(prefix="vigil-lambda-bench-")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "_HANDLER": "ingest-cloudwatch",
        "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1",
        "VIGIL_LAKE": lake, "VIGIL_LOG": "warn",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(["taskset", "-c", "0", bootstrap], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    soak = {}
    if sample_every:
        rows, distinct = lake_counts(bootstrap, lake)
        warm = [(n, rss) for n, rss, _ in api.samples if n >= len(ids) // 10]
        soak = {
            "lake_rows": rows, "lake_distinct_request_ids": distinct,
            "rss_kb_after_warm_up": warm[0][1], "rss_kb_last": api.samples[-1][1],
            "rss_slope_kb_per_1000_events": round(slope_per_1000(warm), 1),
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
        "response": json.loads(api.done[ids[0]][1]),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bootstrap")
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--payload-mb", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--sample-every", type=int, default=None)
    a = p.parse_args()
    events, raw_bytes, records, sent = [], 0, 0, 0
    for i in range(a.events):
        body, raw_bytes, records = payload(a.payload_mb, i)
        events.append((f"req-{i:04d}", body))
        sent += records
    runs = [one_run(a.bootstrap, events, a.sample_every) for _ in range(a.runs)]
    warm = sorted(x for r in runs for x in r["warm_ms"])
    print(json.dumps({
        "bootstrap_bytes": os.path.getsize(a.bootstrap),
        "event_bytes": len(events[0][1]), "log_data_bytes": raw_bytes, "records_per_event": records,
        "runs": a.runs, "events_per_run": a.events,
        "init_ms_median": statistics.median(r["init_ms"] for r in runs),
        "first_event_ms_median": statistics.median(r["first_event_ms"] for r in runs),
        "warm_event_ms_median": statistics.median(warm),
        "warm_event_ms_p95": warm[math.ceil(len(warm) * 0.95) - 1] if warm else None,
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "response": runs[0]["response"],
        "soak": [r["soak"] for r in runs] if a.sample_every else None,
    }, indent=2))
    for r in runs:
        if a.sample_every and not (r["soak"]["lake_rows"] == r["soak"]["lake_distinct_request_ids"] == sent):
            sys.exit(f"records lost or taken twice: {r['soak']} of {sent}")


if __name__ == "__main__":
    main()
