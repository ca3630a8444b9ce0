#!/usr/bin/env python3
"""Writes the sample logs in sample-logs/ (deterministic: seed 7).

A quiet morning (2026-11-24, 08:00-10:00 UTC) on an API behind API Gateway and
Lambda, in account 111122223333, with one attack story in it:

  09:10-09:14  203.0.113.66 hammers POST /login: 40 responses 401 (API Gateway)
  09:15-09:17  the same IP fails console sign-in for 8 users, and for root (password spray)
  09:18        it signs in as bob, without MFA
  09:20        bob creates an access key for alice and attaches AdministratorAccess to himself
  09:25        bob makes the bucket acme-invoices public (PutBucketPolicy)
  09:30        bob stops CloudTrail logging (StopLogging)
  09:35-09:40  GET /search spikes to ~600 requests (baseline ~10 per 5 minutes), Lambda times out

Formats: CloudTrail S3 objects (plain and gzip) and a digest file; API Gateway
REST JSON access logs (NDJSON) and HTTP API CLF logs; Lambda logs as a
CloudWatch Logs subscription event (base64 gzip), as Firehose output
(concatenated gzip members), and in the JSON log format.
"""
import base64, datetime as dt, gzip, json, os, random, uuid

R = random.Random(7)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-logs")
ACCOUNT = "111122223333"
REGION = "us-east-1"
ATTACKER = "203.0.113.66"
BASE = dt.datetime(2026, 11, 24, 8, 0, 0, tzinfo=dt.timezone.utc)
CLIENTS = [f"198.51.100.{i}" for i in range(10, 40)]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


def uid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def at(minutes, seconds=0.0):
    return BASE + dt.timedelta(minutes=minutes, seconds=seconds)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def clf_time(t):
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000")


def write(path, data, mode="w"):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, mode) as f:
        f.write(data)


# ---------------------------------------------------------------- CloudTrail
def identity(user, mfa=False, key="ASIAEXAMPLE" ):
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{user.upper()}EXAMPLE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "userName": user,
        "sessionContext": {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": iso(at(78)), "mfaAuthenticated": "true" if mfa else "false"},
        },
    }


def ct(t, source, name, ident, ip, ua="aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64", params=None,
       response=None, error=None, read_only=False, event_type="AwsApiCall", extra=None):
    rec = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": ip,
        "userAgent": ua,
        "requestParameters": params,
        "responseElements": response,
        "requestID": uid(),
        "eventID": uid(),
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": source.replace("amazonaws.com", f"{REGION}.amazonaws.com")},
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    if extra:
        rec.update(extra)
    return rec


def console_login(t, user, ok, mfa=False, root=False):
    ident = ({"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
             if root else
             {"type": "IAMUser", "principalId": f"AIDA{user.upper()}EXAMPLE", "accountId": ACCOUNT,
              "accessKeyId": "", "userName": user, "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}"})
    if not ok and not root:
        # Failed sign-ins of unknown or mistyped users carry no ARN.
        ident = {"type": "IAMUser", "principalId": "", "accountId": ACCOUNT, "accessKeyId": "", "userName": user}
    rec = ct(t, "signin.amazonaws.com", "ConsoleLogin", ident, ATTACKER,
             ua="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
             response={"ConsoleLogin": "Success" if ok else "Failure"}, event_type="AwsConsoleSignIn",
             extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                            "MobileVersion": "No", "MFAUsed": "Yes" if mfa else "No"}})
    rec.pop("tlsDetails")
    if not ok:
        rec["errorMessage"] = "Failed authentication"
    return rec


def cloudtrail():
    records = []
    ops = [("ec2.amazonaws.com", "DescribeInstances", True), ("s3.amazonaws.com", "ListBuckets", True),
           ("sts.amazonaws.com", "GetCallerIdentity", True), ("lambda.amazonaws.com", "ListFunctions20150331", True),
           ("logs.amazonaws.com", "DescribeLogGroups", True), ("iam.amazonaws.com", "ListRoles", True),
           ("kms.amazonaws.com", "Decrypt", True), ("dynamodb.amazonaws.com", "DescribeTable", True)]
    for i in range(160):
        t = at(R.uniform(0, 119))
        src, name, ro = R.choice(ops)
        user = R.choice(["carol", "dave", "ci-deployer"])
        ip = R.choice(["10.0.4.12", "10.0.7.31", "AWS Internal"]) if user != "carol" else "192.0.2.10"
        records.append(ct(t, src, name, identity(user, mfa=True), ip, read_only=ro, params={}))
    # A few denied calls from a CI role, ordinary noise.
    for i in range(3):
        records.append(ct(at(R.uniform(0, 60)), "ec2.amazonaws.com", "DescribeVolumes", identity("ci-deployer"),
                          "10.0.4.12", error=("Client.UnauthorizedOperation", "You are not authorized"), read_only=True))
    # The story.
    for i, user in enumerate(USERS):
        records.append(console_login(at(75, i * 12), user, ok=False))
    records.append(console_login(at(76, 50), "root", ok=False, root=True))
    records.append(console_login(at(77, 30), "alice", ok=False))
    records.append(console_login(at(78), "bob", ok=True, mfa=False))
    bob = identity("bob", mfa=False, key="ASIABOBCONSOLE")
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    records.append(ct(at(80), "iam.amazonaws.com", "CreateAccessKey", bob, ATTACKER, ua=ua,
                      params={"userName": "alice"},
                      response={"accessKey": {"accessKeyId": "AKIAALICENEWKEY", "status": "Active", "userName": "alice",
                                              "createDate": "Nov 24, 2026 9:20:00 AM"}}))
    records.append(ct(at(80, 20), "iam.amazonaws.com", "AttachUserPolicy", bob, ATTACKER, ua=ua,
                      params={"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*",
                                                      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-invoices/*"}]}
    records.append(ct(at(85), "s3.amazonaws.com", "PutBucketPolicy", bob, ATTACKER, ua=ua,
                      params={"bucketName": "acme-invoices", "bucketPolicy": policy, "Host": "acme-invoices.s3.amazonaws.com",
                              "policy": ""}))
    records.append(ct(at(90), "cloudtrail.amazonaws.com", "StopLogging", bob, ATTACKER, ua=ua,
                      params={"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/management-events"}))
    records.sort(key=lambda r: r["eventTime"])
    first, second = records[: len(records) // 2], records[len(records) // 2:]
    write(f"cloudtrail/{ACCOUNT}_CloudTrail_{REGION}_20261124T0800Z_a1b2c3d4.json",
          json.dumps({"Records": first}, separators=(",", ":")))
    write(f"cloudtrail/{ACCOUNT}_CloudTrail_{REGION}_20261124T0900Z_e5f6a7b8.json.gz",
          gzip.compress(json.dumps({"Records": second}, separators=(",", ":")).encode(), mtime=0), "wb")
    digest = {"awsAccountId": ACCOUNT, "digestStartTime": iso(at(0)), "digestEndTime": iso(at(60)),
              "digestS3Bucket": "acme-trail", "digestS3Object": "AWSLogs/.../digest.json.gz",
              "digestPublicKeyFingerprint": "a1b2", "digestSignatureAlgorithm": "SHA256withRSA",
              "newestEventTime": iso(at(59)), "oldestEventTime": iso(at(0)),
              "previousDigestS3Bucket": "acme-trail", "previousDigestHashValue": "00",
              "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": "00", "logFiles": []}
    write(f"cloudtrail/{ACCOUNT}_CloudTrail-Digest_{REGION}_management-events_{REGION}_20261124T090000Z.json",
          json.dumps(digest))


# ---------------------------------------------------------------- API Gateway
ROUTES = [("GET", "/orders"), ("GET", "/orders/{id}"), ("POST", "/orders"), ("GET", "/search"), ("POST", "/login")]


def rest_log(t, method, resource, status, ip, latency):
    path = resource.replace("{id}", str(R.randint(1000, 9999)))
    return {
        "requestId": uid(), "extendedRequestId": "".join(R.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16)),
        "ip": ip, "caller": "-", "user": "-", "requestTime": clf_time(t), "requestTimeEpoch": int(t.timestamp() * 1000),
        "httpMethod": method, "resourcePath": resource, "path": f"/prod{path}", "status": str(status), "protocol": "HTTP/1.1",
        "responseLength": str(R.randint(80, 4000)), "responseLatency": str(latency),
        "integrationLatency": str(max(1, latency - R.randint(1, 5))), "userAgent": R.choice(
            ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15", "okhttp/4.12.0", "python-requests/2.31.0"]),
        "apiId": "a1b2c3d4e5", "stage": "prod", "domainName": "api.acme.example",
        "authorizerError": "-", "errorMessage": "-" if status < 400 else ("Unauthorized" if status == 401 else "Internal server error"),
        "errorResponseType": "-" if status < 400 else ("UNAUTHORIZED" if status == 401 else "DEFAULT_5XX"),
    }


def apigateway():
    lines = []
    for minute in range(120):
        for _ in range(R.randint(2, 4)):
            method, route = R.choice(ROUTES)
            status = R.choices([200, 201, 404, 401, 500], [85, 5, 5, 3, 2])[0]
            lines.append(rest_log(at(minute, R.uniform(0, 59)), method, route, status, R.choice(CLIENTS), R.randint(20, 180)))
    for i in range(40):
        lines.append(rest_log(at(70, i * 7.3), "POST", "/login", 401, ATTACKER, R.randint(5, 30)))
    for i in range(600):
        t = at(95, i * 0.5)
        status = 504 if i % 40 == 0 else 200
        lines.append(rest_log(t, "GET", "/search", status, R.choice(CLIENTS + [ATTACKER] * 5), R.randint(200, 2900)))
    lines.sort(key=lambda r: r["requestTimeEpoch"])
    write("apigateway/rest-api-access-prod.ndjson", "".join(json.dumps(l) + "\n" for l in lines))
    # An HTTP API with the console's CLF default, route keys and all.
    clf = []
    for minute in range(0, 120, 2):
        t = at(minute, R.uniform(0, 59))
        method, route = R.choice([("GET", "/health"), ("GET", "/v2/items"), ("PUT", "/v2/items/{id}")])
        status = R.choice([200, 200, 200, 204, 403])
        clf.append(f'{R.choice(CLIENTS)} - - [{clf_time(t)}] "{method} {method} {route} HTTP/1.1" {status} {R.randint(2, 900)} {uid()}')
    write("apigateway/http-api-access-clf.log", "\n".join(clf) + "\n")


# ---------------------------------------------------------------- Lambda
def lambda_events():
    events = []
    def ev(t, msg):
        events.append({"id": str(R.getrandbits(120)), "timestamp": int(t.timestamp() * 1000), "message": msg})
    for minute in list(range(0, 120, 6)) + [95, 96, 97, 98]:
        t = at(minute, R.uniform(0, 50))
        rid = uid()
        cold = minute == 0
        ev(t, f"INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: arn:aws:lambda:{REGION}::runtime:abc\n") if cold else None
        ev(t, f"START RequestId: {rid} Version: $LATEST\n")
        ev(t + dt.timedelta(milliseconds=3), f"[INFO]\t{iso_ms(t)}\t{rid}\tsearching orders for query=shoes\n")
        if minute in (96, 97):
            ev(t + dt.timedelta(seconds=3), f"{iso_ms(t + dt.timedelta(seconds=3))} {rid} Task timed out after 3.00 seconds\n\n")
            ev(t + dt.timedelta(seconds=3), f"END RequestId: {rid}\n")
            ev(t + dt.timedelta(seconds=3), f"REPORT RequestId: {rid}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 256 MB\tMax Memory Used: 251 MB\tStatus: timeout\n")
            continue
        if minute == 98:
            ev(t + dt.timedelta(milliseconds=8), f"[ERROR] ConnectionError: database pool exhausted\nTraceback (most recent call last):\n  File \"/var/task/app.py\", line 41, in handler\n    rows = db.query(q)\nConnectionError: database pool exhausted\n")
        d = R.uniform(20, 90)
        init = f"Init Duration: {R.uniform(300, 500):.2f} ms\t" if cold else ""
        ev(t + dt.timedelta(milliseconds=d), f"END RequestId: {rid}\n")
        ev(t + dt.timedelta(milliseconds=d), f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\tMemory Size: 256 MB\tMax Memory Used: {R.randint(70, 90)} MB\t{init}\n")
    return events


def cwl_payload(events, group, stream):
    return {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["vigil"], "logEvents": events}


def lambda_logs():
    events = lambda_events()
    stream = "2026/11/24/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    half = len(events) // 2
    payload = cwl_payload(events[:half], "/aws/lambda/orders-search", stream)
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode(), mtime=0)).decode()
    write("lambda/cloudwatch-subscription-orders-search.json", json.dumps({"awslogs": {"data": data}}, indent=2) + "\n")
    # Firehose writes each payload as its own gzip member, back to back, with a control message first.
    control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": int(at(0).timestamp() * 1000),
                                                         "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
    rest = cwl_payload(events[half:], "/aws/lambda/orders-search", stream)
    blob = gzip.compress(json.dumps(control).encode(), mtime=0) + gzip.compress(json.dumps(rest).encode(), mtime=0)
    write("lambda/firehose-orders-search-2026-11-24-09.gz", blob, "wb")
    # A function using Lambda's JSON log format, read from a CloudWatch Logs export.
    lines = []
    for minute in range(5, 120, 10):
        t = at(minute)
        rid = uid()
        lines.append({"time": iso_ms(t), "type": "platform.start", "record": {"requestId": rid, "version": "$LATEST"}})
        lines.append({"timestamp": iso_ms(t + dt.timedelta(milliseconds=2)), "level": "INFO", "requestId": rid,
                      "message": "charge accepted", "function_name": "payments-charge"})
        lines.append({"time": iso_ms(t + dt.timedelta(milliseconds=40)), "type": "platform.runtimeDone",
                      "record": {"requestId": rid, "status": "success", "metrics": {"durationMs": 38.2, "producedBytes": 52}}})
        lines.append({"time": iso_ms(t + dt.timedelta(milliseconds=41)), "type": "platform.report",
                      "record": {"requestId": rid, "status": "success",
                                 "metrics": {"durationMs": 38.9, "billedDurationMs": 39, "memorySizeMB": 128, "maxMemoryUsedMB": 61}}})
    write("lambda/payments-charge-json-format.ndjson", "".join(json.dumps(l) + "\n" for l in lines))


if __name__ == "__main__":
    cloudtrail()
    apigateway()
    lambda_logs()
