"""The reference for Vigil's Sigma compiler: pySigma's SQLite backend.

Usage: oracle.py RECORDS.ndjson RULE.yml...

RECORDS holds one {"id": ..., "raw": ..., "fields": {...}} per line: the
CloudTrail records as Vigil's lake keeps them, and the values of its typed
columns under their CloudTrail names (a dotted path; null for none), which
replace what the raw text holds at that path. Each record becomes rows of a SQLite table shaped as
Zircolite builds one: a column per Sigma field, holding the value at that
dotted path (text compared COLLATE NOCASE, JSON numbers as numbers), arrays on the way looked into (a
record whose path holds several values gives a row per value), JSON null and
absent paths as NULL, objects as compact JSON; the record's text is the
keyword column. pySigma converts each rule; SQLite runs the query (REGEXP is
Python's re.search). Prints {rule path: [matching record ids]} as JSON.

A file holding a correlation rule is run through pySigma's correlation plan
instead (the records' times from RECORDS' "ms"), and its entry lists the
windows that fire, each as "<group keys as JSON>|<window end, Unix seconds>".
"""

import itertools
import json
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.backends.sqlite.runtime import execute_plan
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

FULLTEXT = "vigil_raw_text"


def values_at(value, path):
    """Every value at the dotted path, as Vigil's json_match reads it."""
    if not path:
        items = value if isinstance(value, list) else [value]
        return [text(v) for v in items if v is not None]
    if isinstance(value, dict):
        return values_at(value[path[0]], path[1:]) if path[0] in value else []
    if isinstance(value, list):
        return [t for v in value for t in values_at(v, path)]
    return []


def with_fields(doc, fields):
    """The record with the typed columns' values at their paths."""
    for path, value in fields.items():
        keys = path.split(".")
        node = doc
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                if value is None:
                    node = None
                    break
                node[k] = {}
            node = node[k]
        if node is None:
            continue
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return doc


def text(v):
    """Strings and numbers as they are (a number compares as a number),
    booleans as 'true'/'false', objects and arrays as compact JSON."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return v


def make_table(db, columns, parsed, fields):
    db.create_function(
        "REGEXP", 2,
        lambda pattern, value: value is not None and re.search(pattern, str(value)) is not None,
        deterministic=True,
    )
    db.execute(
        "CREATE TABLE logs ("
        # No declared type: a JSON number is stored as a number (and
        # compared as one by gt/lt), text as text, compared NOCASE.
        + ", ".join('"%s" COLLATE NOCASE' % c.replace('"', '""') for c in columns)
        + ")"
    )
    rows = []
    for rid, raw, doc, ms in parsed:
        per_field = [values_at(doc, f.split(".")) or [None] for f in fields]
        for combo in itertools.product(*per_field):
            rows.append((rid, raw, ms / 1000.0) + combo)
    db.executemany("INSERT INTO logs VALUES (%s)" % ", ".join("?" * len(columns)), rows)


def correlation_windows(path, parsed):
    backend = sqliteBackend(
        table="logs", collate_nocase=True, fulltext_field=FULLTEXT,
        timestamp_field="vigil_ts", timestamp_format="unix", event_id_field="vigil_id",
    )
    collection = SigmaCollection.from_yaml(open(path, encoding="utf-8").read())
    # Zircolite's output format carries each correlation's execution plan.
    converted = json.loads(backend.convert(collection, output_format="zircolite"))
    windows = set()
    for item in converted:
        if not item.get("correlation"):
            continue
        plan = item["correlation_plan"]
        fields = sorted({f for fs in plan["required_fields"].values() for f in fs} - {"vigil_id", "vigil_ts", FULLTEXT})
        db = sqlite3.connect(":memory:")
        make_table(db, ["vigil_id", FULLTEXT, "vigil_ts"] + fields, parsed, fields)
        alerts, _ = execute_plan(db, plan, include_events=False)
        for a in alerts:
            keys = {k: v for k, v in sorted(a["group_keys"].items())}
            windows.add("%s|%d" % (json.dumps(keys, sort_keys=True, separators=(",", ":"), ensure_ascii=False), round(a["window_end"])))
        db.close()
    return sorted(windows)


def main():
    records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
    parsed = [
        (r["id"], r["raw"], with_fields(json.loads(r["raw"]), r.get("fields", {})), r.get("ms", 0))
        for r in records
    ]
    out = {}
    for path in sys.argv[2:]:
        if "correlation:" in open(path, encoding="utf-8").read():
            out[path] = correlation_windows(path, parsed)
            continue
        backend = sqliteBackend(table="logs", collate_nocase=True, fulltext_field=FULLTEXT)
        rules = SigmaCollection.from_yaml(open(path, encoding="utf-8").read())
        ids = set()
        for rule in rules:
            fields = [f for f in backend.required_fields(rule) if f != FULLTEXT]
            queries = backend.convert_rule(rule)
            db = sqlite3.connect(":memory:")
            make_table(db, ["vigil_id", FULLTEXT, "vigil_ts"] + fields, parsed, fields)
            for q in queries:
                for (rid,) in db.execute("SELECT DISTINCT vigil_id FROM (%s)" % q):
                    ids.add(rid)
            db.close()
        out[path] = sorted(ids)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
