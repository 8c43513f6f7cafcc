//! What intake counts: submissions by outcome and reason, how long JetStream takes to
//! acknowledge an append, and what the retention sweep read and erased. Served with the gRPC
//! call metrics on `KAIKU_METRICS_ADDR`.

use kaiku_proto::intake::v1::SubmitResponseReply;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tonic::Status;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubmissionLabels {
    /// accepted, duplicate (acknowledged again, stored once) or rejected.
    outcome: &'static str,
    /// The gRPC status code of a rejection in snake case (invalid_argument, ...); empty else.
    reason: String,
}

#[derive(Clone)]
pub struct IntakeMetrics {
    submissions: Family<SubmissionLabels, Counter>,
    publish: Histogram,
    retention_read: Counter,
    retention_erased: Counter,
}

impl Default for IntakeMetrics {
    fn default() -> Self {
        Self {
            submissions: Family::default(),
            publish: kaiku_grpc::latency_histogram(),
            retention_read: Counter::default(),
            retention_erased: Counter::default(),
        }
    }
}

impl IntakeMetrics {
    pub fn registered(metrics: &kaiku_grpc::Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "submissions",
            "Submissions by outcome (accepted, duplicate, rejected) and rejection reason",
            this.submissions.clone(),
        );
        metrics.register(
            "publish_duration_seconds",
            "Time from appending a response to JetStream's acknowledgement",
            this.publish.clone(),
        );
        metrics.register(
            "retention_read",
            "Response events the retention sweep read to judge them",
            this.retention_read.clone(),
        );
        metrics.register(
            "retention_erasures",
            "Responses whose open texts the retention sweep erased",
            this.retention_erased.clone(),
        );
        this
    }

    /// One retention pass: events read and responses erased.
    pub fn retention_pass(&self, read: usize, erased: usize) {
        self.retention_read.inc_by(read as u64);
        self.retention_erased.inc_by(erased as u64);
    }

    pub fn record(&self, result: &Result<SubmitResponseReply, Status>) {
        let labels = match result {
            Ok(reply) if reply.duplicate => SubmissionLabels {
                outcome: "duplicate",
                reason: String::new(),
            },
            Ok(_) => SubmissionLabels {
                outcome: "accepted",
                reason: String::new(),
            },
            Err(status) => SubmissionLabels {
                outcome: "rejected",
                reason: snake_case(&format!("{:?}", status.code())),
            },
        };
        self.submissions.get_or_create(&labels).inc();
    }

    pub fn observe_publish(&self, seconds: f64) {
        self.publish.observe(seconds);
    }
}

/// `InvalidArgument` -> `invalid_argument`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_snake_case_reasons() {
        assert_eq!(snake_case("InvalidArgument"), "invalid_argument");
        assert_eq!(snake_case("Ok"), "ok");
    }

    #[test]
    fn each_outcome_is_counted_under_its_labels() {
        let registry = kaiku_grpc::Metrics::new();
        let metrics = IntakeMetrics::registered(&registry);
        metrics.record(&Ok(SubmitResponseReply::default()));
        metrics.record(&Ok(SubmitResponseReply {
            duplicate: true,
            ..Default::default()
        }));
        metrics.record(&Err(Status::invalid_argument("x")));
        let text = registry.encode();
        for line in [
            r#"kaiku_submissions_total{outcome="accepted",reason=""} 1"#,
            r#"kaiku_submissions_total{outcome="duplicate",reason=""} 1"#,
            r#"kaiku_submissions_total{outcome="rejected",reason="invalid_argument"} 1"#,
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }
}
