#!/usr/bin/env python3
"""Writes a busy two hours of API traffic for the detection benchmark.

Usage: make-detect-data.py OUT_DIR [MILLION_EVENTS] [FAMILY]   (default 5, all families)
       ORDER=delivered make-detect-data.py ...   (events in time order)

With FAMILY (cloudtrail, apigateway or lambda), only that family is written,
with all the events: the hunting benchmark uses 10 million API Gateway rows.

2026-11-24 08:00-10:00 UTC: CloudTrail (40%), API Gateway access logs (50%)
and Lambda logs as CloudWatch Logs subscription messages (10%), as NDJSON,
with a few attacks in the last half hour (a 401 burst, a console password
spray, denied-call recon, a route flood, Lambda timeouts) so that the rules
have something to find. Deterministic (seed 11).

By default the bulk of each family is shuffled over the two hours: every
lake file then spans its whole hour, the worst case for pruning by time.
With ORDER=delivered it comes in time order, as CloudWatch Logs and
CloudTrail deliver it (the attacks are still appended at the end).
"""
import json, os, random, sys, datetime as dt

out = sys.argv[1]
total = int(float(sys.argv[2] if len(sys.argv) > 2 else 5) * 1_000_000)
R = random.Random(11)
DELIVERED = os.environ.get("ORDER", "shuffled") == "delivered"

def bulk_times(count):
    """The bulk's event times: drawn as the shuffled data draws them, or in time order."""
    if not DELIVERED:
        return None
    return sorted(T0 + R.randrange(SPAN) for _ in range(count))
T0 = int(dt.datetime(2026, 11, 24, 8, tzinfo=dt.timezone.utc).timestamp() * 1000)
SPAN = 2 * 3600 * 1000
ACCOUNT = "111122223333"
os.makedirs(out, exist_ok=True)

def iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

USERS = [f"user{i:03d}" for i in range(200)]
OPS = [("ec2", "DescribeInstances"), ("s3", "ListBuckets"), ("sts", "GetCallerIdentity"), ("lambda", "ListFunctions20150331"),
       ("logs", "DescribeLogGroups"), ("iam", "ListRoles"), ("kms", "Decrypt"), ("dynamodb", "DescribeTable"),
       ("s3", "GetBucketLocation"), ("ssm", "GetParameter"), ("sqs", "ReceiveMessage"), ("cloudwatch", "PutMetricData")]

def ct(n, ms, source, name, user, ip, params="{}", error=None, response="null", extra=""):
    err = f',"errorCode":"{error}","errorMessage":"not authorized"' if error else ""
    return ('{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA%s","arn":"arn:aws:iam::%s:user/%s",'
            '"accountId":"%s","accessKeyId":"AKIA%08d","userName":"%s","sessionContext":{"attributes":{"creationDate":"%s","mfaAuthenticated":"true"}}},'
            '"eventTime":"%s","eventSource":"%s.amazonaws.com","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%s",'
            '"userAgent":"aws-sdk-go-v2/1.21 os/linux","requestParameters":%s,"responseElements":%s,"requestID":"req-%d","eventID":"ev-%d",'
            '"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%s","eventCategory":"Management"%s%s}\n'
            % (user.upper(), ACCOUNT, user, ACCOUNT, n % 10**8, user, iso(ms), iso(ms), source, name, ip, params, response, n, n, ACCOUNT, err, extra))

def cloudtrail(count):
    times = bulk_times(count)
    with open(f"{out}/cloudtrail.ndjson", "w") as f:
        for n in range(count):
            ms = times[n] if times else T0 + R.randrange(SPAN)
            src, name = R.choice(OPS)
            user = R.choice(USERS)
            f.write(ct(n, ms, src, name, user, f"10.{R.randrange(256)}.{R.randrange(256)}.{R.randrange(1, 255)}"))
        n = count
        attack = T0 + 95 * 60_000
        for i, u in enumerate(USERS[:30]):  # password spray
            n += 1
            f.write(ct(n, attack + i * 5000, "signin", "ConsoleLogin", u, "203.0.113.66", "null", response='{"ConsoleLogin":"Failure"}',
                       extra=',"additionalEventData":{"MFAUsed":"No"}'))
        for i in range(40):  # recon with stolen keys
            n += 1
            src, name = R.choice(OPS)
            f.write(ct(n, attack + 300_000 + i * 3000, src, name, "user007", "203.0.113.66", error="AccessDenied"))
        n += 1
        f.write(ct(n, attack + 400_000, "cloudtrail", "StopLogging", "user007", "203.0.113.66", '{"name":"main"}'))

def apigw(count):
    routes = [("GET", "/orders"), ("GET", "/orders/{id}"), ("POST", "/orders"), ("GET", "/search"), ("POST", "/login"), ("GET", "/health")]
    clients = [f"198.51.{R.randrange(256)}.{R.randrange(1, 255)}" for _ in range(5000)]
    def line(n, ms, method, route, status, ip):
        return ('{"requestId":"r-%d","ip":"%s","caller":"-","user":"-","requestTimeEpoch":%d,"httpMethod":"%s","resourcePath":"%s",'
                '"path":"/prod%s","status":"%d","protocol":"HTTP/1.1","responseLength":"%d","responseLatency":"%d","integrationLatency":"%d",'
                '"userAgent":"okhttp/4.12.0","apiId":"a1b2c3d4e5","stage":"prod","domainName":"api.acme.example","errorMessage":"-"}\n'
                % (n, ip, ms, method, route, route, status, R.randrange(80, 4000), R.randrange(20, 200), R.randrange(10, 150)))
    times = bulk_times(count)
    with open(f"{out}/apigateway.ndjson", "w") as f:
        for n in range(count):
            method, route = R.choice(routes)
            status = R.choices([200, 201, 404, 401, 500], [85, 5, 5, 3, 2])[0]
            ms = times[n] if times else T0 + R.randrange(SPAN)
            f.write(line(n, ms, method, route, status, R.choice(clients)))
        n = count
        attack = T0 + 100 * 60_000
        for i in range(300):  # 401 burst from one address
            n += 1
            f.write(line(n, attack + i * 500, "POST", "/login", 401, "203.0.113.66"))
        for i in range(20000):  # flood of one route
            n += 1
            f.write(line(n, attack + 5 * 60_000 + i * 15, "GET", "/search", 504 if i % 3 == 0 else 200, R.choice(clients)))

def lam(count):
    # One message per 25 invocations (100 lines).
    times = bulk_times((count + 99) // 100)
    with open(f"{out}/lambda.ndjson", "w") as f:
        n = 0
        while n < count:
            start = times[n // 100] if times else T0 + R.randrange(SPAN)
            fn = R.choice(["orders-search", "orders-api", "payments"])
            events = []
            for j in range(25):  # 25 invocations x 4 lines per message
                rid = f"{R.getrandbits(64):016x}-{n:08d}"
                t = start + j * 20
                timeout = fn == "orders-search" and start > T0 + 100 * 60_000 and R.random() < 0.3
                d = 3000.0 if timeout else R.uniform(20, 90)
                events.append({"id": f"{n}", "timestamp": t, "message": f"START RequestId: {rid} Version: $LATEST\n"})
                events.append({"id": f"{n+1}", "timestamp": t + 2, "message": f"[INFO]\t{iso(t)}\t{rid}\tserved\n"})
                if timeout:
                    events.append({"id": f"{n+2}", "timestamp": t + 3000, "message": f"{iso(t)} {rid} Task timed out after 3.00 seconds\n"})
                else:
                    events.append({"id": f"{n+2}", "timestamp": t + int(d), "message": f"END RequestId: {rid}\n"})
                status = "\tStatus: timeout" if timeout else ""
                events.append({"id": f"{n+3}", "timestamp": t + int(d), "message": f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d)+1} ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB{status}\n"})
                n += 4
            f.write(json.dumps({"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": f"/aws/lambda/{fn}",
                                "logStream": "2026/11/24/[$LATEST]abc", "subscriptionFilters": ["vigil"], "logEvents": events}) + "\n")

only = sys.argv[3] if len(sys.argv) > 3 else None
if only is None or only == "cloudtrail":
    cloudtrail(total if only else int(total * 0.4))
if only is None or only == "apigateway":
    apigw(total if only else int(total * 0.5))
if only is None or only == "lambda":
    lam(total if only else int(total * 0.1))
# Written last: a run that was cut short leaves no marker, and the bench scripts make the data again.
open(f"{out}/.complete-{only or 'all'}", "w").close()
