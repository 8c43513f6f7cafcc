//! Staff sessions, kept in this process: a random id in an HttpOnly, SameSite=Strict cookie,
//! an idle and an absolute lifetime, and a per-session token every form posts back (CSRF). A
//! restart signs everyone out; several console replicas need sticky sessions (ADR 0012).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::roles::StaffRole;

pub const COOKIE: &str = "kaiku_console_session";

/// Who is signed in, and what their service tokens carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Stable id: the local username, or the identity provider's `sub`.
    pub subject: String,
    pub name: String,
    pub role: StaffRole,
    /// Unit subtrees they may see; empty = the whole county.
    pub units: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub staff: Staff,
    /// Posted back by every form of the session.
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

#[derive(Clone)]
pub struct Sessions {
    inner: Arc<RwLock<HashMap<String, Session>>>,
    lifetimes: Lifetimes,
}

/// 244 random bits (two v4 UUIDs, from the OS's generator), as 64 hex digits.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Sessions {
    pub fn new(lifetimes: Lifetimes) -> Sessions {
        Sessions {
            inner: Arc::default(),
            lifetimes,
        }
    }

    /// Starts a session; returns its id for the cookie.
    pub fn start(&self, staff: Staff) -> String {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            staff,
            csrf: random_token(),
            created: now,
            last_seen: now,
        };
        let mut sessions = self.inner.write().unwrap_or_else(|p| p.into_inner());
        // Expired sessions go whenever one starts, so the map cannot grow without bound.
        let lifetimes = self.lifetimes;
        sessions.retain(|_, s| live(s, now, lifetimes));
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session behind `id`, its idle time restarted.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut sessions = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let session = sessions.get_mut(id)?;
        if !live(session, now, self.lifetimes) {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    pub fn end(&self, id: &str) {
        let mut sessions = self.inner.write().unwrap_or_else(|p| p.into_inner());
        sessions.remove(id);
    }
}

fn live(session: &Session, now: Instant, lifetimes: Lifetimes) -> bool {
    now.duration_since(session.last_seen) < lifetimes.idle
        && now.duration_since(session.created) < lifetimes.absolute
}

/// Equal without telling, by timing, how much was equal.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Staff {
        Staff {
            subject: "anna".into(),
            name: "Anna".into(),
            role: StaffRole::UnitManager,
            units: vec!["school-1".into()],
        }
    }

    #[test]
    fn a_session_lives_until_it_is_ended() {
        let sessions = Sessions::new(Lifetimes {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(600),
        });
        let id = sessions.start(staff());
        assert_eq!(sessions.get(&id).map(|s| s.staff), Some(staff()));
        assert!(sessions.get("other").is_none());
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn an_idle_session_expires() {
        let sessions = Sessions::new(Lifetimes {
            idle: Duration::ZERO,
            absolute: Duration::from_secs(600),
        });
        let id = sessions.start(staff());
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }
}
