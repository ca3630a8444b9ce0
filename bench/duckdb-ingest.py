#!/usr/bin/env python3
"""DuckDB's NDJSON → Parquet (zstd) on the same file: read_json + COPY.
Usage: duckdb-ingest.py IN.ndjson OUT.parquet THREADS; prints seconds."""
import sys, time, duckdb

src, dst, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
start = time.perf_counter()
con.execute(
    f"COPY (SELECT * FROM read_json('{src}', format='newline_delimited', maximum_object_size=16777216)) "
    f"TO '{dst}' (FORMAT parquet, COMPRESSION zstd)"
)
print(f"{time.perf_counter() - start:.3f}")
