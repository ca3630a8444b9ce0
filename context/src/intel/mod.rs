//! Threat intelligence: indicators from every configured set, indexed for the lookups rules make per event.

pub mod formats;

type AHashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
use ipnetwork::{Ipv4Network, Ipv6Network};
use prefix_trie::PrefixMap;
use regex::RegexSet;
use serde::Serialize;
use std::net::IpAddr;

/// What an indicator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Ip,
    Cidr,
    Domain,
    Url,
    UserAgent,
    /// A regular expression a user agent matches (searched, not anchored).
    UserAgentRegex,
    AccessKey,
    Arn,
    Account,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user_agent",
            IndicatorKind::UserAgentRegex => "user_agent_regex",
            IndicatorKind::AccessKey => "access_key",
            IndicatorKind::Arn => "arn",
            IndicatorKind::Account => "account",
        }
    }

    /// The kind a name in a file or configuration means.
    pub fn parse(name: &str) -> Option<IndicatorKind> {
        Some(
            match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "ip" | "ipv4" | "ipv6" | "ip_address" | "ipv4_addr" | "ipv6_addr" => {
                    IndicatorKind::Ip
                }
                "cidr" | "network" | "ip_range" => IndicatorKind::Cidr,
                "domain" | "domain_name" | "hostname" | "fqdn" => IndicatorKind::Domain,
                "url" | "uri" => IndicatorKind::Url,
                "user_agent" | "useragent" | "ua" => IndicatorKind::UserAgent,
                "user_agent_regex" | "ua_regex" => IndicatorKind::UserAgentRegex,
                "access_key" | "access_key_id" | "aws_access_key_id" => IndicatorKind::AccessKey,
                "arn" | "principal" => IndicatorKind::Arn,
                "account" | "account_id" | "aws_account_id" => IndicatorKind::Account,
                _ => return None,
            },
        )
    }

    /// The kind a bare value looks like (plain lists without a declared kind).
    pub fn guess(value: &str) -> Option<IndicatorKind> {
        let v = value.trim();
        if v.parse::<IpAddr>().is_ok() {
            Some(IndicatorKind::Ip)
        } else if v.contains('/') && parse_network(v).is_some() {
            Some(IndicatorKind::Cidr)
        } else if v.starts_with("http://") || v.starts_with("https://") {
            Some(IndicatorKind::Url)
        } else if looks_like_access_key(v) {
            Some(IndicatorKind::AccessKey)
        } else if v.starts_with("arn:") {
            Some(IndicatorKind::Arn)
        } else if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
            Some(IndicatorKind::Account)
        } else if looks_like_domain(v) {
            Some(IndicatorKind::Domain)
        } else {
            None
        }
    }
}

fn looks_like_access_key(v: &str) -> bool {
    v.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn looks_like_domain(v: &str) -> bool {
    let v = v.trim_end_matches('.');
    v.contains('.')
        && v.len() <= 253
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An address network, `a.b.c.d/n` or `x::/n`, with its host bits cleared.
pub fn parse_network(v: &str) -> Option<ipnetwork::IpNetwork> {
    let net: ipnetwork::IpNetwork = v.trim().parse().ok()?;
    ipnetwork::IpNetwork::new(net.network(), net.prefix()).ok()
}

/// One indicator, as its set describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub value: String,
    pub kind: IndicatorKind,
    /// The set it came from (its configured name, or the file's name).
    pub source: String,
    /// 0-100, when the set says.
    pub confidence: Option<u8>,
    /// Unix ms, when the set says.
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub tags: Vec<String>,
}

/// What a value is looked up as (the first argument of `intel_match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    /// An address: exact IP indicators, then the narrowest CIDR holding it.
    Ip,
    /// A host name: it or any parent domain (`a.evil.example` matches `evil.example`).
    Domain,
    /// A URL: the URL itself, then its host as a domain.
    Url,
    /// A user agent: exact, then the regular expressions.
    UserAgent,
    AccessKey,
    /// An ARN or principal: exact, then its account id.
    Arn,
    Account,
}

impl LookupKind {
    pub fn parse(name: &str) -> Option<LookupKind> {
        Some(match IndicatorKind::parse(name)? {
            IndicatorKind::Ip | IndicatorKind::Cidr => LookupKind::Ip,
            IndicatorKind::Domain => LookupKind::Domain,
            IndicatorKind::Url => LookupKind::Url,
            IndicatorKind::UserAgent | IndicatorKind::UserAgentRegex => LookupKind::UserAgent,
            IndicatorKind::AccessKey => LookupKind::AccessKey,
            IndicatorKind::Arn => LookupKind::Arn,
            IndicatorKind::Account => LookupKind::Account,
        })
    }

    pub const NAMES: &'static str = "ip, cidr, domain, url, user_agent, access_key, arn, account";
}

/// How many indicator kinds there are.
const KINDS: usize = IndicatorKind::Account as usize + 1;

/// The most regular expressions a set may hold (a `RegexSet` is compiled
/// over all of them at once).
pub const MAX_REGEXES: usize = 10_000;

/// Every indicator of every set, indexed by kind. Lookups are hash probes,
/// a longest-prefix match in a prefix trie for CIDR sets, and one pass of a
/// `RegexSet` for user-agent expressions.
#[derive(Debug, Default)]
pub struct IntelSet {
    indicators: Vec<Indicator>,
    /// Per kind (`IndicatorKind as usize`): normalised value → indicator.
    exact: [AHashMap<String, usize>; KINDS],
    v4: PrefixMap<Ipv4Network, usize>,
    v6: PrefixMap<Ipv6Network, usize>,
    user_agent_regexes: Option<(RegexSet, Vec<usize>)>,
    /// A digest of the sets' contents: which version a finding matched.
    version: String,
}

/// Normalises a value the way lookups compare it: domains lower case without
/// a trailing dot, URLs with a lower-case scheme and host.
fn normalise(kind: IndicatorKind, value: &str) -> String {
    let v = value.trim();
    match kind {
        IndicatorKind::Domain => v.trim_end_matches('.').to_ascii_lowercase(),
        IndicatorKind::Url => normalise_url(v),
        _ => v.to_string(),
    }
}

fn normalise_url(v: &str) -> String {
    match v.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase(),
                path
            )
        }
        None => v.to_string(),
    }
}

fn url_host(v: &str) -> Option<&str> {
    let rest = v.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next()?.trim_start_matches('[')
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

impl IntelSet {
    /// Indexes `indicators`. When two sets hold the same value, the one
    /// with the higher confidence is kept. Also returns the indicators
    /// refused (not an address or a network, an expression that does not
    /// compile), each with the reason.
    pub fn build(indicators: Vec<Indicator>, version: String) -> (IntelSet, Vec<String>) {
        let mut set = IntelSet {
            version,
            ..IntelSet::default()
        };
        let mut rejected = Vec::new();
        let mut patterns: Vec<(String, usize)> = Vec::new();
        for indicator in indicators {
            let index = set.indicators.len();
            match indicator.kind {
                IndicatorKind::Cidr => match parse_network(&indicator.value) {
                    Some(ipnetwork::IpNetwork::V4(n)) => {
                        keep_better(&mut set.v4, n, index, &indicator, &set.indicators)
                    }
                    Some(ipnetwork::IpNetwork::V6(n)) => {
                        keep_better(&mut set.v6, n, index, &indicator, &set.indicators)
                    }
                    None => {
                        rejected.push(format!("{:?}: not a network", indicator.value));
                        continue;
                    }
                },
                IndicatorKind::UserAgentRegex => {
                    if patterns.len() >= MAX_REGEXES {
                        rejected.push(format!(
                            "{:?}: more than {MAX_REGEXES} user-agent expressions",
                            indicator.value
                        ));
                        continue;
                    }
                    if let Err(e) = regex::Regex::new(&indicator.value) {
                        rejected.push(format!("{:?}: {e}", indicator.value));
                        continue;
                    }
                    patterns.push((indicator.value.clone(), index));
                }
                kind => {
                    let value = if kind == IndicatorKind::Ip {
                        match indicator.value.trim().parse::<IpAddr>() {
                            Ok(ip) => ip.to_string(),
                            Err(_) => {
                                rejected.push(format!("{:?}: not an address", indicator.value));
                                continue;
                            }
                        }
                    } else {
                        normalise(kind, &indicator.value)
                    };
                    let Some(values) = set.exact.get_mut(kind as usize) else {
                        // Unreachable: `exact` has one map per kind.
                        rejected.push(format!("{:?}: no index for its kind", indicator.value));
                        continue;
                    };
                    let existing = values.get(&value).and_then(|&i| set.indicators.get(i));
                    if existing.is_none_or(|old| better(&indicator, old)) {
                        values.insert(value, index);
                    }
                }
            }
            set.indicators.push(indicator);
        }
        if !patterns.is_empty() {
            match RegexSet::new(patterns.iter().map(|(p, _)| p)) {
                Ok(regexes) => {
                    set.user_agent_regexes =
                        Some((regexes, patterns.into_iter().map(|(_, i)| i).collect()))
                }
                Err(e) => rejected.push(format!("the user-agent expressions together: {e}")),
            }
        }
        (set, rejected)
    }

    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// A digest of the sets' contents (empty when none is loaded).
    pub fn version(&self) -> &str {
        &self.version
    }

    fn exact(&self, kind: IndicatorKind, value: &str) -> Option<&Indicator> {
        self.exact
            .get(kind as usize)?
            .get(value)
            .and_then(|&i| self.indicators.get(i))
    }

    /// The indicator `value` matches, looked up as `kind`.
    pub fn lookup(&self, kind: LookupKind, value: &str) -> Option<&Indicator> {
        if self.indicators.is_empty() {
            return None;
        }
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match kind {
            LookupKind::Ip => {
                let ip: IpAddr = value.parse().ok()?;
                self.exact(IndicatorKind::Ip, &ip.to_string()).or_else(|| {
                    let index = match ip {
                        IpAddr::V4(a) => self.v4.get_lpm(&Ipv4Network::from(a)).map(|(_, &i)| i),
                        IpAddr::V6(a) => self.v6.get_lpm(&Ipv6Network::from(a)).map(|(_, &i)| i),
                    }?;
                    self.indicators.get(index)
                })
            }
            LookupKind::Domain => {
                let lower = value.trim_end_matches('.').to_ascii_lowercase();
                let mut name = lower.as_str();
                loop {
                    if let Some(hit) = self.exact(IndicatorKind::Domain, name) {
                        return Some(hit);
                    }
                    let (_, parent) = name.split_once('.')?;
                    if !parent.contains('.') {
                        return None;
                    }
                    name = parent;
                }
            }
            LookupKind::Url => self
                .exact(IndicatorKind::Url, &normalise_url(value))
                .or_else(|| self.lookup(LookupKind::Domain, url_host(value)?))
                .or_else(|| self.lookup(LookupKind::Ip, url_host(value)?)),
            LookupKind::UserAgent => self.exact(IndicatorKind::UserAgent, value).or_else(|| {
                let (regexes, indexes) = self.user_agent_regexes.as_ref()?;
                let first = regexes.matches(value).into_iter().next()?;
                indexes.get(first).and_then(|&i| self.indicators.get(i))
            }),
            LookupKind::AccessKey => self.exact(IndicatorKind::AccessKey, value),
            LookupKind::Arn => self.exact(IndicatorKind::Arn, value).or_else(|| {
                let account = crate::directory::account_of_arn(value)?;
                self.exact(IndicatorKind::Account, account)
            }),
            LookupKind::Account => self.exact(IndicatorKind::Account, value),
        }
    }
}

/// Points `network` at the indicator `index` unless it already points at a
/// more confident one.
fn keep_better<P: prefix_trie::Prefix>(
    trie: &mut PrefixMap<P, usize>,
    network: P,
    index: usize,
    indicator: &Indicator,
    indicators: &[Indicator],
) {
    let kept = trie.get(&network).and_then(|&i| indicators.get(i));
    if kept.is_none_or(|old| better(indicator, old)) {
        trie.insert(network, index);
    }
}

/// Whether `new` should replace `old` for the same value: a higher confidence.
fn better(new: &Indicator, old: &Indicator) -> bool {
    new.confidence.unwrap_or(0) > old.confidence.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(value: &str, kind: IndicatorKind, confidence: Option<u8>) -> Indicator {
        Indicator {
            value: value.into(),
            kind,
            source: format!("set-{}", confidence.unwrap_or(0)),
            confidence,
            first_seen: None,
            last_seen: None,
            tags: vec![],
        }
    }

    fn set(indicators: Vec<Indicator>) -> IntelSet {
        let (set, rejected) = IntelSet::build(indicators, "v1".into());
        assert!(rejected.is_empty(), "{rejected:?}");
        set
    }

    #[test]
    fn addresses_match_exactly_or_by_the_narrowest_network() {
        let s = set(vec![
            ind("198.51.100.0/24", IndicatorKind::Cidr, Some(10)),
            ind("198.51.100.128/25", IndicatorKind::Cidr, Some(20)),
            ind("198.51.100.7", IndicatorKind::Ip, Some(30)),
            ind("2001:db8::/32", IndicatorKind::Cidr, None),
            ind("2001:DB8:1::5", IndicatorKind::Ip, None),
        ]);
        let hit = |v| s.lookup(LookupKind::Ip, v).map(|i| i.value.clone());
        assert_eq!(hit("198.51.100.7").as_deref(), Some("198.51.100.7"));
        assert_eq!(hit("198.51.100.200").as_deref(), Some("198.51.100.128/25"));
        assert_eq!(hit("198.51.100.1").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(hit("198.51.101.1"), None);
        assert_eq!(hit("2001:db8:1::5").as_deref(), Some("2001:DB8:1::5"));
        assert_eq!(hit("2001:db8:ffff::1").as_deref(), Some("2001:db8::/32"));
        assert_eq!(hit("not an address"), None);
        assert_eq!(hit("AWS Internal"), None);
    }

    #[test]
    fn domains_match_their_subdomains_and_urls_their_hosts() {
        let s = set(vec![
            ind("Evil.Example.", IndicatorKind::Domain, None),
            ind(
                "https://files.example.org/payload.sh",
                IndicatorKind::Url,
                None,
            ),
            ind("203.0.113.9", IndicatorKind::Ip, None),
        ]);
        assert!(s.lookup(LookupKind::Domain, "evil.example").is_some());
        assert!(s.lookup(LookupKind::Domain, "a.b.EVIL.example").is_some());
        assert!(s.lookup(LookupKind::Domain, "notevil.example").is_none());
        assert!(s.lookup(LookupKind::Domain, "example").is_none());
        assert!(s
            .lookup(LookupKind::Url, "HTTPS://FILES.example.org/payload.sh")
            .is_some());
        assert!(s
            .lookup(LookupKind::Url, "https://files.example.org/other")
            .is_none());
        assert!(s
            .lookup(LookupKind::Url, "http://user@c2.evil.example:8443/x")
            .is_some());
        assert!(s.lookup(LookupKind::Url, "http://203.0.113.9/x").is_some());
    }

    #[test]
    fn user_agents_keys_and_principals() {
        let s = set(vec![
            ind("BadBot/1.0", IndicatorKind::UserAgent, None),
            ind(
                "(?i)^python-requests/2\\.2",
                IndicatorKind::UserAgentRegex,
                None,
            ),
            ind("AKIAEXAMPLEKEY000001", IndicatorKind::AccessKey, None),
            ind(
                "arn:aws:iam::111122223333:user/mallory",
                IndicatorKind::Arn,
                None,
            ),
            ind("999988887777", IndicatorKind::Account, None),
        ]);
        assert!(s.lookup(LookupKind::UserAgent, "BadBot/1.0").is_some());
        assert!(s.lookup(LookupKind::UserAgent, "badbot/1.0").is_none());
        assert!(s
            .lookup(LookupKind::UserAgent, "Python-Requests/2.28.1")
            .is_some());
        assert!(s.lookup(LookupKind::UserAgent, "curl/8.0").is_none());
        assert!(s
            .lookup(LookupKind::AccessKey, "AKIAEXAMPLEKEY000001")
            .is_some());
        assert!(s
            .lookup(LookupKind::Arn, "arn:aws:iam::111122223333:user/mallory")
            .is_some());
        assert!(s
            .lookup(
                LookupKind::Arn,
                "arn:aws:sts::999988887777:assumed-role/x/y"
            )
            .is_some());
        assert!(s
            .lookup(LookupKind::Arn, "arn:aws:iam::111122223333:user/alice")
            .is_none());
    }

    #[test]
    fn the_more_confident_of_two_sets_wins_and_bad_values_are_reported() {
        let (s, rejected) = IntelSet::build(
            vec![
                ind("203.0.113.5", IndicatorKind::Ip, Some(40)),
                ind("203.0.113.5", IndicatorKind::Ip, Some(90)),
                ind("203.0.113.5", IndicatorKind::Ip, Some(60)),
                ind("10.0.0.0/8", IndicatorKind::Cidr, Some(90)),
                ind("10.0.0.0/8", IndicatorKind::Cidr, Some(10)),
                ind("300.1.1.1", IndicatorKind::Ip, None),
                ind("(unclosed", IndicatorKind::UserAgentRegex, None),
            ],
            "v".into(),
        );
        assert_eq!(
            s.lookup(LookupKind::Ip, "203.0.113.5").unwrap().confidence,
            Some(90)
        );
        assert_eq!(
            s.lookup(LookupKind::Ip, "10.1.2.3").unwrap().confidence,
            Some(90)
        );
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn kinds_are_guessed_from_values() {
        use IndicatorKind as K;
        for (value, kind) in [
            ("203.0.113.5", Some(K::Ip)),
            ("2001:db8::1", Some(K::Ip)),
            ("203.0.113.0/24", Some(K::Cidr)),
            ("https://x.example/a", Some(K::Url)),
            ("AKIAIOSFODNN7EXAMPLE", Some(K::AccessKey)),
            ("arn:aws:iam::111122223333:root", Some(K::Arn)),
            ("111122223333", Some(K::Account)),
            ("evil.example", Some(K::Domain)),
            ("Mozilla/5.0 (X11)", None),
        ] {
            assert_eq!(IndicatorKind::guess(value), kind, "{value}");
        }
    }
}
