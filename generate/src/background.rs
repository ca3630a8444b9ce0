//! Everyday traffic: the CloudTrail calls, API requests and Lambda
//! invocations of a quiet, healthy account (no rule should fire on it).

use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Value};

use crate::identity::*;

/// A CloudTrail call the background makes: who may make it and how often.
struct Call {
    source: &'static str,
    name: &'static str,
    weight: u32,
    read_only: bool,
    /// Only people (console, CLI) make it.
    users_only: bool,
}

const CALLS: [Call; 22] = [
    Call {
        source: "sts.amazonaws.com",
        name: "AssumeRole",
        weight: 150,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "kms.amazonaws.com",
        name: "Decrypt",
        weight: 150,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "kms.amazonaws.com",
        name: "GenerateDataKey",
        weight: 80,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "dynamodb.amazonaws.com",
        name: "DescribeTable",
        weight: 50,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "s3.amazonaws.com",
        name: "GetBucketLocation",
        weight: 40,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "s3.amazonaws.com",
        name: "ListBuckets",
        weight: 30,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "s3.amazonaws.com",
        name: "GetBucketAcl",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "ec2.amazonaws.com",
        name: "DescribeInstances",
        weight: 50,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "ec2.amazonaws.com",
        name: "DescribeSecurityGroups",
        weight: 30,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "ec2.amazonaws.com",
        name: "DescribeNetworkInterfaces",
        weight: 40,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "ec2.amazonaws.com",
        name: "CreateNetworkInterface",
        weight: 10,
        read_only: false,
        users_only: false,
    },
    Call {
        source: "lambda.amazonaws.com",
        name: "ListFunctions20150331",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "lambda.amazonaws.com",
        name: "GetFunction20150331v2",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "logs.amazonaws.com",
        name: "CreateLogStream",
        weight: 50,
        read_only: false,
        users_only: false,
    },
    Call {
        source: "logs.amazonaws.com",
        name: "DescribeLogGroups",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "sts.amazonaws.com",
        name: "GetCallerIdentity",
        weight: 40,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "secretsmanager.amazonaws.com",
        name: "GetSecretValue",
        weight: 30,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "ssm.amazonaws.com",
        name: "GetParameter",
        weight: 30,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "iam.amazonaws.com",
        name: "GetRole",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "iam.amazonaws.com",
        name: "ListRoles",
        weight: 10,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "cloudformation.amazonaws.com",
        name: "DescribeStacks",
        weight: 20,
        read_only: true,
        users_only: false,
    },
    Call {
        source: "signin.amazonaws.com",
        name: "ConsoleLogin",
        weight: 2,
        read_only: false,
        users_only: true,
    },
];

pub fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn iso_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// `userIdentity` of a principal.
pub fn user_identity(rng: &mut fastrand::Rng, p: &Principal) -> Value {
    match p.kind {
        PrincipalKind::Role => json!({
            "type": "AssumedRole",
            "principalId": format!("AROAYFAKE{}:{}-session", p.name.len(), p.name),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{}/{}-session", p.name, p.name),
            "accountId": ACCOUNT,
            "accessKeyId": format!("ASIAYFAKE{:011}", rng.u64(..100_000_000_000)),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": format!("AROAYFAKE{}", p.name.len()),
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/{}", p.name),
                    "accountId": ACCOUNT,
                    "userName": p.name
                },
                "attributes": {"creationDate": "2026-11-01T00:00:00Z", "mfaAuthenticated": "false"}
            }
        }),
        PrincipalKind::User => user_identity_of(p.name),
    }
}

/// `userIdentity` of an IAM user.
pub fn user_identity_of(user: &str) -> Value {
    json!({
        "type": "IAMUser",
        "principalId": format!("AIDAYFAKE{}", user.to_uppercase()),
        "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
        "accountId": ACCOUNT,
        "userName": user
    })
}

fn request_parameters(rng: &mut fastrand::Rng, call: &Call, p: &Principal) -> Value {
    match call.name {
        "AssumeRole" => json!({
            "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{}", p.name),
            "roleSessionName": format!("{}-{}", p.name, rng.u32(1000..9999)),
            "durationSeconds": 3600
        }),
        "Decrypt" | "GenerateDataKey" => json!({
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "keyId": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
            "encryptionContext": {"aws:lambda:FunctionArn": format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:{}", p.name)}
        }),
        "DescribeTable" => json!({"tableName": pick(rng, &["orders", "payments", "sessions"])}),
        "GetBucketLocation" | "GetBucketAcl" => {
            json!({"bucketName": pick(rng, &["acme-orders-exports", "acme-static-site", "acme-invoices"]), "Host": "s3.amazonaws.com"})
        }
        "DescribeInstances" => {
            json!({"instancesSet": {}, "filterSet": {"items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}})
        }
        "DescribeSecurityGroups" => {
            json!({"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}})
        }
        "DescribeNetworkInterfaces" | "CreateNetworkInterface" => {
            json!({"subnetId": format!("subnet-0{:016x}", rng.u64(..) >> 4), "groupSet": {"items": [{"groupId": "sg-0a1b2c3d4e5f60718"}]}})
        }
        "GetFunction20150331v2" => {
            json!({"functionName": pick(rng, &["orders-api", "payments-api", "search-indexer"])})
        }
        "CreateLogStream" => json!({
            "logGroupName": format!("/aws/lambda/{}", pick(rng, &["orders-api", "payments-api", "search-indexer", "thumbnailer"])),
            "logStreamName": format!("2026/11/01/[$LATEST]{:032x}", rng.u128(..))
        }),
        "DescribeLogGroups" => json!({"logGroupNamePrefix": "/aws/lambda/"}),
        // One secret and one parameter per principal: nothing like a sweep.
        "GetSecretValue" => json!({"secretId": format!("prod/{}/db", p.name)}),
        "GetParameter" => {
            json!({"name": format!("/prod/{}/config", p.name), "withDecryption": true})
        }
        "GetRole" => json!({"roleName": p.name}),
        "DescribeStacks" => json!({"stackName": "acme-prod"}),
        _ => Value::Null,
    }
}

/// One everyday CloudTrail record at `ms`.
pub fn cloudtrail_record(rng: &mut fastrand::Rng, ms: i64) -> String {
    let call = &CALLS[weighted(rng, &CALLS, |c| c.weight)];
    let candidates: Vec<&Principal> = PRINCIPALS
        .iter()
        .filter(|p| !call.users_only || p.kind == PrincipalKind::User)
        .collect();
    let p = candidates[weighted(rng, &candidates, |p| p.weight)];
    let region = REGIONS[weighted(rng, &REGIONS, |r| r.1)].0;
    let region = if call.source == "signin.amazonaws.com" || call.source == "iam.amazonaws.com" {
        "us-east-1"
    } else {
        region
    };
    let (ip, agent) = match p.kind {
        PrincipalKind::Role => ("AWS Internal".to_string(), pick(rng, &ROLE_AGENTS)),
        PrincipalKind::User => (
            office_ip(p.name.len() + rng.usize(..3)),
            pick(rng, &USER_AGENTS),
        ),
    };
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": user_identity(rng, p),
        "eventTime": iso(ms),
        "eventSource": call.source,
        "eventName": call.name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request_parameters(rng, call, p),
        "responseElements": null,
        "requestID": uuid(rng),
        "eventID": uuid(rng),
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", call.source.trim_end_matches(".amazonaws.com"))
        }
    });
    if call.name == "ConsoleLogin" {
        record["eventType"] = json!("AwsConsoleSignIn");
        record["userAgent"] = json!(USER_AGENTS[2]);
        record["requestParameters"] = Value::Null;
        record["responseElements"] = json!({"ConsoleLogin": "Success"});
        record["additionalEventData"] = json!({
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No", "MFAUsed": "Yes", "MFAIdentifier": format!("arn:aws:iam::{ACCOUNT}:mfa/{}", p.name)
        });
    } else if call.name == "AssumeRole" {
        record["responseElements"] = json!({
            "credentials": {"accessKeyId": format!("ASIAYFAKE{:011}", rng.u64(..100_000_000_000)), "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE", "expiration": iso(ms + 3_600_000)},
            "assumedRoleUser": {"assumedRoleId": format!("AROAYFAKE:{}", p.name), "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{}/session", p.name)}
        });
    }
    // Rare, spread-out errors: a throttled call, now and then a denied one.
    let roll = rng.f64();
    if roll < 0.003 && call.read_only {
        record["errorCode"] = json!("AccessDenied");
        record["errorMessage"] = json!(format!(
            "User: {} is not authorized to perform: {}",
            record["userIdentity"]["arn"].as_str().unwrap_or(""),
            call.name
        ));
    } else if roll < 0.008 && call.read_only {
        record["errorCode"] = json!("ThrottlingException");
        record["errorMessage"] = json!("Rate exceeded");
    }
    record.to_string()
}

/// One API request at `ms` (REST API access log, the `$context` JSON format).
pub struct Request<'a> {
    pub route: &'a Route,
    pub ip: String,
    pub status: u16,
    pub path: String,
    pub agent: &'a str,
    pub latency_ms: u32,
}

/// An everyday request: a weighted route, a long-tail client, rare errors.
pub fn request(rng: &mut fastrand::Rng) -> Request<'static> {
    let route = &ROUTES[weighted(rng, &ROUTES, |r| r.weight)];
    // Squaring a uniform number skews toward the first clients: a few heavy, a long tail.
    let u = rng.f64();
    let client = (u * u * 900.0) as u32;
    let roll = rng.f64();
    let status = if roll < route.server_error {
        502
    } else if roll < route.server_error + route.client_error {
        if route.resource == "/login" {
            401
        } else {
            404
        }
    } else if route.method == "POST" {
        201
    } else {
        200
    };
    let path = route
        .resource
        .replace("{id}", &format!("{}", rng.u32(10_000..99_999)));
    Request {
        route,
        ip: client_ip(client),
        status,
        path,
        agent: CLIENT_AGENTS[(client as usize) % CLIENT_AGENTS.len()],
        latency_ms: rng.u32(12..180),
    }
}

/// A request as an access-log line.
pub fn access_log(rng: &mut fastrand::Rng, ms: i64, r: &Request<'_>) -> String {
    let stage = if r.route.api == "a1b2c3d4e5" {
        "prod"
    } else {
        "v1"
    };
    let time = DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%d/%b/%Y:%H:%M:%S +0000");
    json!({
        "requestId": uuid(rng),
        "extendedRequestId": format!("{:016X}", rng.u64(..)),
        "ip": r.ip,
        "caller": "-",
        "user": "-",
        "requestTime": time.to_string(),
        "requestTimeEpoch": ms,
        "httpMethod": r.route.method,
        "resourcePath": r.route.resource,
        "path": format!("/{stage}{}", r.path),
        "status": r.status.to_string(),
        "protocol": "HTTP/1.1",
        "responseLength": rng.u32(80..6000).to_string(),
        "responseLatency": r.latency_ms.to_string(),
        "integrationLatency": r.latency_ms.saturating_sub(5).to_string(),
        "userAgent": r.agent,
        "apiId": r.route.api,
        "stage": stage,
        "domainName": if r.route.api == "a1b2c3d4e5" { "api.acme.example" } else { "pay.acme.example" },
        "authorizerError": "-",
        "errorMessage": if r.status >= 500 { "Internal server error" } else { "-" },
        "errorResponseType": if r.status >= 500 { "INTEGRATION_FAILURE" } else { "-" }
    })
    .to_string()
}

/// How one invocation ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ending {
    Ok { duration_ms: f64 },
    TimedOut { after_s: f64 },
}

/// The log lines of one invocation of `f` starting at `ms`: (time, line).
pub fn invocation(
    rng: &mut fastrand::Rng,
    f: &Function,
    ms: i64,
    ending: Ending,
    cold: bool,
) -> Vec<(i64, String)> {
    let id = uuid(rng);
    let duration = match ending {
        Ending::Ok { duration_ms } => duration_ms,
        Ending::TimedOut { after_s } => after_s * 1000.0,
    };
    let end = ms + duration.ceil() as i64;
    let billed = duration.ceil() as u64;
    let used = f.memory_mb / 6 + rng.u32(0..f.memory_mb / 10 + 1);
    let init = cold.then(|| 180.0 + rng.f64() * 220.0);
    let mut lines = Vec::with_capacity(5);
    if f.json_logs {
        lines.push((ms, json!({"time": iso_ms(ms), "type": "platform.start", "record": {"requestId": id, "version": "$LATEST"}}).to_string()));
        lines.push((ms + 1, json!({"timestamp": iso_ms(ms + 1), "level": "INFO", "requestId": id, "message": format!("handled {} in {:.0} ms", f.name, duration)}).to_string()));
        let status = match ending {
            Ending::Ok { .. } => "success",
            Ending::TimedOut { .. } => "timeout",
        };
        lines.push((end, json!({"time": iso_ms(end), "type": "platform.runtimeDone", "record": {"requestId": id, "status": status, "metrics": {"durationMs": duration, "producedBytes": 512}}}).to_string()));
        let mut metrics = json!({"durationMs": duration, "billedDurationMs": billed, "memorySizeMB": f.memory_mb, "maxMemoryUsedMB": used});
        if let Some(init) = init {
            metrics["initDurationMs"] = json!(init);
        }
        lines.push((end, json!({"time": iso_ms(end), "type": "platform.report", "record": {"requestId": id, "metrics": metrics, "status": status}}).to_string()));
    } else {
        lines.push((ms, format!("START RequestId: {id} Version: $LATEST")));
        lines.push((
            ms + 1,
            format!(
                "{}\t{id}\tINFO\thandled request in {:.0} ms",
                iso_ms(ms + 1),
                duration
            ),
        ));
        if let Ending::TimedOut { after_s } = ending {
            lines.push((
                end,
                format!(
                    "{} {id} Task timed out after {after_s:.2} seconds",
                    iso_ms(end)
                ),
            ));
        }
        lines.push((end, format!("END RequestId: {id}")));
        let init = init
            .map(|i| format!("\tInit Duration: {i:.2} ms"))
            .unwrap_or_default();
        lines.push((end, format!(
            "REPORT RequestId: {id}\tDuration: {duration:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {used} MB{init}\t",
            f.memory_mb
        )));
    }
    lines
}

/// An everyday invocation's ending: within the function's usual duration.
pub fn usual(rng: &mut fastrand::Rng, f: &Function) -> Ending {
    let (lo, hi) = f.duration_ms;
    Ending::Ok {
        duration_ms: ((lo + rng.f64() * (hi - lo)) * 100.0).round() / 100.0,
    }
}
