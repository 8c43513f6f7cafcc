//! What the projection reports per stream: how far behind the stream it is, where its
//! checkpoint stands, each batch's size and write time, and how many events went to the
//! dead-letter table. Served on `KAIKU_METRICS_ADDR` with the health server's call metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabel {
    stream: &'static str,
}

#[derive(Clone)]
pub struct ProjectionMetrics {
    lag: Family<StreamLabel, Gauge>,
    checkpoint: Family<StreamLabel, Gauge>,
    batch_events: Family<StreamLabel, Histogram>,
    batch_seconds: Family<StreamLabel, Histogram>,
    dead_letters: Family<StreamLabel, Counter>,
}

fn batch_size_histogram() -> Histogram {
    // 1 to about 65,000 events (the largest batch is 50,000).
    Histogram::new(exponential_buckets(1.0, 4.0, 9))
}

impl Default for ProjectionMetrics {
    fn default() -> Self {
        Self {
            lag: Family::default(),
            checkpoint: Family::default(),
            batch_events: Family::new_with_constructor(batch_size_histogram),
            batch_seconds: Family::new_with_constructor(kaiku_grpc::latency_histogram),
            dead_letters: Family::default(),
        }
    }
}

impl ProjectionMetrics {
    pub fn registered(metrics: &kaiku_grpc::Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "projection_lag_events",
            "Events in the stream after the last one applied (0 = caught up)",
            this.lag.clone(),
        );
        metrics.register(
            "projection_checkpoint_sequence",
            "Stream sequence of the last committed batch",
            this.checkpoint.clone(),
        );
        metrics.register(
            "projection_batch_events",
            "Events per committed batch",
            this.batch_events.clone(),
        );
        metrics.register(
            "projection_batch_duration_seconds",
            "Time to write and commit one batch",
            this.batch_seconds.clone(),
        );
        metrics.register(
            "projection_dead_letters",
            "Events the projection could not apply, kept in the dead_letter table",
            this.dead_letters.clone(),
        );
        this
    }

    /// A batch committed: `events` applied up to `checkpoint`, `pending` still to come.
    pub fn committed(
        &self,
        stream: &'static str,
        events: usize,
        dead_lettered: u64,
        checkpoint: u64,
        pending: u64,
        seconds: f64,
    ) {
        let label = StreamLabel { stream };
        self.batch_events
            .get_or_create(&label)
            .observe(events as f64);
        self.batch_seconds.get_or_create(&label).observe(seconds);
        self.dead_letters
            .get_or_create(&label)
            .inc_by(dead_lettered);
        self.checkpoint
            .get_or_create(&label)
            .set(i64::try_from(checkpoint).unwrap_or(i64::MAX));
        self.lag
            .get_or_create(&label)
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }
}
