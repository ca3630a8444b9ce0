#!/usr/bin/env python3
"""Soak of `vigil tail --follow` against CloudWatch Logs on moto.

Usage: bench/soak.py VIGIL MOTO_ENDPOINT [--rate 200] [--minutes 10]

A producer writes RATE API Gateway access-log events a second into a log
group on moto (a second's events in two PutLogEvents calls) for MINUTES,
each with its own request id, while `vigil tail --follow` (polling every
2 s) ingests the group into a local lake. Every 5 s the tail process's
resident memory (VmRSS) and open file descriptors are sampled. When the
producer stops, the tail is given until the lake holds every event (or two
minutes), then stopped with SIGINT as a user would.

Checks, and prints as one JSON document: every event in the lake once
(rows = distinct request ids = events produced), the RSS slope after the
first three minutes (least squares, KB a minute), the RSS at each minute,
and the descriptors' range.
Exits non-zero when an event is lost or taken twice.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import boto3

from procstats import apigateway_line, rss_and_fds, slope

# The tail reads again the last 2 minutes (`--late`) at every poll and keeps
# the ids it took in them: its memory fills for those 2 minutes first.
WARM_UP_S = 180
SAMPLE_EVERY_S = 5


def line(n, now_ms):
    return apigateway_line(f"soak-{n:09d}", n, now_ms)


def produce(logs, group, rate, seconds, produced):
    """RATE events a second, in two calls a second, for SECONDS."""
    half = rate // 2
    started = time.monotonic()
    tick = 0
    while time.monotonic() - started < seconds:
        now_ms = int(time.time() * 1000)
        events = [{"timestamp": now_ms, "message": line(produced[0] + i, now_ms)} for i in range(half)]
        logs.put_log_events(logGroupName=group, logStreamName="soak", logEvents=events)
        produced[0] += half
        tick += 1
        delay = started + tick * 0.5 - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def lake_counts(vigil, lake):
    out = subprocess.run(
        [vigil, "--lake", lake, "query", "--format", "json",
         "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM apigateway"],
        capture_output=True, text=True)
    if out.returncode != 0:
        return 0, 0
    rows = json.loads(out.stdout)
    return int(rows[0]["n"]), int(rows[0]["d"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vigil")
    p.add_argument("endpoint")
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--minutes", type=float, default=10)
    a = p.parse_args()
    logs = boto3.client("logs", endpoint_url=a.endpoint, region_name="us-east-1")
    group = f"/aws/apigateway/soak-{os.getpid()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="soak")
    lake = tempfile.mkdtemp(prefix="vigil-soak-")
    env = dict(os.environ, VIGIL_LOG="warn")
    tail = subprocess.Popen(
        [a.vigil, "--lake", lake, "tail", "--log-group", group, "--follow",
         "--poll", "2s", "--since", "1m", "--endpoint-url", a.endpoint],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    produced = [0]
    producer = threading.Thread(target=produce, args=(logs, group, a.rate, a.minutes * 60, produced))
    started = time.monotonic()
    producer.start()
    samples = []
    while producer.is_alive():
        rss, fds = rss_and_fds(tail.pid)
        samples.append((time.monotonic() - started, rss, fds))
        time.sleep(SAMPLE_EVERY_S)
    producer.join()
    deadline = time.monotonic() + 120
    rows = distinct = 0
    while time.monotonic() < deadline:
        rows, distinct = lake_counts(a.vigil, lake)
        if rows >= produced[0]:
            break
        time.sleep(5)
    rss, fds = rss_and_fds(tail.pid)
    samples.append((time.monotonic() - started, rss, fds))
    tail.send_signal(signal.SIGINT)
    out, _ = tail.communicate(timeout=120)
    rows, distinct = lake_counts(a.vigil, lake)
    warm = [(t, r) for t, r, _ in samples if t >= WARM_UP_S]
    warm_slope = slope(warm, per=60)
    result = {
        "rate_per_s": a.rate, "seconds": round(a.minutes * 60),
        "events_produced": produced[0], "rows_in_lake": rows, "distinct_request_ids": distinct,
        "rss_kb_first": samples[0][1], "rss_kb_after_warm_up": warm[0][1] if warm else None,
        "rss_kb_last": samples[-1][1], "rss_kb_max": max(r for _, r, _ in samples),
        "rss_slope_kb_per_min_after_warm_up": None if warm_slope is None else round(warm_slope, 1),
        "fds_min": min(f for _, _, f in samples), "fds_max": max(f for _, _, f in samples),
        "samples": len(samples), "tail_exit": tail.returncode, "tail_summary": out.strip()[-300:],
        "rss_kb_by_minute": [r for t, r, _ in samples if int(t) % 60 < SAMPLE_EVERY_S],
    }
    print(json.dumps(result, indent=2))
    if rows != produced[0] or distinct != produced[0]:
        sys.exit("events lost or taken twice")


if __name__ == "__main__":
    main()
