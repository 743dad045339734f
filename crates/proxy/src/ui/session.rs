//! Reviewers' sessions and sign-ins in progress, in memory and bounded. A session id is 32
//! random bytes in an `HttpOnly`, `SameSite=Lax` cookie scoped to `/ui`; the map holds only
//! its SHA-256, so a memory dump yields no usable cookie. Every form carries the session's CSRF
//! token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE: &str = "sluis_ui";
/// Most sessions held at once; the oldest is dropped beyond it.
const MAX_SESSIONS: usize = 10_000;
/// Most sign-ins in progress; beyond it new ones are refused until old ones expire.
const MAX_PENDING: usize = 1_000;
/// How long a sign-in may take at the IdP.
pub const PENDING_TTL: Duration = Duration::from_secs(600);

/// A signed-in reviewer.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who, as recorded in the log.
    pub user: String,
    /// Display name, when the IdP gave one.
    pub name: Option<String>,
    /// The configured issuer name (`demo` for the demo's sign-in).
    pub issuer: String,
    pub roles: Vec<String>,
    /// May see who an alert is about and its evidence.
    pub identities: bool,
    pub csrf: String,
    pub expires: Instant,
}

/// A sign-in between the redirect to the IdP and the callback.
#[derive(Debug, Clone)]
pub struct Pending {
    pub nonce: String,
    pub verifier: String,
    /// Where to go after signing in (a `/ui/` path).
    pub next: String,
    pub started: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// 32 random bytes from the operating system, URL-safe base64 without padding.
pub fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(b64url(&b))
}

/// URL-safe base64 without padding (RFC 4648 §5), as PKCE and OIDC use it.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Stores a session and returns its cookie value; `None` when no randomness was available.
    pub fn create(&self, session: Session) -> Option<String> {
        let id = random_token()?;
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(key(&id), session);
        metrics::gauge!("sluis_ui_sessions").set(map.len() as f64);
        Some(id)
    }

    /// The live session of a cookie value.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(id);
        match map.get(&k) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, id: &str) {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&key(id));
        metrics::gauge!("sluis_ui_sessions").set(map.len() as f64);
    }

    /// Keeps a sign-in in progress under its `state`; false when too many are in progress.
    pub fn begin(&self, state: String, pending: Pending) -> bool {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, p| p.started.elapsed() < PENDING_TTL);
        if map.len() >= MAX_PENDING {
            return false;
        }
        map.insert(state, pending);
        true
    }

    /// Takes the sign-in of a `state` (once: a replayed callback finds nothing).
    pub fn take(&self, state: &str) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(state)
            .filter(|p| p.started.elapsed() < PENDING_TTL)
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value for a session.
pub fn set_cookie(id: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/ui; HttpOnly; SameSite=Lax; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/ui; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(b"foob"), "Zm9vYg");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn pkce_challenge_is_the_unpadded_base64url_of_the_verifiers_sha256() {
        // Computed independently (Python: urlsafe_b64encode(sha256(v)).rstrip('=')).
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K1uhbgZ4uB4wI-vi5Mk2pD6-rk"),
            "y9x002mNeaF1TTe1gq6_lsdvgPQZ_bVZHChDRtygnwU"
        );
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only_and_ends() {
        let s = Sessions::default();
        let id = s
            .create(Session {
                user: "fg".into(),
                name: None,
                issuer: "idp".into(),
                roles: vec![],
                identities: false,
                csrf: "c".into(),
                expires: Instant::now() + Duration::from_secs(60),
            })
            .unwrap();
        assert_eq!(s.get(&id).unwrap().user, "fg");
        assert!(s.get("not-a-session").is_none());
        s.end(&id);
        assert!(s.get(&id).is_none());
    }

    #[test]
    fn a_sign_in_state_is_taken_once() {
        let s = Sessions::default();
        assert!(s.begin(
            "st".into(),
            Pending {
                nonce: "n".into(),
                verifier: "v".into(),
                next: "/ui/".into(),
                started: Instant::now(),
            }
        ));
        assert!(s.take("st").is_some());
        assert!(s.take("st").is_none());
    }

    #[test]
    fn cookies_are_read_by_name() {
        assert_eq!(cookie("a=1; sluis_ui=xyz; b=2", COOKIE), Some("xyz"));
        assert_eq!(cookie("a=1", COOKIE), None);
    }
}
