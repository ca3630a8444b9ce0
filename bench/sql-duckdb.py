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
from duckdb_sql import restrict_views, translate

lake, start, end, sql_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def at(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)

con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
restrict_views(con, lake, int(at(start).timestamp() * 1000), int(at(end).timestamp() * 1000))
total = 0.0
for i, line in enumerate(l for l in open(sql_file, encoding="utf-8") if l.strip()):
    sql = translate(line.strip())
    t = time.perf_counter()
    rows = con.execute(sql).fetchall()
    took = time.perf_counter() - t
    total += took
    print(f"{i} {took:.3f} {len(rows)}")
print(f"total {total:.3f}")
