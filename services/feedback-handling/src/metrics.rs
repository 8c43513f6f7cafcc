//! What feedback-handling counts: cases opened, system actions (reminders, escalations,
//! erasures) and notices sent or failed. Served with the gRPC call metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    /// opened, reminded, escalated, erased
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NoticeLabels {
    /// sent or failed
    outcome: &'static str,
}

#[derive(Clone, Default)]
pub struct HandlingMetrics {
    actions: Family<ActionLabels, Counter>,
    notices: Family<NoticeLabels, Counter>,
}

impl HandlingMetrics {
    pub fn registered(metrics: &kaiku_grpc::Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "case_actions",
            "Cases opened and the service's own actions on them (reminded, escalated, erased)",
            this.actions.clone(),
        );
        metrics.register(
            "case_notices",
            "E-mail notices to handlers by outcome (sent, failed)",
            this.notices.clone(),
        );
        this
    }

    pub fn action(&self, action: &'static str) {
        self.actions.get_or_create(&ActionLabels { action }).inc();
    }

    pub fn notice(&self, sent: bool) {
        let outcome = if sent { "sent" } else { "failed" };
        self.notices.get_or_create(&NoticeLabels { outcome }).inc();
    }
}
