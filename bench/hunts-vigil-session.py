#!/usr/bin/env python3
"""Runs Vigil's saved hunts in one `vigil query` session (the interactive
prompt, statements on stdin), each three times, as hunts-duckdb.py runs them
in one DuckDB connection: warm caches on both sides.

Usage: hunts-vigil-session.py VIGIL LAKE HUNTS_DIR
Prints one line per hunt: `name seconds rows` (the best of 3, Vigil's own
timing of planning and execution), or `name n/a error` when it failed.
"""
import glob, os, re, subprocess, sys
from duckdb_sql import render

vigil, lake, hunts_dir = sys.argv[1], sys.argv[2], sys.argv[3]
RUNS = 3
names, script = [], ""
for path in sorted(glob.glob(f"{hunts_dir}/*.sql")):
    names.append(os.path.basename(path)[:-4])
    # A statement ends at a line ending with ';'.
    script += (render(open(path).read()).rstrip() + "\n;\n") * RUNS
done = subprocess.run([vigil, "--lake", lake, "query", "--format", "table"], input=script,
                      capture_output=True, text=True, check=True)
results = [line for line in done.stderr.splitlines()
           if line.startswith("error:") or re.match(r"^\d+ row\(s\) in ", line)]
if len(results) != RUNS * len(names):
    sys.exit(f"expected {RUNS * len(names)} results, got {len(results)}:\n{done.stderr}")
for i, name in enumerate(names):
    runs = results[i * RUNS:(i + 1) * RUNS]
    if any(r.startswith("error:") for r in runs):
        print(f"{name} n/a {runs[0][:80]}")
        continue
    times = [float(re.match(r"^\d+ row\(s\) in ([0-9.]+)s", r).group(1)) for r in runs]
    rows = re.match(r"^(\d+) row", runs[0]).group(1)
    print(f"{name} {min(times):.3f} {rows}")
