//! A finding as an OCSF 1.1.0 Detection Finding (class 2004): the body of
//! destinations set to `format = "ocsf"`, valid against the OCSF schema
//! (checked by `scripts/ocsf-validate.py` in the tests).

use serde_json::{json, Map, Value};
use vigil_detect::attack::{AttackTags, Technique};
use vigil_detect::{Finding, FindingStatus, Severity};

use crate::payload::hunt_hint;

/// The OCSF version of the findings (the one of the lake's event mappings).
pub const OCSF_VERSION: &str = vigil_queries::ocsf::VERSION;

/// OCSF's `severity_id` and `severity` for a finding's severity.
pub fn severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// `f` as a Detection Finding event.
pub fn detection_finding(f: &Finding) -> Value {
    let (activity_id, activity) = match f.status {
        FindingStatus::New => (1, "Create"),
        FindingStatus::Updated => (2, "Update"),
    };
    let (severity_id, severity_name) = severity(f.severity);
    let attack = AttackTags::from_tags(&f.tags);
    let mut cloud = json!({"provider": "AWS"});
    if let Some(region) = &f.entities.region {
        cloud["region"] = json!(region);
    }
    if let Some(account) = &f.entities.account_id {
        cloud["account"] = json!({"uid": account, "type": "AWS Account", "type_id": 10});
    }
    let mut info = json!({
        "uid": f.finding_id,
        "title": f.title,
        "desc": description(f),
        "types": types(f, &attack),
        "first_seen_time": f.first_seen,
        "last_seen_time": f.last_seen,
        "created_time": f.detected_at,
        "analytic": {"uid": f.rule_id, "name": f.rule_id, "type_id": 1, "type": "Rule"},
    });
    let attacks = attacks(&attack);
    if !attacks.is_empty() {
        info["attacks"] = Value::Array(attacks);
    }
    let mut event = json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity,
        "type_uid": 200400 + activity_id,
        "type_name": format!("Detection Finding: {activity}"),
        "time": f.detected_at,
        "start_time": f.first_seen,
        "end_time": f.last_seen,
        "count": f.event_count,
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": 1,
        "status": "New",
        "message": f.title,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "uid": f.finding_id,
            "correlation_uid": f.dedup_key,
            "product": {"name": "Vigil", "vendor_name": "Vigil", "version": env!("CARGO_PKG_VERSION")},
        },
        "cloud": cloud,
        "finding_info": info,
        "unmapped": unmapped(f),
    });
    let evidences = evidences(f);
    if !evidences.is_empty() {
        event["evidences"] = Value::Array(evidences);
    }
    if let Some(resource) = &f.entities.resource {
        let mut r = json!({"uid": resource});
        if let Some(region) = &f.entities.region {
            r["region"] = json!(region);
        }
        event["resources"] = json!([r]);
    }
    let observables = observables(f);
    if !observables.is_empty() {
        event["observables"] = Value::Array(observables);
    }
    event
}

/// What happened, in one sentence built from the finding's own facts.
pub(crate) fn description(f: &Finding) -> String {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let mut who = Vec::new();
    if let Some(actor) = &f.entities.actor {
        who.push(format!("actor {actor}"));
    }
    if let Some(ip) = &f.entities.src_ip {
        who.push(format!("source {ip}"));
    }
    if let Some(resource) = &f.entities.resource {
        who.push(format!("resource {resource}"));
    }
    let who = if who.is_empty() {
        String::new()
    } else {
        format!(" ({})", who.join(", "))
    };
    format!(
        "{}: {} event(s) from {} to {}{who}, found by rule {}.",
        f.title,
        f.event_count,
        at(f.first_seen),
        at(f.last_seen),
        f.rule_id
    )
}

/// `finding_info.types`: Security Hub's finding type taxonomy
/// (`TTPs/<tactic>`) for each ATT&CK tactic, and the rule.
fn types(f: &Finding, attack: &AttackTags) -> Vec<String> {
    let mut types: Vec<String> = attack
        .tactics
        .iter()
        .map(|t| format!("TTPs/{}", t.name))
        .collect();
    types.push(format!("Vigil/{}", f.rule_id));
    types
}

fn technique_json(t: &Technique) -> Value {
    let mut v = json!({
        "uid": t.id,
        "src_url": format!("https://attack.mitre.org/techniques/{}/", t.id.replace('.', "/")),
    });
    if let Some(name) = t.name {
        v["name"] = json!(name);
    }
    v
}

/// `finding_info.attacks`: one per technique the rule names, with the
/// rule's tactics; one per tactic when it names none.
fn attacks(attack: &AttackTags) -> Vec<Value> {
    let tactics: Vec<Value> = attack
        .tactics
        .iter()
        .map(|t| {
            let mut v = json!({"name": t.name});
            if let Some(id) = t.id {
                v["uid"] = json!(id);
                v["src_url"] = json!(format!("https://attack.mitre.org/tactics/{id}/"));
            }
            v
        })
        .collect();
    if attack.techniques.is_empty() {
        return tactics.into_iter().map(|t| json!({"tactic": t})).collect();
    }
    attack
        .techniques
        .iter()
        .map(|t| {
            let mut v = match t.parent() {
                Some(parent) => json!({
                    "technique": technique_json(&parent),
                    "sub_technique": technique_json(t),
                }),
                None => json!({"technique": technique_json(t)}),
            };
            if let Some(first) = tactics.first() {
                v["tactic"] = first.clone();
                v["tactics"] = Value::Array(tactics.clone());
            }
            v
        })
        .collect()
}

/// `evidences`: the finding's redacted sample events (parsed when they are
/// JSON), the first with the source address and the actor.
fn evidences(f: &Finding) -> Vec<Value> {
    let mut out: Vec<Value> = f
        .samples
        .iter()
        .map(|sample| {
            let data = serde_json::from_str::<Value>(sample)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({"raw": sample}));
            json!({"data": data})
        })
        .collect();
    let ip = f
        .entities
        .src_ip
        .as_deref()
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    if out.is_empty() && (ip.is_some() || f.entities.actor.is_some()) {
        out.push(json!({}));
    }
    if let Some(first) = out.first_mut() {
        if let Some(ip) = ip {
            first["src_endpoint"] = json!({"ip": ip});
        }
        if let Some(actor) = &f.entities.actor {
            first["actor"] = json!({"user": {"uid": actor}});
        }
    }
    out
}

/// `observables`: the source address and the actor, for correlation.
fn observables(f: &Finding) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(ip) = f
        .entities
        .src_ip
        .as_deref()
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
    {
        out.push(json!({"name": "evidences[0].src_endpoint.ip", "type_id": 2, "type": "IP Address", "value": ip}));
    }
    if let Some(actor) = &f.entities.actor {
        out.push(json!({"name": "evidences[0].actor.user.uid", "type_id": 10, "type": "Resource UID", "value": actor}));
    }
    out
}

/// What has no OCSF home: the dedup key, the rule's window, the columns the
/// rule returned, the hunting command that shows the events.
fn unmapped(f: &Finding) -> Value {
    let mut m = Map::new();
    m.insert("dedup_key".into(), json!(f.dedup_key));
    m.insert("window_start".into(), json!(f.window_start));
    m.insert("window_end".into(), json!(f.window_end));
    m.insert("tags".into(), json!(f.tags));
    m.insert("fields".into(), json!(f.fields));
    m.insert("hunt".into(), json!(hunt_hint(f)));
    Value::Object(m)
}
