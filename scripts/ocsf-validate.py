#!/usr/bin/env python3
"""Validates OCSF events (NDJSON, one event a line) against the OCSF schema.

The reference is the schema.ocsf.io export of each OCSF version as the
`ocsf-json-schema` package ships it (offline), turned by that package into a
JSON Schema (draft 2020-12) per class and set of profiles: required
attributes, types, enums, patterns, `at_least_one`/`just_one` constraints and
no attribute the class does not define. Each event is checked against its
own class (`class_uid`) with the profiles it declares (`metadata.profiles`),
at the version it declares (`metadata.version`).

Usage: ocsf-validate.py FILE... (`-` for stdin). Prints a JSON summary
(events, valid, invalid, per class counts, the first errors) on stdout and
exits 1 when any event is invalid or no event was read.
"""

import json
import sys
from collections import Counter

import jsonschema
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

MAX_ERRORS = 20

_schemas = {}
_validators = {}


def validator(version, class_uid, profiles):
    key = (version, class_uid, tuple(sorted(profiles)))
    if key not in _validators:
        if version not in _schemas:
            _schemas[version] = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
        schema = _schemas[version]
        name = schema.lookup_class_name_from_uid(class_uid=class_uid)
        js = schema.get_class_schema(class_name=name, profiles=list(profiles))
        _validators[key] = jsonschema.Draft202012Validator(js)
    return _validators[key]


def lines(paths):
    for path in paths:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with stream:
            for number, line in enumerate(stream, 1):
                if line.strip():
                    yield f"{path}:{number}", line


def main(paths):
    events = valid = 0
    per_class = Counter()
    invalid_per_class = Counter()
    errors = []
    for where, line in lines(paths):
        events += 1
        try:
            event = json.loads(line)
            version = event["metadata"]["version"]
            class_uid = event["class_uid"]
            profiles = event["metadata"].get("profiles", [])
            found = sorted(
                validator(version, class_uid, profiles).iter_errors(event),
                key=lambda e: list(e.absolute_path),
            )
        except Exception as e:  # noqa: BLE001 - an unreadable event is invalid
            found = [e]
            class_uid = "?"
        per_class[class_uid] += 1
        if found:
            invalid_per_class[class_uid] += 1
            for e in found[: MAX_ERRORS - len(errors)]:
                path = "/".join(str(p) for p in getattr(e, "absolute_path", []))
                errors.append(f"{where}: class {class_uid}: {path}: {getattr(e, 'message', e)}"[:600])
        else:
            valid += 1
    summary = {
        "events": events,
        "valid": valid,
        "invalid": events - valid,
        "per_class": {str(k): v for k, v in sorted(per_class.items(), key=str)},
        "invalid_per_class": {str(k): v for k, v in sorted(invalid_per_class.items(), key=str)},
        "errors": errors,
    }
    print(json.dumps(summary, indent=1))
    return 0 if events and valid == events else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["-"]))
