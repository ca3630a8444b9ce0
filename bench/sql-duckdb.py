#!/usr/bin/env python3
"""Runs SQL queries one by one in DuckDB over the lake's rows of a time range.

Usage: sql-duckdb.py LAKE FROM TO SQL_FILE THREADS
SQL_FILE holds one query per line (e.g. `vigil sigma convert` of each rule of
a pack). Each is translated to DuckDB's dialect (bench/duckdb_sql.py) and run
against views restricted to [FROM, TO), with Hive partition pruning on
date/hour, as Vigil restricts its tables. Prints `index seconds rows` per
query, then `total seconds`.
"""
import datetime as dt, sys, time
import duckdb
from duckdb_sql import translate

lake, start, end, sql_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def at(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)

t0, t1 = at(start), at(end)
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
d0, h0 = t0.strftime("%Y-%m-%d"), t0.strftime("%H")
last = t1 - dt.timedelta(milliseconds=1)
d1, h1 = last.strftime("%Y-%m-%d"), last.strftime("%H")
for table in ("cloudtrail", "apigateway", "lambda"):
    con.execute(f"""CREATE OR REPLACE VIEW "{table}" AS
        SELECT * EXCLUDE (date, hour) FROM read_parquet('{lake}/{table}/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)
        WHERE (date > '{d0}' OR (date = '{d0}' AND hour >= '{h0}')) AND (date < '{d1}' OR (date = '{d1}' AND hour <= '{h1}'))
          AND event_time >= TIMESTAMPTZ '{t0:%Y-%m-%d %H:%M:%S}+00' AND event_time < TIMESTAMPTZ '{t1:%Y-%m-%d %H:%M:%S}+00'""")
total = 0.0
for i, line in enumerate(l for l in open(sql_file, encoding="utf-8") if l.strip()):
    sql = translate(line.strip())
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    took = time.perf_counter() - t
    total += took
    print(f"{i} {took:.3f} {len(rows)}")
print(f"total {total:.3f}")
