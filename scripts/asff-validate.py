#!/usr/bin/env python3
"""Checks the findings a Security Hub holds against the ASFF.

Reads every finding of a Security Hub endpoint (moto's, in the tests) whose
Id starts with a prefix, and validates them as the input of
`BatchImportFindings` with botocore's own parameter validator and the
service model AWS publishes (required members, types, lengths), plus the
ASFF rules the model does not state: `Types` as namespace/category/classifier
with a known namespace, `Title` up to 256 characters, `Description` up to
1024, 1 to 32 `Resources`, at most 50 `ProductFields`.

Usage: asff-validate.py ENDPOINT ID_PREFIX. Prints a JSON summary (findings,
invalid, the first errors, and each finding's Id with its
vigil/event_count field) and exits 1 when any finding is invalid or none
was found.
"""

import json
import sys

import boto3
from botocore.validate import ParamValidator

NAMESPACES = {
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
}


def asff_errors(finding):
    errors = []
    for t in finding.get("Types", []):
        parts = t.split("/")
        if parts[0] not in NAMESPACES or len(parts) > 3:
            errors.append(f"Types: {t!r} is not namespace/category/classifier")
    if len(finding.get("Title", "")) > 256:
        errors.append("Title: longer than 256 characters")
    if len(finding.get("Description", "")) > 1024:
        errors.append("Description: longer than 1024 characters")
    if not 1 <= len(finding.get("Resources", [])) <= 32:
        errors.append("Resources: not 1 to 32")
    if len(finding.get("ProductFields", {})) > 50:
        errors.append("ProductFields: more than 50")
    return errors


def main(endpoint, prefix):
    client = boto3.client(
        "securityhub",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    findings = []
    for page in client.get_paginator("get_findings").paginate():
        findings.extend(f for f in page["Findings"] if f["Id"].startswith(prefix))
    shape = client.meta.service_model.operation_model("BatchImportFindings").input_shape
    errors = []
    invalid = 0
    for f in findings:
        found = []
        report = ParamValidator().validate({"Findings": [f]}, shape)
        if report.has_errors():
            found.append(report.generate_report())
        found.extend(asff_errors(f))
        if found:
            invalid += 1
            errors.extend(f"{f['Id']}: {e}"[:600] for e in found[: 20 - len(errors)])
    summary = {
        "findings": len(findings),
        "invalid": invalid,
        "errors": errors,
        "event_counts": {
            f["Id"]: f.get("ProductFields", {}).get("vigil/event_count") for f in findings
        },
    }
    print(json.dumps(summary, indent=1))
    return 0 if findings and invalid == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
