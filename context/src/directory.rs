//! The user's directory: account ids to names and environments, principals to owners and teams.

type AHashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
use serde::{Deserialize, Serialize};

use crate::error::ContextError;

/// An account as the directory names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `prod`, `staging`, `dev`, ... (routing can select on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl AccountInfo {
    /// Its name (else its id), with its environment: `acme-prod (prod)`.
    pub fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or(&self.id);
        match &self.environment {
            Some(env) => format!("{name} ({env})"),
            None => name.to_string(),
        }
    }
}

/// Who answers for a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerInfo {
    /// The directory's entry that matched: an ARN, a user or role name, or a
    /// pattern with `*`.
    pub principal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// Accounts and owners from every directory file.
#[derive(Debug, Default)]
pub struct Directory {
    accounts: AHashMap<String, AccountInfo>,
    exact_owners: AHashMap<String, OwnerInfo>,
    pattern_owners: Vec<(regex::Regex, OwnerInfo)>,
}

/// The account id of an ARN (`arn:aws:iam::111122223333:user/x`).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let account = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The user or role name of an IAM or STS ARN (for an assumed role, the role).
pub fn principal_name(arn: &str) -> Option<&str> {
    let resource = arn.strip_prefix("arn:")?.split(':').nth(4)?;
    let mut parts = resource.split('/');
    match parts.next()? {
        "user" | "role" | "group" | "federated-user" => parts.next_back(),
        "assumed-role" => parts.next(),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDirectory {
    #[serde(default)]
    accounts: Vec<AccountInfo>,
    #[serde(default)]
    principals: Vec<OwnerInfo>,
}

fn format_error(location: &str, reason: impl ToString) -> ContextError {
    ContextError::Format {
        location: location.to_string(),
        reason: reason.to_string(),
    }
}

impl Directory {
    /// Adds a directory file: TOML (`[[accounts]]` with `id`, `name`,
    /// `environment`; `[[principals]]` with `principal`, `owner`, `team`),
    /// or CSV whose header has `account_id` (accounts) or `principal` (owners).
    pub fn add_file(&mut self, location: &str, bytes: &[u8]) -> Result<(), ContextError> {
        let text = std::str::from_utf8(bytes).map_err(|e| format_error(location, e))?;
        if location.to_ascii_lowercase().ends_with(".toml") {
            let file: TomlDirectory =
                toml::from_str(text).map_err(|e| format_error(location, e))?;
            for account in file.accounts {
                self.add_account(account);
            }
            for owner in file.principals {
                self.add_owner(location, owner)?;
            }
            return Ok(());
        }
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| format_error(location, e))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let value = |row: &csv::StringRecord, i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        if let Some(id) = column("account_id") {
            let (name, environment) = (column("name"), column("environment"));
            for row in reader.records() {
                let row = row.map_err(|e| format_error(location, e))?;
                let Some(id) = value(&row, Some(id)) else {
                    continue;
                };
                self.add_account(AccountInfo {
                    id,
                    name: value(&row, name),
                    environment: value(&row, environment),
                });
            }
        } else if let Some(principal) = column("principal") {
            let (owner, team) = (column("owner"), column("team"));
            for row in reader.records() {
                let row = row.map_err(|e| format_error(location, e))?;
                let Some(principal) = value(&row, Some(principal)) else {
                    continue;
                };
                self.add_owner(
                    location,
                    OwnerInfo {
                        principal,
                        owner: value(&row, owner),
                        team: value(&row, team),
                    },
                )?;
            }
        } else {
            return Err(format_error(
                location,
                "a directory CSV needs an account_id column (accounts) or a principal column (owners)",
            ));
        }
        Ok(())
    }

    fn add_account(&mut self, account: AccountInfo) {
        self.accounts.insert(account.id.clone(), account);
    }

    fn add_owner(&mut self, location: &str, owner: OwnerInfo) -> Result<(), ContextError> {
        if owner.principal.contains('*') {
            let pattern = format!(
                "^{}$",
                owner
                    .principal
                    .split('*')
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(".*")
            );
            let re = regex::Regex::new(&pattern).map_err(|e| format_error(location, e))?;
            self.pattern_owners.push((re, owner));
        } else {
            self.exact_owners.insert(owner.principal.clone(), owner);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.exact_owners.is_empty() && self.pattern_owners.is_empty()
    }

    pub fn account(&self, id: &str) -> Option<&AccountInfo> {
        self.accounts.get(id.trim())
    }

    /// The owner of a principal: its exact ARN, then its user or role name,
    /// then the first pattern that matches the ARN.
    pub fn owner(&self, actor: &str) -> Option<&OwnerInfo> {
        let actor = actor.trim();
        self.exact_owners
            .get(actor)
            .or_else(|| self.exact_owners.get(principal_name(actor)?))
            .or_else(|| {
                self.pattern_owners
                    .iter()
                    .find(|(re, _)| re.is_match(actor))
                    .map(|(_, o)| o)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_give_their_account_and_principal_name() {
        let role = "arn:aws:sts::111122223333:assumed-role/deploy/session-1";
        assert_eq!(account_of_arn(role), Some("111122223333"));
        assert_eq!(principal_name(role), Some("deploy"));
        assert_eq!(
            principal_name("arn:aws:iam::111122223333:user/ops/alice"),
            Some("alice")
        );
        assert_eq!(account_of_arn("AIDAEXAMPLE"), None);
        assert_eq!(principal_name("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn csv_and_toml_files_name_accounts_and_owners() {
        let mut d = Directory::default();
        d.add_file(
            "accounts.csv",
            b"account_id,name,environment\n111122223333,payments-prod,prod\n444455556666,sandbox,\n",
        )
        .unwrap();
        d.add_file(
            "owners.toml",
            br#"
[[principals]]
principal = "alice"
owner = "alice@example.com"
team = "payments"
[[principals]]
principal = "arn:aws:sts::*:assumed-role/ci-*"
team = "platform"
"#,
        )
        .unwrap();
        assert_eq!(
            d.account("111122223333").unwrap().environment.as_deref(),
            Some("prod")
        );
        assert_eq!(d.account("444455556666").unwrap().environment, None);
        let alice = d.owner("arn:aws:iam::111122223333:user/alice").unwrap();
        assert_eq!(alice.team.as_deref(), Some("payments"));
        let ci = d
            .owner("arn:aws:sts::111122223333:assumed-role/ci-deploy/run-9")
            .unwrap();
        assert_eq!(ci.team.as_deref(), Some("platform"));
        assert!(d.owner("arn:aws:iam::111122223333:user/bob").is_none());
        assert!(d.add_file("x.csv", b"a,b\n1,2\n").is_err());
    }
}
