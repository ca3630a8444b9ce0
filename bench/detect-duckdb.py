#!/usr/bin/env python3
"""Runs Vigil's scheduled rules one by one in DuckDB, over the same lake files
and the same windows as `vigil detect --due --now NOW` on a fresh lake state.

Usage: detect-duckdb.py LAKE NOW RULES_DIR THREADS
Prints one line per rule: `rule seconds rows`, then `total seconds`.

Each rule's SQL is translated to DuckDB's dialect (json_str → json_extract_string,
regexp_like → regexp_matches, date_bin → time_bucket, regexp_count) and run
against views restricted to the rule's window (plus lookback), with Hive
partition pruning on date/hour, exactly as Vigil restricts its tables.
"""
import datetime as dt, glob, re, sys, time, tomllib
import duckdb
from duckdb_sql import restrict_views, translate

lake, now_s, rules_dir, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
now = int(dt.datetime.fromisoformat(now_s.replace("Z", "+00:00")).timestamp() * 1000)
UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

def ms(d):
    return int(d[:-1]) * UNITS[d[-1]] if d else 0

def ts(m):
    return "TIMESTAMPTZ '" + dt.datetime.fromtimestamp(m / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") + "+00'"

con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
total = 0.0
for path in sorted(glob.glob(f"{rules_dir}/*/*.toml")):
    rule = tomllib.load(open(path, "rb"))
    if rule["mode"] != "scheduled":
        continue
    every, window = ms(rule.get("every", rule["window"])), ms(rule["window"])
    end = (now - ms(rule.get("lag", "0s"))) // every * every
    start, read_from = end - window, end - window - ms(rule.get("lookback", "0s"))
    sql = rule["sql"]
    for k, v in rule.get("params", {}).items():
        # As the engine renders parameters: text as a quoted SQL literal.
        lit = "'" + v.replace("'", "''") + "'" if isinstance(v, str) else str(v)
        sql = sql.replace("${" + k + "}", lit)
    sql = translate(sql.replace("${window_start}", ts(start)).replace("${window_end}", ts(end)))
    restrict_views(con, lake, read_from, end)
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    took = time.perf_counter() - t
    total += took
    print(f"{rule['id']} {took:.3f} {len(rows)}")
print(f"total {total:.3f}")
