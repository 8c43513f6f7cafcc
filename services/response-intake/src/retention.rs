//! The retention sweep: erases the open texts of answers past their survey's retention through
//! the same path as `RedactResponse` (a `ResponseRedacted` event, then secure erase of the
//! original), so a rebuild keeps the erasure (ADR 0019).
//!
//! Each survey's subject (`kaiku.response.<survey_id>`) is walked in stream order from a cursor:
//! everything before it has been judged. Events follow the order intake received them in, so
//! the first event not yet due ends the walk, and the survey is skipped until that event falls
//! due (unless its retention changes). A pass reads and erases at most a bounded number of
//! events; a pass that stopped at its bound is followed by the next one after a short pause
//! instead of the interval, so a backlog (the first pass after a start, or after retention was
//! shortened) drains steadily without holding intake's NATS connection or CPU for long.
//!
//! The cursors live in memory: after a restart the first passes walk each subject from its
//! start again. That is idempotent (only texts past retention are erased, and erased events
//! are gone from the stream), and its cost is measured in ADR 0019.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kaiku_domain::SurveyId;
use kaiku_domain::erasure::ErasureTarget;
use kaiku_domain::retention::{Verdict, judge, open_text_months};
use kaiku_eventstore::{EventStore, EventStoreError, RESPONSES_STREAM, response_subject};
use kaiku_grpc::Shutdown;
use kaiku_proto::events::v1::{ResponseEvent, response_event::Kind};
use kaiku_proto::intake::v1::ErasureReason;
use prost::Message;
use tracing::Instrument;

use crate::catalogue_follower::CatalogueHandle;
use crate::{Intake, IntakeError, IntakeMetrics};

/// The audit record's name for what the sweep does (no gRPC method does it).
pub const SWEEP_ACTION: &str = "retention-sweep";

/// Events judged per erasure a pass may make: most events need no erasure (no open text, or
/// not due), and reading one costs a fraction of what an erasure's two acknowledged writes do.
const READS_PER_ERASURE: usize = 50;

/// Most events read from one subject at once.
const PAGE: usize = 1000;

/// Where the sweep gets the time from: the system clock, later by an offset in tests and drills.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, `offset` later (zero in production).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    pub offset: chrono::Duration,
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[derive(Clone)]
pub struct RetentionSettings {
    /// Months open texts are kept when a survey sets none (the county's default).
    pub county_default_months: u32,
    /// Time between passes that finished their work.
    pub interval: Duration,
    /// Most responses one pass erases; it reads at most READS_PER_ERASURE times as many.
    pub pass_limit: usize,
    pub clock: Arc<dyn Clock>,
}

/// Where the walk of one survey's subject stands.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    /// The first sequence on the subject not yet judged.
    next: u64,
    /// Nothing from `next` on is due before this time, while the survey keeps these months.
    idle_until: Option<(DateTime<Utc>, u32)>,
}

impl Default for Cursor {
    fn default() -> Self {
        Self {
            next: 1,
            idle_until: None,
        }
    }
}

impl Cursor {
    fn idle(&self, months: u32, now: DateTime<Utc>) -> bool {
        matches!(self.idle_until, Some((until, m)) if m == months && now < until)
    }
}

/// What a pass may still do.
#[derive(Debug, Clone, Copy)]
struct Budget {
    reads: usize,
    erasures: usize,
}

impl Budget {
    fn spent(&self) -> bool {
        self.reads == 0 || self.erasures == 0
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub read: usize,
    pub erased: usize,
    /// False when the pass stopped at its bound with work left.
    pub complete: bool,
}

pub struct RetentionSweep {
    intake: Intake,
    catalogue: CatalogueHandle,
    store: EventStore,
    settings: RetentionSettings,
    metrics: IntakeMetrics,
    cursors: HashMap<SurveyId, Cursor>,
    /// Where the next pass starts in the survey list, so one survey's backlog cannot keep the
    /// others waiting pass after pass.
    start_at: usize,
}

impl RetentionSweep {
    pub fn new(
        intake: Intake,
        catalogue: CatalogueHandle,
        store: EventStore,
        settings: RetentionSettings,
        metrics: IntakeMetrics,
    ) -> Self {
        Self {
            intake,
            catalogue,
            store,
            settings,
            metrics,
            cursors: HashMap::new(),
            start_at: 0,
        }
    }

    /// Passes until shutdown: the interval after a finished pass, at most a second after one
    /// that stopped at its bound or failed.
    pub async fn run(mut self, shutdown: Shutdown) {
        let busy_pause = self.settings.interval.min(Duration::from_secs(1));
        loop {
            let pause = match self
                .pass()
                .instrument(tracing::info_span!("retention.sweep"))
                .await
            {
                Ok(report) if report.complete => self.settings.interval,
                Ok(_) => busy_pause,
                Err(error) => {
                    tracing::warn!(%error, "retention sweep interrupted; trying again");
                    busy_pause
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.wait() => return,
            }
        }
    }

    /// One bounded pass over every survey that asks open questions.
    pub async fn pass(&mut self) -> Result<PassReport, IntakeError> {
        // A catalogue still loading could hold an older version of a survey whose newer one
        // keeps its texts longer: judge only with everything KAIKU_SURVEYS holds.
        self.catalogue.catch_up().await?;
        let now = self.settings.clock.now();
        let limit = self.settings.pass_limit.max(1);
        let mut budget = Budget {
            reads: limit.saturating_mul(READS_PER_ERASURE),
            erasures: limit,
        };
        let policies: Vec<_> = self
            .catalogue
            .retention_policies()
            .into_iter()
            .filter(|p| p.asks_open_text)
            .collect();
        let mut report = PassReport {
            complete: true,
            ..PassReport::default()
        };
        let count = policies.len();
        for i in 0..count {
            let index = (self.start_at + i) % count;
            let policy = &policies[index];
            let months = open_text_months(
                policy.retention.as_ref(),
                self.settings.county_default_months,
            );
            let outcome = self
                .sweep_survey(policy.survey_id, months, now, &mut budget)
                .await;
            report.read += outcome.read;
            report.erased += outcome.erased.len();
            if !outcome.erased.is_empty() {
                self.record(policy.survey_id, outcome.erased).await;
            }
            if let Some(error) = outcome.error {
                self.metrics.retention_pass(report.read, report.erased);
                return Err(error);
            }
            if budget.spent() {
                report.complete = false;
                // The survey that used the budget up goes first next time: it may have more.
                self.start_at = index;
                break;
            }
        }
        self.metrics.retention_pass(report.read, report.erased);
        if report.erased > 0 || !report.complete {
            tracing::info!(
                read = report.read,
                erased = report.erased,
                complete = report.complete,
                "retention pass"
            );
        }
        Ok(report)
    }

    /// Walks one survey's subject from its cursor until the first event not yet due, the end of
    /// the subject or the end of the budget.
    async fn sweep_survey(
        &mut self,
        survey_id: SurveyId,
        months: u32,
        now: DateTime<Utc>,
        budget: &mut Budget,
    ) -> SurveyOutcome {
        let mut outcome = SurveyOutcome::default();
        let mut cursor = self.cursors.get(&survey_id).cloned().unwrap_or_default();
        if cursor.idle(months, now) {
            return outcome;
        }
        cursor.idle_until = None;
        let subject = response_subject(survey_id);
        'walk: while !budget.spent() {
            let asked = PAGE.min(budget.reads);
            let page = match self
                .store
                .read_page(RESPONSES_STREAM, &subject, cursor.next, asked)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    outcome.error = Some(error.into());
                    break;
                }
            };
            if page.is_empty() {
                break;
            }
            let caught_up = page.len() < asked;
            budget.reads = budget.reads.saturating_sub(page.len());
            outcome.read += page.len();
            for stored in page {
                let sequence = stored.stream_sequence;
                let event = match ResponseEvent::decode(stored.payload.as_ref()) {
                    Ok(event) => event,
                    Err(error) => {
                        // Nothing this build can judge; the projection has dead-lettered it.
                        tracing::error!(sequence, %error, "retention: undecodable response event left");
                        cursor.next = sequence + 1;
                        continue;
                    }
                };
                match judge(&event, months, now) {
                    Verdict::NotYetDue { due_at } => {
                        cursor.idle_until = Some((due_at, months));
                        break 'walk;
                    }
                    Verdict::Settled => cursor.next = sequence + 1,
                    Verdict::Erase => {
                        if budget.erasures == 0 {
                            break 'walk;
                        }
                        match self.erase(survey_id, sequence, event).await {
                            Ok(erased) => {
                                budget.erasures -= 1;
                                if erased {
                                    outcome.erased.push(sequence);
                                }
                                cursor.next = sequence + 1;
                            }
                            Err(error) => {
                                // The cursor stays: the next pass tries this one again.
                                outcome.error = Some(error);
                                break 'walk;
                            }
                        }
                    }
                }
            }
            if caught_up {
                break;
            }
        }
        self.cursors.insert(survey_id, cursor);
        outcome
    }

    /// Erases one response's texts; false when someone else erased it first.
    async fn erase(
        &self,
        survey_id: SurveyId,
        sequence: u64,
        event: ResponseEvent,
    ) -> Result<bool, IntakeError> {
        let Some(Kind::Submitted(submitted)) = event.kind else {
            return Ok(false);
        };
        let target = ErasureTarget {
            survey_id,
            sequence,
            reason: ErasureReason::Retention,
        };
        match self.intake.erase_texts(&target, &submitted).await {
            Ok(_) => Ok(true),
            // Someone erased it between our read and our delete (a manager's request, another
            // replica's sweep): the redaction is recorded once (same message id), the text is
            // gone either way, and the erasure is on record where the delete succeeded.
            Err(IntakeError::Store(EventStoreError::NotFound { .. })) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// One audit event per survey and pass: the erasures' code and sequences, never text.
    async fn record(&self, survey_id: SurveyId, sequences: Vec<u64>) {
        let count = sequences.len();
        let recorded = kaiku_grpc::record_sweep(
            &self.store,
            "response-intake",
            SWEEP_ACTION,
            &survey_id.to_string(),
            kaiku_grpc::Erasure {
                reason: ErasureReason::Retention,
                response_sequences: sequences,
            },
        )
        .await;
        if let Err(error) = recorded {
            // As for a call: the erasure stands, its record goes to the log instead.
            tracing::error!(%error, %survey_id, count, "retention erasures not audited");
        }
    }
}

#[derive(Default)]
struct SurveyOutcome {
    read: usize,
    erased: Vec<u64>,
    error: Option<IntakeError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    #[test]
    fn a_cursor_is_idle_until_its_first_waiting_answer_falls_due() {
        let cursor = Cursor {
            next: 10,
            idle_until: Some((at("2026-03-15T10:00:00Z"), 24)),
        };
        assert!(cursor.idle(24, at("2026-03-15T09:59:59Z")));
        assert!(!cursor.idle(24, at("2026-03-15T10:00:00Z")));
        // A survey whose retention changed is walked again at once.
        assert!(!cursor.idle(12, at("2026-01-01T00:00:00Z")));
        assert!(!Cursor::default().idle(24, at("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn a_budget_is_spent_when_either_reads_or_erasures_run_out() {
        assert!(
            !Budget {
                reads: 1,
                erasures: 1
            }
            .spent()
        );
        assert!(
            Budget {
                reads: 0,
                erasures: 5
            }
            .spent()
        );
        assert!(
            Budget {
                reads: 5,
                erasures: 0
            }
            .spent()
        );
    }

    #[test]
    fn the_clock_runs_its_offset_ahead() {
        let clock = SystemClock {
            offset: chrono::Duration::days(700),
        };
        let ahead = clock.now() - Utc::now();
        assert!(ahead >= chrono::Duration::days(699), "{ahead}");
    }
}
