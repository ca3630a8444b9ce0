//! Vigil's context: what it knows about an event beyond the event itself.
//!
//! Threat intelligence sets ([`intel`]), GeoIP/ASN databases ([`geo`]) and
//! the user's directory of accounts and principal owners ([`directory`]),
//! loaded from files or `s3://` objects named in `vigil.toml`'s `[context]`
//! ([`config`]). The binary installs one [`Context`] per process
//! ([`install`]); SQL functions, the intel rule and findings read the one
//! in force ([`current`]), and [`reload::Reloader`] swaps in a new one when
//! its files change.

#![forbid(unsafe_code)]
// Every byte this crate reads may be an attacker's: no unwrap or expect on
// what input decides (a panic would lose the rest of a batch).
#![deny(clippy::unwrap_used, clippy::expect_used)]
// Nor an index out of bounds or an overflow: feeds come from third parties.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub mod config;
pub mod directory;
pub mod error;
pub mod geo;
pub mod intel;
pub mod reload;
pub mod source;
pub mod user_agent;

use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

pub use config::ContextConfig;
pub use directory::{AccountInfo, Directory, OwnerInfo};
pub use error::ContextError;
pub use geo::{GeoDatabases, GeoFacts};
pub use intel::{Indicator, IndicatorKind, IntelSet, LookupKind};

/// Everything loaded from `[context]`.
#[derive(Debug, Default)]
pub struct Context {
    pub intel: IntelSet,
    pub geo: GeoDatabases,
    pub directory: Directory,
}

/// What a finding carries about its address, account and principal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingContext {
    /// Where the finding's `src_ip` is and whose network it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<GeoFacts>,
    /// The finding's account, as the directory names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountInfo>,
    /// Who owns the finding's principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerInfo>,
}

impl FindingContext {
    pub fn is_empty(&self) -> bool {
        self.src_ip.is_none() && self.account.is_none() && self.owner.is_none()
    }

    /// One line for a person: `NL, Amsterdam, AS64500 Example Hosting ·
    /// account acme-prod (prod) · owner bob@acme.example (platform)`.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(geo) = &self.src_ip {
            let mut place: Vec<String> = [&geo.country, &geo.city]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            place.extend(geo.network());
            if !place.is_empty() {
                parts.push(place.join(", "));
            }
        }
        if let Some(account) = &self.account {
            parts.push(format!("account {}", account.label()));
        }
        if let Some(owner) = &self.owner {
            let who = owner
                .owner
                .as_deref()
                .or(owner.team.as_deref())
                .unwrap_or(&owner.principal);
            parts.push(match (&owner.owner, &owner.team) {
                (Some(_), Some(team)) => format!("owner {who} ({team})"),
                _ => format!("owner {who}"),
            });
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

impl Context {
    /// The context of a finding about this address, account and principal.
    pub fn finding_context(
        &self,
        src_ip: Option<&str>,
        account_id: Option<&str>,
        actor: Option<&str>,
    ) -> FindingContext {
        FindingContext {
            src_ip: src_ip
                .and_then(|ip| self.geo.facts(ip))
                .filter(|facts| !facts.is_empty()),
            account: account_id
                .or_else(|| actor.and_then(directory::account_of_arn))
                .and_then(|id| self.directory.account(id).cloned()),
            owner: actor.and_then(|a| self.directory.owner(a).cloned()),
        }
    }
}

static CURRENT: RwLock<Option<Arc<Context>>> = RwLock::new(None);

/// The context in force: the one last installed, or an empty one.
pub fn current() -> Arc<Context> {
    let installed = CURRENT.read().unwrap_or_else(|e| e.into_inner()).clone();
    installed.unwrap_or_else(|| {
        static EMPTY: std::sync::OnceLock<Arc<Context>> = std::sync::OnceLock::new();
        EMPTY.get_or_init(|| Arc::new(Context::default())).clone()
    })
}

/// Makes `context` the one in force for the rest of the process (queries
/// already running keep the one they started with).
pub fn install(context: Arc<Context>) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(context);
}

/// Puts `context` in force (none: the empty one) and returns the one it
/// replaces, so that a caller can put it back (rule tests with their own
/// indicators do).
pub fn replace(context: Option<Arc<Context>>) -> Option<Arc<Context>> {
    std::mem::replace(
        &mut *CURRENT.write().unwrap_or_else(|e| e.into_inner()),
        context,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_context_reads_as_one_line() {
        let context = FindingContext {
            src_ip: Some(GeoFacts {
                country: Some("NL".into()),
                city: Some("Amsterdam".into()),
                asn: Some(64500),
                as_org: Some("Example Hosting".into()),
                ..GeoFacts::default()
            }),
            account: Some(AccountInfo {
                id: "111122223333".into(),
                name: Some("acme-prod".into()),
                environment: Some("prod".into()),
            }),
            owner: Some(OwnerInfo {
                principal: "bob".into(),
                owner: Some("bob@acme.example".into()),
                team: Some("platform".into()),
            }),
        };
        assert_eq!(
            context.summary().unwrap(),
            "NL, Amsterdam, AS64500 Example Hosting · account acme-prod (prod) · owner bob@acme.example (platform)"
        );
        assert_eq!(FindingContext::default().summary(), None);
    }
}
