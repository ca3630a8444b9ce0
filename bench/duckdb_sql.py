"""Vigil's SQL (DataFusion dialect, with Vigil's functions) in DuckDB's
dialect, for running the same rules and hunts in both engines."""
import datetime as dt
import re


def restrict_views(con, lake, from_ms, to_ms):
    """Views of the lake's three log tables holding only [from_ms, to_ms),
    pruned to its date/hour partitions, as Vigil restricts its tables."""
    def at(ms):
        return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    first, last = at(from_ms), at(to_ms - 1)
    d0, h0, d1, h1 = first.strftime("%Y-%m-%d"), first.strftime("%H"), last.strftime("%Y-%m-%d"), last.strftime("%H")
    t0 = at(from_ms).strftime("%Y-%m-%d %H:%M:%S")
    t1 = at(to_ms).strftime("%Y-%m-%d %H:%M:%S")
    for table in ("cloudtrail", "apigateway", "lambda", "waf"):
        con.execute(f"""CREATE OR REPLACE VIEW "{table}" AS
            SELECT * EXCLUDE (date, hour) FROM read_parquet('{lake}/{table}/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)
            WHERE (date > '{d0}' OR (date = '{d0}' AND hour >= '{h0}')) AND (date < '{d1}' OR (date = '{d1}' AND hour <= '{h1}'))
              AND event_time >= TIMESTAMPTZ '{t0}+00' AND event_time < TIMESTAMPTZ '{t1}+00'""")

def rewrite_calls(sql, name, make):
    """Replaces every `name(args)` call, whatever the nesting inside it."""
    out, i = "", 0
    while (j := sql.find(name + "(", i)) >= 0:
        depth, k = 0, j + len(name)
        while True:
            depth += {"(": 1, ")": -1}.get(sql[k], 0)
            if depth == 0:
                break
            k += 1
        out += sql[i:j] + make(sql[j + len(name) + 1:k])
        i = k + 1
    return out + sql[i:]

def json_match(args):
    """Vigil's json_match(doc, regex, key, ...): the text at the path matches.
    (Vigil also looks into arrays on the way; the rules benchmarked here
    name paths without arrays.)"""
    doc, regex, *keys = [a.strip() for a in re.split(r",(?=(?:[^']*'[^']*')*[^']*$)", args)]
    path = ".".join('"%s"' % k.strip("'").replace("''", "'") for k in keys)
    return f"regexp_matches(json_extract_string({doc}, '$.{path}'), {regex})"

def translate(sql):
    def js(m):
        path = ".".join(k for k in m.group(2, 3) if k)
        return f"json_extract_string({m.group(1)}, '$.{path}')"
    prev = None
    while prev != sql:
        prev = sql
        sql = re.sub(r"json_str\(([^(),]+(?:\([^()]*\))?), '([^']+)'(?:, '([^']+)')?\)", js, sql)
    sql = rewrite_calls(sql, "regexp_count", lambda args: f"len(regexp_extract_all({args}))")
    sql = rewrite_calls(sql, "json_match", json_match)
    # `lambda` is a keyword in DuckDB.
    sql = re.sub(r"\bFROM lambda\b", 'FROM "lambda"', sql)
    sql = sql.replace("approx_percentile_cont(", "approx_quantile(")
    sql = sql.replace("first_value(", "first(")
    return sql.replace("regexp_like(", "regexp_matches(").replace("date_bin(", "time_bucket(")

def render(text):
    """A saved hunt's SQL with its parameters at their defaults."""
    sql_lines, params = [], {}
    for line in text.splitlines():
        m = re.match(r"--\s*param:\s*(\w+)\s*=\s*(.*?)\s*:\s", line + " ")
        if m:
            params[m.group(1)] = m.group(2)
        elif not line.startswith("--"):
            sql_lines.append(line)
    sql = "\n".join(sql_lines)
    for k, v in params.items():
        try:
            float(v)
            lit = v
        except ValueError:
            lit = "'" + v.replace("'", "''") + "'"
        sql = sql.replace("${" + k + "}", lit)
    return sql
