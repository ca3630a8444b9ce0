//! Who may use the console: a token (from `VIGIL_CONSOLE_TOKEN` or made at
//! start), a one-time login code exchanged for a session cookie, bearer
//! tokens for scripts, and a CSRF token per session for every change.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "vigil_session";
/// How long a session lasts without use.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// How long the login code printed at start stays valid.
const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The most sessions kept at once (the oldest go first).
const MAX_SESSIONS: usize = 1_000;

/// 32 random bytes as hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// What forms must send back (`csrf`).
    pub csrf: String,
    last_used: Instant,
}

/// The console's secrets and sessions.
pub struct Auth {
    token: String,
    login_code: Mutex<Option<(String, Instant)>>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

/// Who a request is.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A browser with a session: its changes need the session's CSRF token.
    Browser { session_id: String, csrf: String },
    /// A script with `Authorization: Bearer <token>` (no cookie, so no CSRF).
    Script,
}

impl Auth {
    /// With the given token (`VIGIL_CONSOLE_TOKEN`), or a random one.
    pub fn new(token: Option<String>) -> Auth {
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(random_hex);
        Auth {
            token,
            login_code: Mutex::new(Some((random_hex(), Instant::now()))),
            sessions: Mutex::default(),
        }
    }

    /// The one-time code of the login link printed at start (void once used).
    pub fn login_code(&self) -> Option<String> {
        self.login_code
            .lock()
            .ok()?
            .as_ref()
            .filter(|(_, made)| made.elapsed() < LOGIN_CODE_LIFETIME)
            .map(|(c, _)| c.clone())
    }

    /// Whether `candidate` is the token (in constant time).
    pub fn is_token(&self, candidate: &str) -> bool {
        equal(candidate.trim(), &self.token)
    }

    /// Exchanges the login code for a new session id, once.
    pub fn redeem_code(&self, code: &str) -> Option<String> {
        let mut slot = self.login_code.lock().ok()?;
        let valid = slot
            .as_ref()
            .is_some_and(|(c, made)| made.elapsed() < LOGIN_CODE_LIFETIME && equal(code, c));
        if !valid {
            return None;
        }
        *slot = None;
        drop(slot);
        Some(self.new_session())
    }

    /// A new session (after the code or the token was given).
    pub fn new_session(&self) -> String {
        let id = random_hex();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.last_used.elapsed() < SESSION_IDLE);
            if sessions.len() >= MAX_SESSIONS {
                if let Some(oldest) = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.last_used)
                    .map(|(k, _)| k.clone())
                {
                    sessions.remove(&oldest);
                }
            }
            sessions.insert(
                id.clone(),
                Session {
                    csrf: random_hex(),
                    last_used: Instant::now(),
                },
            );
        }
        id
    }

    /// Ends a session.
    pub fn end_session(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }

    /// Who sent a request with these headers, if anyone allowed.
    pub fn caller(&self, authorization: Option<&str>, cookie: Option<&str>) -> Option<Caller> {
        if let Some(bearer) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
            return self.is_token(bearer).then_some(Caller::Script);
        }
        let id = cookie.and_then(|c| cookie_value(c, COOKIE))?;
        let mut sessions = self.sessions.lock().ok()?;
        let session = sessions.get_mut(id)?;
        if session.last_used.elapsed() >= SESSION_IDLE {
            sessions.remove(id);
            return None;
        }
        session.last_used = Instant::now();
        Some(Caller::Browser {
            session_id: id.to_string(),
            csrf: session.csrf.clone(),
        })
    }
}

impl Caller {
    /// The CSRF token its forms carry (none for scripts).
    pub fn csrf(&self) -> &str {
        match self {
            Caller::Browser { csrf, .. } => csrf,
            Caller::Script => "",
        }
    }

    /// Whether a change it sent carries the right CSRF token.
    pub fn may_change(&self, sent_csrf: &str) -> bool {
        match self {
            Caller::Browser { csrf, .. } => equal(sent_csrf, csrf),
            Caller::Script => true,
        }
    }

    /// Who it is, for a triage's history.
    pub fn who(&self) -> &'static str {
        match self {
            Caller::Browser { .. } => "console",
            Caller::Script => "api",
        }
    }
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A cookie's value in a `Cookie:` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value of a session (`Secure` unless served on loopback).
pub fn session_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_code_works_once_and_makes_a_session() {
        let auth = Auth::new(Some("secret-token".into()));
        let code = auth.login_code().unwrap();
        assert!(auth.redeem_code("wrong").is_none());
        let id = auth.redeem_code(&code).unwrap();
        assert!(
            auth.redeem_code(&code).is_none(),
            "a code is void once used"
        );
        assert!(auth.login_code().is_none());
        let cookie = format!("other=1; {COOKIE}={id}");
        let caller = auth.caller(None, Some(&cookie)).unwrap();
        assert!(caller.may_change(caller.csrf()));
        assert!(!caller.may_change("forged"));
        auth.end_session(&id);
        assert!(auth.caller(None, Some(&cookie)).is_none());
    }

    #[test]
    fn bearer_tokens_are_checked_and_unknown_sessions_refused() {
        let auth = Auth::new(Some("secret-token".into()));
        assert!(matches!(
            auth.caller(Some("Bearer secret-token"), None),
            Some(Caller::Script)
        ));
        assert!(auth.caller(Some("Bearer secret-tokem"), None).is_none());
        assert!(auth.caller(Some("Basic x"), None).is_none());
        assert!(auth.caller(None, Some("vigil_session=made-up")).is_none());
        assert!(auth.caller(None, None).is_none());
    }

    #[test]
    fn a_generated_token_is_long_and_random() {
        let (a, b) = (Auth::new(None), Auth::new(Some("  ".into())));
        assert_eq!(a.token.len(), 64);
        assert_ne!(a.token, b.token);
    }
}
