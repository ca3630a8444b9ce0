//! MITRE ATT&CK (Enterprise) tactics and techniques named by a rule's
//! `attack.*` tags, with the names of those Vigil's rules and packs use, for
//! formats that carry them (OCSF's `attacks`, Security Hub's `Types`).

/// The Enterprise tactics: tag word, id, name.
const TACTICS: [(&str, &str, &str); 14] = [
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resource_development", "TA0042", "Resource Development"),
    ("initial_access", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilege_escalation", "TA0004", "Privilege Escalation"),
    ("defense_evasion", "TA0005", "Defense Evasion"),
    ("credential_access", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateral_movement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("command_and_control", "TA0011", "Command and Control"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("impact", "TA0040", "Impact"),
];

/// Technique and sub-technique names, by id.
const TECHNIQUES: [(&str, &str); 79] = [
    ("T1003", "OS Credential Dumping"),
    ("T1005", "Data from Local System"),
    ("T1020", "Automated Exfiltration"),
    ("T1021", "Remote Services"),
    ("T1021.004", "SSH"),
    ("T1021.007", "Cloud Services"),
    ("T1037", "Boot or Logon Initialization Scripts"),
    ("T1040", "Network Sniffing"),
    ("T1059", "Command and Scripting Interpreter"),
    ("T1059.001", "PowerShell"),
    ("T1059.003", "Windows Command Shell"),
    ("T1059.004", "Unix Shell"),
    ("T1059.009", "Cloud API"),
    ("T1070", "Indicator Removal"),
    ("T1078", "Valid Accounts"),
    ("T1078.002", "Domain Accounts"),
    ("T1078.004", "Cloud Accounts"),
    ("T1087", "Account Discovery"),
    ("T1087.004", "Cloud Account"),
    ("T1090", "Proxy"),
    ("T1090.003", "Multi-hop Proxy"),
    ("T1098", "Account Manipulation"),
    ("T1098.001", "Additional Cloud Credentials"),
    ("T1098.003", "Additional Cloud Roles"),
    ("T1098.004", "SSH Authorized Keys"),
    ("T1110", "Brute Force"),
    ("T1110.001", "Password Guessing"),
    ("T1110.003", "Password Spraying"),
    ("T1110.004", "Credential Stuffing"),
    ("T1136", "Create Account"),
    ("T1136.003", "Cloud Account"),
    ("T1190", "Exploit Public-Facing Application"),
    ("T1484", "Domain or Tenant Policy Modification"),
    ("T1484.002", "Trust Modification"),
    ("T1485", "Data Destruction"),
    ("T1486", "Data Encrypted for Impact"),
    ("T1490", "Inhibit System Recovery"),
    ("T1496", "Resource Hijacking"),
    ("T1498", "Network Denial of Service"),
    ("T1499", "Endpoint Denial of Service"),
    ("T1499.002", "Service Exhaustion Flood"),
    ("T1499.003", "Application Exhaustion Flood"),
    ("T1525", "Implant Internal Image"),
    ("T1526", "Cloud Service Discovery"),
    ("T1530", "Data from Cloud Storage"),
    ("T1531", "Account Access Removal"),
    ("T1535", "Unused/Unsupported Cloud Regions"),
    ("T1537", "Transfer Data to Cloud Account"),
    ("T1546", "Event Triggered Execution"),
    ("T1548", "Abuse Elevation Control Mechanism"),
    ("T1550", "Use Alternate Authentication Material"),
    ("T1550.001", "Application Access Token"),
    ("T1552", "Unsecured Credentials"),
    ("T1552.005", "Cloud Instance Metadata API"),
    ("T1555", "Credentials from Password Stores"),
    ("T1555.006", "Cloud Secrets Management Stores"),
    ("T1556", "Modify Authentication Process"),
    ("T1556.006", "Multi-Factor Authentication"),
    ("T1557", "Adversary-in-the-Middle"),
    ("T1562", "Impair Defenses"),
    ("T1562.001", "Disable or Modify Tools"),
    ("T1562.007", "Disable or Modify Cloud Firewall"),
    ("T1562.008", "Disable or Modify Cloud Logs"),
    ("T1565", "Data Manipulation"),
    ("T1565.001", "Stored Data Manipulation"),
    ("T1566", "Phishing"),
    ("T1566.002", "Spearphishing Link"),
    ("T1573", "Encrypted Channel"),
    ("T1578", "Modify Cloud Compute Infrastructure"),
    ("T1580", "Cloud Infrastructure Discovery"),
    ("T1584", "Compromise Infrastructure"),
    ("T1584.001", "Domains"),
    ("T1595", "Active Scanning"),
    ("T1595.002", "Vulnerability Scanning"),
    ("T1599", "Network Boundary Bridging"),
    ("T1608.003", "Install Digital Certificate"),
    ("T1619", "Cloud Storage Object Discovery"),
    ("T1648", "Serverless Execution"),
    ("T1651", "Cloud Administration Command"),
];

/// An ATT&CK tactic: its id and name when it is one of the Enterprise
/// tactics, else the tag's words (`attack.stealth` → "Stealth").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tactic {
    pub id: Option<&'static str>,
    pub name: String,
}

/// The Enterprise tactics, in the matrix's order.
pub fn enterprise_tactics() -> Vec<Tactic> {
    TACTICS
        .iter()
        .map(|(_, id, name)| Tactic {
            id: Some(id),
            name: name.to_string(),
        })
        .collect()
}

/// An ATT&CK technique (`T1098`) or sub-technique (`T1098.001`), with its
/// name when Vigil knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    pub id: String,
    pub name: Option<&'static str>,
}

impl Technique {
    /// The parent technique of a sub-technique.
    pub fn parent(&self) -> Option<Technique> {
        let (parent, _) = self.id.split_once('.')?;
        Some(technique(parent))
    }
}

fn technique(id: &str) -> Technique {
    Technique {
        id: id.to_string(),
        name: TECHNIQUES.iter().find(|(t, _)| *t == id).map(|(_, n)| *n),
    }
}

/// The ATT&CK tactics and techniques a rule's tags name, in tag order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttackTags {
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<Technique>,
}

impl AttackTags {
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> AttackTags {
        let mut out = AttackTags::default();
        for tag in tags {
            let Some(rest) = tag.as_ref().strip_prefix("attack.") else {
                continue;
            };
            let is_technique = rest.len() >= 5
                && rest.starts_with(['t', 'T'])
                && rest[1..5].bytes().all(|b| b.is_ascii_digit());
            if is_technique {
                out.techniques.push(technique(&rest.to_ascii_uppercase()));
            } else if let Some((_, id, name)) = TACTICS.iter().find(|(word, _, _)| *word == rest) {
                out.tactics.push(Tactic {
                    id: Some(id),
                    name: name.to_string(),
                });
            } else if rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                out.tactics.push(Tactic {
                    id: None,
                    name: title_case(rest),
                });
            }
        }
        out
    }
}

fn title_case(words: &str) -> String {
    words
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_tactics_and_techniques_with_names() {
        let tags = AttackTags::from_tags(&[
            "attack.persistence",
            "attack.t1098.001",
            "attack.stealth",
            "attack.t9999",
            "cloud",
        ]);
        assert_eq!(
            tags.tactics,
            [
                Tactic {
                    id: Some("TA0003"),
                    name: "Persistence".into()
                },
                Tactic {
                    id: None,
                    name: "Stealth".into()
                }
            ]
        );
        assert_eq!(tags.techniques[0].id, "T1098.001");
        assert_eq!(
            tags.techniques[0].name,
            Some("Additional Cloud Credentials")
        );
        assert_eq!(
            tags.techniques[0].parent().unwrap().name,
            Some("Account Manipulation")
        );
        assert_eq!(tags.techniques[1].id, "T9999");
        assert_eq!(tags.techniques[1].name, None);
    }

    /// Every technique a built-in rule or pack names has its name here
    /// (techniques newer than this table keep their id alone).
    #[test]
    fn every_builtin_rules_technique_is_named() {
        let mut rules = crate::RuleSet::builtin().unwrap().rules;
        for pack in crate::builtin::pack_names() {
            rules.extend(
                crate::RuleSet::pack(pack, &Default::default())
                    .unwrap()
                    .rules,
            );
        }
        let newer = ["T1685", "T1685.002", "T1686.001"];
        for rule in rules {
            for t in AttackTags::from_tags(&rule.tags).techniques {
                assert!(
                    t.name.is_some() || newer.contains(&t.id.as_str()),
                    "{}: {} has no name",
                    rule.id,
                    t.id
                );
            }
        }
    }
}
