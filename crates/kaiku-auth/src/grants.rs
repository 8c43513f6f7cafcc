//! What a caller may do: scopes, and the surveys, channels and unit subtrees they are bound to.
//! Pure: the layer and the services ask these questions, nothing here touches the network.

use serde::{Deserialize, Serialize};

/// The four things a token can allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Create and publish surveys, manage units (county customer-experience staff).
    SurveyAdmin,
    /// Submit answers (channel adapters), for the surveys and channels in the grant.
    Submit,
    /// Read figures and open feedback of the unit subtrees in the grant (managers).
    AnalyticsRead,
    /// Export responses (CSV) of the unit subtrees in the grant.
    Export,
    /// Handle feedback cases (read their content, reply, close) of the unit subtrees in the grant.
    Handle,
}

impl Scope {
    /// The name in a JWT's `scope` claim and in API key files.
    pub fn claim(self) -> &'static str {
        match self {
            Scope::SurveyAdmin => "kaiku.survey-admin",
            Scope::Submit => "kaiku.submit",
            Scope::AnalyticsRead => "kaiku.analytics-read",
            Scope::Export => "kaiku.export",
            Scope::Handle => "kaiku.handle",
        }
    }

    pub fn from_claim(claim: &str) -> Option<Scope> {
        [
            Scope::SurveyAdmin,
            Scope::Submit,
            Scope::AnalyticsRead,
            Scope::Export,
            Scope::Handle,
        ]
        .into_iter()
        .find(|s| s.claim() == claim)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject (a person's id at the identity provider, or an API key's name).
    pub subject: String,
    pub scopes: Vec<Scope>,
    /// Surveys the caller may submit to; empty = any.
    pub surveys: Vec<String>,
    /// Channels the caller may submit through (codes: qr, kiosk, ...); empty = any.
    pub channels: Vec<String>,
    /// Unit subtrees the caller may read; empty = the whole organisation (county level).
    pub unit_subtrees: Vec<String>,
}

/// Why a call is refused after authentication (PERMISSION_DENIED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("the token lacks the scope {}", .0.claim())]
    MissingScope(Scope),
    #[error("the token may not submit to survey {0}")]
    Survey(String),
    #[error("the token may not submit through channel {0}")]
    Channel(String),
    #[error("the token may not read unit {0}")]
    Unit(String),
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(Denied::MissingScope(scope))
        }
    }

    /// May this caller submit an answer to `survey_id` through `channel`?
    pub fn may_submit(&self, survey_id: &str, channel: &str) -> Result<(), Denied> {
        self.require(Scope::Submit)?;
        if !self.surveys.is_empty() && !self.surveys.iter().any(|s| s == survey_id) {
            return Err(Denied::Survey(survey_id.to_owned()));
        }
        if !self.channels.is_empty() && !self.channels.iter().any(|c| c == channel) {
            return Err(Denied::Channel(channel.to_owned()));
        }
        Ok(())
    }

    /// True when the caller reads the whole organisation.
    pub fn reads_everything(&self) -> bool {
        self.unit_subtrees.is_empty()
    }

    /// May this caller read `unit`, whose lineage (the unit itself, then its parent, up to the
    /// county) is `lineage`? A unit is readable when it or an ancestor is a granted subtree.
    pub fn may_read_unit(&self, unit: &str, lineage: &[&str]) -> Result<(), Denied> {
        if self.reads_everything()
            || lineage
                .iter()
                .any(|u| self.unit_subtrees.iter().any(|g| g == u))
        {
            Ok(())
        } else {
            Err(Denied::Unit(unit.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            subject: "web-form".into(),
            scopes: vec![Scope::Submit],
            surveys: vec!["s1".into()],
            channels: vec!["qr".into(), "kiosk".into()],
            unit_subtrees: vec!["area-a".into()],
        }
    }

    #[test]
    fn submit_grants_bind_surveys_and_channels() {
        let p = principal();
        assert_eq!(p.may_submit("s1", "qr"), Ok(()));
        assert_eq!(p.may_submit("s2", "qr"), Err(Denied::Survey("s2".into())));
        assert_eq!(
            p.may_submit("s1", "sms"),
            Err(Denied::Channel("sms".into()))
        );
        let any = Principal {
            surveys: vec![],
            channels: vec![],
            ..p.clone()
        };
        assert_eq!(any.may_submit("s9", "paper"), Ok(()));
        let reader = Principal {
            scopes: vec![Scope::AnalyticsRead],
            ..p
        };
        assert_eq!(
            reader.may_submit("s1", "qr"),
            Err(Denied::MissingScope(Scope::Submit))
        );
    }

    #[test]
    fn a_subtree_grant_reads_the_subtree_and_nothing_else() {
        let p = principal();
        assert_eq!(
            p.may_read_unit("school-1", &["school-1", "area-a", "county"]),
            Ok(())
        );
        assert_eq!(p.may_read_unit("area-a", &["area-a", "county"]), Ok(()));
        assert_eq!(
            p.may_read_unit("school-9", &["school-9", "area-b", "county"]),
            Err(Denied::Unit("school-9".into()))
        );
        assert_eq!(
            p.may_read_unit("county", &["county"]),
            Err(Denied::Unit("county".into()))
        );
        let county = Principal {
            unit_subtrees: vec![],
            ..p
        };
        assert_eq!(county.may_read_unit("school-9", &["school-9"]), Ok(()));
    }

    #[test]
    fn scope_claims_round_trip() {
        for scope in [
            Scope::SurveyAdmin,
            Scope::Submit,
            Scope::AnalyticsRead,
            Scope::Export,
            Scope::Handle,
        ] {
            assert_eq!(Scope::from_claim(scope.claim()), Some(scope));
        }
        assert_eq!(Scope::from_claim("admin"), None);
    }
}
