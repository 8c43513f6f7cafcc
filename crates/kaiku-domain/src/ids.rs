//! Typed identifiers. Each parses from the wire once, naming the field when it is malformed.

use std::fmt;

use uuid::Uuid;

use crate::Violations;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses a UUID given in `field`; an empty or malformed value is a violation.
            pub fn parse(field: &str, value: &str) -> Result<Self, Violations> {
                if value.is_empty() {
                    return Err(Violations::single(field, "is required"));
                }
                Uuid::parse_str(value)
                    .map(Self)
                    .map_err(|_| Violations::single(field, format!("must be a UUID, got {value:?}")))
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lower case: also the form used in NATS subjects.
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A survey, the aggregate behind `kaiku.survey.<id>`.
    SurveyId
);
uuid_id!(
    /// A channel adapter's idempotency key for one response; random, never a person's identifier.
    SubmissionId
);

/// A question's stable key: lower-case ASCII letters, digits and underscores, 1-64 characters,
/// starting with a letter. It stays the same across versions so answers compare across them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuestionKey(String);

impl QuestionKey {
    pub fn parse(field: &str, value: &str) -> Result<Self, Violations> {
        if is_valid_key(value) {
            Ok(Self(value.to_owned()))
        } else if value.is_empty() {
            Err(Violations::single(field, "is required"))
        } else {
            Err(Violations::single(
                field,
                format!(
                    "must be 1-64 characters of a-z, 0-9 and _, starting with a letter, got {value:?}"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QuestionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key rule shared by question keys, choice options, professional groups and age bands.
pub fn is_valid_key(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some('a'..='z'))
        && value.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// Unit ids are chosen by the county (e.g. "demo-school-1") and appear in NATS subjects, so they
/// are limited to characters that are safe there.
pub fn is_valid_unit_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_survey_id_must_be_a_uuid() {
        let err = SurveyId::parse("survey_id", "not-a-uuid").expect_err("must fail");
        assert_eq!(err.fields(), vec!["survey_id"]);
        assert!(SurveyId::parse("survey_id", "").is_err());
        let id = SurveyId::new_random();
        assert_eq!(
            SurveyId::parse("survey_id", &id.to_string()).expect("round trip"),
            id
        );
    }

    #[test]
    fn question_keys_are_lower_case_identifiers() {
        assert!(QuestionKey::parse("k", "nps").is_ok());
        assert!(QuestionKey::parse("k", "open_feedback_2").is_ok());
        assert!(QuestionKey::parse("k", "NPS").is_err());
        assert!(QuestionKey::parse("k", "1nps").is_err());
        assert!(QuestionKey::parse("k", "").is_err());
        assert!(QuestionKey::parse("k", &"a".repeat(65)).is_err());
    }

    #[test]
    fn unit_ids_are_subject_safe() {
        assert!(is_valid_unit_id("demo-school-1"));
        assert!(!is_valid_unit_id("a.b"));
        assert!(!is_valid_unit_id("a b"));
        assert!(!is_valid_unit_id(""));
    }
}
