//! The streams Kaiku keeps and the subjects inside them. File storage with no age or count
//! limit: the log is the record.

use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};

pub const SURVEYS_STREAM: &str = "KAIKU_SURVEYS";
pub const RESPONSES_STREAM: &str = "KAIKU_RESPONSES";
/// Append-only record of admin actions, exports and refused requests (`kaiku.events.v1.AuditEvent`).
pub const AUDIT_STREAM: &str = "KAIKU_AUDIT";
/// Feedback-handling cases (`kaiku.handling.v1.CaseEvent`), owned by feedback-handling.
pub const HANDLING_STREAM: &str = "KAIKU_HANDLING";

/// Header naming the event kind, so tools can read the stream without decoding payloads.
/// Core NATS (not JetStream) subject on which the projection announces each committed batch as
/// a `kaiku.events.v1.ProjectionProgress`; analytics listens to serve read-your-writes. Lost
/// announcements cost only latency: the checkpoint table is the record.
pub const PROJECTION_PROGRESS_SUBJECT: &str = "kaiku.projection.progress";

pub const EVENT_TYPE_HEADER: &str = "Kaiku-Event-Type";

/// Settings shared by the streams, from the owning service's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Nats-Msg-Id de-duplication window. The read models de-duplicate too, since this window
    /// does not survive every server restart.
    pub duplicate_window: Duration,
    /// 1 locally, 3 in a cluster (requires nats-server >= 2.11).
    pub replicas: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(24 * 60 * 60),
            replicas: 1,
        }
    }
}

pub fn survey_subject(survey_id: impl std::fmt::Display) -> String {
    format!("kaiku.survey.{survey_id}")
}

pub fn unit_subject(unit_id: impl std::fmt::Display) -> String {
    format!("kaiku.unit.{unit_id}")
}

/// A unit's results reviews (development targets); on KAIKU_SURVEYS beside the unit itself.
pub fn review_subject(unit_id: impl std::fmt::Display) -> String {
    format!("kaiku.review.{unit_id}")
}

pub fn response_subject(survey_id: impl std::fmt::Display) -> String {
    format!("kaiku.response.{survey_id}")
}

/// Where one service's audit events go; each service may publish only to its own.
pub fn case_subject(case_id: impl std::fmt::Display) -> String {
    format!("kaiku.case.{case_id}")
}

pub fn audit_subject(service: &str) -> String {
    format!("kaiku.audit.{service}")
}

/// Most bytes KAIKU_AUDIT keeps; beyond it new audit events are refused (and logged by the
/// services) rather than the disk filled: refused calls are audited, and anyone can make those.
/// About five million events.
pub const AUDIT_MAX_BYTES: i64 = 1024 * 1024 * 1024;

/// KAIKU_AUDIT: like the record streams, but bounded (AUDIT_MAX_BYTES, new ones refused when
/// full), and the server itself refuses to delete or purge messages (`deny_delete`,
/// `deny_purge`; they cannot be switched off once set).
pub fn audit_stream_config(settings: StreamSettings) -> Config {
    Config {
        deny_delete: true,
        deny_purge: true,
        max_bytes: AUDIT_MAX_BYTES,
        ..record_stream(
            AUDIT_STREAM,
            vec!["kaiku.audit.*".into()],
            "Audit: admin actions, exports and refused requests, without content",
            settings,
        )
    }
}

pub fn surveys_stream_config(settings: StreamSettings) -> Config {
    record_stream(
        SURVEYS_STREAM,
        vec![
            "kaiku.survey.*".into(),
            "kaiku.unit.*".into(),
            "kaiku.review.*".into(),
        ],
        "Survey, organisation-unit and results-review aggregates",
        settings,
    )
}

pub fn responses_stream_config(settings: StreamSettings) -> Config {
    record_stream(
        RESPONSES_STREAM,
        vec!["kaiku.response.*".into()],
        "Submitted responses and their redactions",
        settings,
    )
}

pub fn handling_stream_config(settings: StreamSettings) -> Config {
    record_stream(
        HANDLING_STREAM,
        vec!["kaiku.case.*".into()],
        "Feedback-handling cases (content sealed, erased after retention)",
        settings,
    )
}

fn record_stream(
    name: &str,
    subjects: Vec<String>,
    description: &str,
    settings: StreamSettings,
) -> Config {
    Config {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        subjects,
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        // No age, count or size limit: the stream is the system of record.
        max_age: Duration::ZERO,
        max_messages: -1,
        max_bytes: -1,
        // Refuse rather than drop old events if a limit is ever configured by hand.
        discard: DiscardPolicy::New,
        duplicate_window: settings.duplicate_window,
        num_replicas: settings.replicas,
        allow_direct: true,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_hold_the_aggregate_id() {
        assert_eq!(survey_subject("abc"), "kaiku.survey.abc");
        assert_eq!(unit_subject("school-1"), "kaiku.unit.school-1");
        assert_eq!(response_subject("abc"), "kaiku.response.abc");
    }

    #[test]
    fn record_streams_keep_everything_on_file() {
        let config = responses_stream_config(StreamSettings::default());
        assert_eq!(config.storage, StorageType::File);
        assert_eq!(config.max_age, Duration::ZERO);
        assert_eq!(config.max_messages, -1);
        assert_eq!(config.duplicate_window, Duration::from_secs(86_400));
    }
}
