//! Drives intake like many channel adapters at once: each worker is one adapter, submitting
//! unary calls or keeping a SubmitResponses stream with a window of unacknowledged items, on
//! a fixed schedule (open loop) or as fast as acknowledgements come (saturation).
//!
//! Latency is measured from when a submission was due, not from when it was sent: an intake
//! that stalls delays every submission scheduled behind the stall, and those delays count
//! (no coordinated omission). Failed submissions are retried with the same submission id while
//! `retry_for` lasts, as a channel adapter with a durable queue does; intake's duplicate
//! detection must then acknowledge each exactly once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kaiku_grpc::AuthorizedChannel;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{GetNpsRequest, ResponseFilter};
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::submit_responses_item::Outcome;
use kaiku_proto::intake::v1::{SubmitResponseReply, SubmitResponseRequest};
use kaiku_proto::survey::v1::RespondentRole;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::Code;
use uuid::Uuid;

use crate::LoadError;
use crate::record::Record;
use crate::stats::Percentiles;
use crate::workload::{Planned, Workload};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Unary,
    Streaming,
    /// This percentage of workers submit unary calls, the rest stream.
    Mixed {
        unary_percent: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this many submissions have been scheduled.
    Count(u64),
    /// After this long.
    After(Duration),
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub survey_id: String,
    pub unit_ids: Vec<String>,
    pub mode: Mode,
    /// Submissions per second over all workers; `None` submits as fast as they are
    /// acknowledged (saturation).
    pub rate: Option<f64>,
    pub workers: usize,
    pub stop: Stop,
    /// Keeps retrying a submission that failed for want of a working server (same submission
    /// id) for this long; `None` gives up on the first failure.
    pub retry_for: Option<Duration>,
    /// The first retry of a failed submission waits at least this long (to retry beyond
    /// intake's duplicate window, say); later ones back off from 20 ms to 0.5 s.
    pub retry_after: Duration,
    /// Unacknowledged submissions one stream may have.
    pub window: usize,
    pub seed: u64,
    /// Measures ack-to-visible freshness this often: the latest acknowledged sequence is
    /// asked of analytics with `min_sequence`, which answers once the read model has it.
    pub freshness_every: Option<Duration>,
}

impl RunConfig {
    pub fn new(survey_id: &str, unit_ids: &[String]) -> Self {
        Self {
            survey_id: survey_id.to_owned(),
            unit_ids: unit_ids.to_vec(),
            mode: Mode::Unary,
            rate: None,
            workers: 16,
            stop: Stop::Count(1_000),
            retry_for: None,
            retry_after: Duration::from_millis(20),
            window: 64,
            seed: 1,
            freshness_every: None,
        }
    }
}

#[derive(Clone)]
pub struct Clients {
    pub intake: ResponseIntakeClient<AuthorizedChannel>,
    /// For freshness probes; not needed otherwise.
    pub analytics: Option<AnalyticsClient<AuthorizedChannel>>,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub record: Record,
    /// Submissions scheduled (each counted once, however often retried).
    pub scheduled: u64,
    /// Calls or stream items sent again after a failure.
    pub retries: u64,
    /// Submissions given up on, by the last status code.
    pub refused: BTreeMap<String, u64>,
    pub elapsed: Duration,
    /// Due time to acknowledgement, acknowledged submissions only.
    pub latency: Percentiles,
    pub freshness: Percentiles,
    /// Freshness probes analytics did not answer (e.g. UNAVAILABLE: not caught up in its wait).
    pub freshness_failed: u64,
}

impl RunReport {
    pub fn acknowledged_per_second(&self) -> f64 {
        self.record.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
}

/// State the workers share.
struct Shared {
    config: RunConfig,
    started: Instant,
    record: Mutex<Record>,
    latencies: Mutex<Vec<Duration>>,
    refused: Mutex<BTreeMap<String, u64>>,
    scheduled: AtomicU64,
    retries: AtomicU64,
    acknowledged: AtomicU64,
    /// The latest acknowledgement, for freshness probes.
    last_ack: tokio::sync::watch::Sender<Option<(u64, Instant)>>,
    /// Set when every worker has finished.
    done: AtomicBool,
    /// Set by [`Running::stop`]: schedule nothing more.
    stopping: AtomicBool,
}

/// A run in progress.
pub struct Running {
    shared: Arc<Shared>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    prober: Option<tokio::task::JoinHandle<(Vec<Duration>, u64)>>,
}

impl Running {
    /// Submissions acknowledged so far (first acknowledgements).
    pub fn acknowledged(&self) -> u64 {
        self.shared.acknowledged.load(Ordering::Relaxed)
    }

    /// Replies that said "duplicate" so far: retries of submissions already stored.
    pub fn duplicate_replies(&self) -> u64 {
        lock(&self.shared.record).duplicate_replies()
    }

    /// Submissions acknowledged at two sequences so far (retried beyond the duplicate window).
    pub fn stored_twice(&self) -> usize {
        lock(&self.shared.record).stored_twice()
    }

    /// The highest sequence acknowledged so far.
    pub fn max_sequence(&self) -> u64 {
        lock(&self.shared.record).max_sequence()
    }

    /// Submissions given up on so far.
    pub fn refused(&self) -> u64 {
        lock(&self.shared.refused).values().sum()
    }

    /// Schedules nothing more; what is under way still finishes (and is retried as set).
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
    }

    /// Waits for every worker and returns what happened.
    pub async fn finish(self) -> Result<RunReport, LoadError> {
        for worker in self.workers {
            worker.await.map_err(|e| LoadError::Worker(e.to_string()))?;
        }
        let elapsed = self.shared.started.elapsed();
        // The prober ends once it has seen the last acknowledgement in analytics.
        self.shared.done.store(true, Ordering::Relaxed);
        let (mut freshness, freshness_failed) = match self.prober {
            Some(prober) => prober.await.map_err(|e| LoadError::Worker(e.to_string()))?,
            None => (Vec::new(), 0),
        };
        let shared = &self.shared;
        let take = |m: &Mutex<Vec<Duration>>| std::mem::take(&mut *lock(m));
        let mut latencies = take(&shared.latencies);
        Ok(RunReport {
            record: std::mem::take(&mut *lock(&shared.record)),
            scheduled: shared.scheduled.load(Ordering::Relaxed),
            retries: shared.retries.load(Ordering::Relaxed),
            refused: std::mem::take(&mut *lock(&shared.refused)),
            elapsed,
            latency: Percentiles::of(&mut latencies),
            freshness: Percentiles::of(&mut freshness),
            freshness_failed,
        })
    }
}

/// A poisoned lock means a worker panicked while holding it; the data is still what it wrote.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the workers (and the freshness prober) and returns at once.
pub fn start(clients: &Clients, config: RunConfig) -> Result<Running, LoadError> {
    if config.workers == 0 || config.window == 0 {
        return Err(LoadError::Config(
            "workers and window must be at least 1".into(),
        ));
    }
    if config.unit_ids.is_empty() {
        return Err(LoadError::Config("at least one unit id is needed".into()));
    }
    if let Some(rate) = config.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(LoadError::Config(format!(
            "rate must be a positive number, got {rate}"
        )));
    }
    let shared = Arc::new(Shared {
        record: Mutex::new(Record::new(&config.survey_id)),
        config,
        started: Instant::now(),
        latencies: Mutex::new(Vec::new()),
        refused: Mutex::new(BTreeMap::new()),
        scheduled: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        acknowledged: AtomicU64::new(0),
        last_ack: tokio::sync::watch::Sender::new(None),
        done: AtomicBool::new(false),
        stopping: AtomicBool::new(false),
    });
    let config = &shared.config;
    let unary_workers = match config.mode {
        Mode::Unary => config.workers,
        Mode::Streaming => 0,
        Mode::Mixed { unary_percent } => {
            (config.workers * usize::from(unary_percent.min(100))).div_ceil(100)
        }
    };
    let workers = (0..config.workers)
        .map(|index| {
            let worker = Worker {
                shared: shared.clone(),
                intake: clients.intake.clone(),
                workload: Workload::new(
                    &config.survey_id,
                    &config.unit_ids,
                    config
                        .seed
                        .wrapping_mul(1_000_003)
                        .wrapping_add(index as u64),
                ),
                next_slot: index as u64,
            };
            if index < unary_workers {
                tokio::spawn(worker.run_unary())
            } else {
                tokio::spawn(worker.run_streaming())
            }
        })
        .collect();
    let prober = match (&clients.analytics, config.freshness_every) {
        (Some(analytics), Some(every)) => Some(tokio::spawn(probe_freshness(
            analytics.clone(),
            shared.clone(),
            every,
        ))),
        _ => None,
    };
    Ok(Running {
        shared,
        workers,
        prober,
    })
}

/// Starts a run and waits for it.
pub async fn run(clients: &Clients, config: RunConfig) -> Result<RunReport, LoadError> {
    start(clients, config)?.finish().await
}

fn is_retryable(code: Code) -> bool {
    // What a killed, restarting or overloaded intake (or its NATS) answers; a refusal of the
    // content (InvalidArgument, FailedPrecondition, ...) is final.
    matches!(
        code,
        Code::Unavailable
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Internal
    )
}

struct Worker {
    shared: Arc<Shared>,
    intake: ResponseIntakeClient<AuthorizedChannel>,
    workload: Workload,
    /// The next schedule slot of this worker: worker i takes slots i, i + W, i + 2W, ...
    next_slot: u64,
}

impl Worker {
    /// When the next submission is due, or `None` when the run is over.
    fn next_due(&self) -> Option<Instant> {
        let config = &self.shared.config;
        let due = match config.rate {
            Some(rate) => {
                self.shared.started + Duration::from_secs_f64(self.next_slot as f64 / rate)
            }
            None => Instant::now(),
        };
        let over = self.shared.stopping.load(Ordering::Relaxed)
            || match config.stop {
                Stop::Count(count) => self.next_slot >= count,
                Stop::After(duration) => due >= self.shared.started + duration,
            };
        (!over).then_some(due)
    }

    fn take_slot(&mut self) -> Planned {
        self.next_slot += self.shared.config.workers as u64;
        self.shared.scheduled.fetch_add(1, Ordering::Relaxed);
        self.workload.next_submission()
    }

    async fn run_unary(mut self) {
        while let Some(due) = self.next_due() {
            wait_until(due).await;
            let planned = self.take_slot();
            submit_unary(&mut self.intake, &self.shared, &planned, due).await;
        }
    }

    async fn run_streaming(mut self) {
        let window = self.shared.config.window;
        let mut pending: Vec<(Planned, Instant)> = Vec::new();
        let mut open_failing_since: Option<Instant> = None;
        loop {
            let more = self.next_due().is_some();
            if !more && pending.is_empty() {
                return;
            }
            let (sender, receiver) = mpsc::channel::<SubmitResponseRequest>(window);
            let opened = self
                .intake
                .submit_responses(tokio_stream::wrappers::ReceiverStream::new(receiver))
                .await;
            let mut replies = match opened {
                Ok(replies) => {
                    open_failing_since = None;
                    replies.into_inner()
                }
                Err(status) => {
                    let failing_since = *open_failing_since.get_or_insert_with(Instant::now);
                    let retry_for = self.shared.config.retry_for;
                    let retrying = is_retryable(status.code())
                        && retry_for.is_some_and(|limit| failing_since.elapsed() < limit);
                    if retrying {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    // No stream and no more retrying: what was waiting is given up, and so is
                    // this worker's share of the run.
                    for _ in pending.drain(..) {
                        refuse(&self.shared, status.code());
                    }
                    refuse(&self.shared, status.code());
                    return;
                }
            };
            let mut in_flight: HashMap<String, (Planned, Instant)> = HashMap::new();
            // Submissions carried over from a broken stream go first, on the new one.
            let mut carried = std::mem::take(&mut pending).into_iter();
            while let Some((planned, due)) = carried.next() {
                let id = planned.request.submission_id.clone();
                if sender.send(planned.request.clone()).await.is_err() {
                    pending.push((planned, due));
                    pending.extend(carried);
                    break;
                }
                in_flight.insert(id, (planned, due));
            }
            let mut sender = Some(sender);
            let broken = loop {
                let next = if in_flight.len() < window {
                    self.next_due()
                } else {
                    None
                };
                if next.is_none() && self.next_due().is_none() {
                    // Nothing more to send: close our side and read the remaining replies.
                    sender = None;
                    if in_flight.is_empty() {
                        break None;
                    }
                }
                tokio::select! {
                    biased;
                    item = replies.message() => match item {
                        Ok(Some(item)) => {
                            let Some((planned, due)) = in_flight.remove(&item.submission_id) else {
                                continue;
                            };
                            match item.outcome {
                                Some(Outcome::Accepted(reply)) => {
                                    acknowledge(&self.shared, &planned, &reply, due);
                                }
                                Some(Outcome::Rejected(error)) => {
                                    let code = Code::from_i32(error.code);
                                    if is_retryable(code) && self.shared.config.retry_for.is_some() {
                                        self.shared.retries.fetch_add(1, Ordering::Relaxed);
                                        retry_unary(&mut self.intake, &self.shared, &planned, due, code).await;
                                    } else {
                                        refuse(&self.shared, code);
                                    }
                                }
                                None => refuse(&self.shared, Code::Unknown),
                            }
                        }
                        Ok(None) => break if in_flight.is_empty() && sender.is_none() { None } else { Some(Code::Unavailable) },
                        Err(status) => break Some(status.code()),
                    },
                    () = sleep_until_some(next), if next.is_some() && sender.is_some() => {
                        let planned = self.take_slot();
                        let id = planned.request.submission_id.clone();
                        let Some(open) = &sender else { continue };
                        match open.send(planned.request.clone()).await {
                            Ok(()) => {
                                in_flight.insert(id, (planned, next.unwrap_or_else(Instant::now)));
                            }
                            Err(_) => {
                                pending.push((planned, next.unwrap_or_else(Instant::now)));
                                break Some(Code::Unavailable);
                            }
                        }
                    }
                }
            };
            drop(sender);
            let Some(code) = broken else {
                if self.next_due().is_none() && pending.is_empty() {
                    return;
                }
                continue;
            };
            // The stream broke: what it had not acknowledged is retried on a new stream when
            // retries are on (intake acknowledges a stored one as a duplicate), else given up.
            pending.extend(in_flight.into_values());
            if self.shared.config.retry_for.is_none() || !is_retryable(code) {
                for _ in pending.drain(..) {
                    refuse(&self.shared, code);
                }
                if !is_retryable(code) {
                    return;
                }
            } else {
                self.shared
                    .retries
                    .fetch_add(pending.len() as u64, Ordering::Relaxed);
                tokio::time::sleep(
                    self.shared
                        .config
                        .retry_after
                        .max(Duration::from_millis(50)),
                )
                .await;
            }
        }
    }
}

async fn sleep_until_some(due: Option<Instant>) {
    if let Some(due) = due {
        wait_until(due).await;
    }
}

/// Sleeps until `due` unless it has come: tokio's timer works in whole milliseconds and a
/// sleep whose deadline has passed still waits for the timer's next turn, which at saturation
/// would pace every worker to about one submission a millisecond.
async fn wait_until(due: Instant) {
    if due > Instant::now() {
        tokio::time::sleep_until(due).await;
    }
}

fn acknowledge(shared: &Shared, planned: &Planned, reply: &SubmitResponseReply, due: Instant) {
    let latency = due.elapsed();
    let Ok(id) = Uuid::parse_str(&planned.request.submission_id) else {
        return;
    };
    let first = {
        let mut record = lock(&shared.record);
        let first = record.get(&id).is_none();
        record.acknowledge(id, planned.expected, reply.sequence, reply.duplicate);
        first
    };
    if first {
        shared.acknowledged.fetch_add(1, Ordering::Relaxed);
        lock(&shared.latencies).push(latency);
    }
    shared.last_ack.send_if_modified(|last| match last {
        Some((sequence, _)) if *sequence >= reply.sequence => false,
        _ => {
            *last = Some((reply.sequence, Instant::now()));
            true
        }
    });
}

fn refuse(shared: &Shared, code: Code) {
    *lock(&shared.refused)
        .entry(format!("{code:?}"))
        .or_default() += 1;
}

async fn submit_unary(
    intake: &mut ResponseIntakeClient<AuthorizedChannel>,
    shared: &Shared,
    planned: &Planned,
    due: Instant,
) {
    match intake.submit_response(planned.request.clone()).await {
        Ok(reply) => acknowledge(shared, planned, &reply.into_inner(), due),
        Err(status) if is_retryable(status.code()) && shared.config.retry_for.is_some() => {
            shared.retries.fetch_add(1, Ordering::Relaxed);
            retry_unary(intake, shared, planned, due, status.code()).await;
        }
        Err(status) => refuse(shared, status.code()),
    }
}

/// Sends `planned` again and again with the same submission id, backing off, until it is
/// acknowledged, refused for its content, or `retry_for` has passed since it was due.
async fn retry_unary(
    intake: &mut ResponseIntakeClient<AuthorizedChannel>,
    shared: &Shared,
    planned: &Planned,
    due: Instant,
    mut last_code: Code,
) {
    let Some(retry_for) = shared.config.retry_for else {
        refuse(shared, last_code);
        return;
    };
    let give_up = Instant::now().max(due) + retry_for;
    let mut backoff = shared.config.retry_after;
    loop {
        if Instant::now() + backoff > give_up {
            refuse(shared, last_code);
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).clamp(Duration::from_millis(20), Duration::from_millis(500));
        match intake.submit_response(planned.request.clone()).await {
            Ok(reply) => {
                acknowledge(shared, planned, &reply.into_inner(), due);
                return;
            }
            Err(status) if is_retryable(status.code()) => {
                shared.retries.fetch_add(1, Ordering::Relaxed);
                last_code = status.code();
            }
            Err(status) => {
                refuse(shared, status.code());
                return;
            }
        }
    }
}

/// Every `every`, asks analytics for the survey's NPS at the latest acknowledged sequence and
/// records how long after that acknowledgement the answer came. Ends after the run, once the
/// last acknowledgement is visible.
async fn probe_freshness(
    mut analytics: AnalyticsClient<AuthorizedChannel>,
    shared: Arc<Shared>,
    every: Duration,
) -> (Vec<Duration>, u64) {
    let mut samples = Vec::new();
    let mut failed = 0;
    let mut last_probed = 0;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Read before the latest acknowledgement: once done, no newer one can follow.
        let done = shared.done.load(Ordering::Relaxed);
        let latest = *shared.last_ack.borrow();
        let Some((sequence, acknowledged_at)) = latest.filter(|(s, _)| *s != last_probed) else {
            if done {
                return (samples, failed);
            }
            continue;
        };
        last_probed = sequence;
        let answer = analytics
            .get_nps(GetNpsRequest {
                survey_id: shared.config.survey_id.clone(),
                question_key: String::new(),
                // Analytics needs the roles a figure covers; the freshness probe reads clients.
                filter: Some(ResponseFilter {
                    respondent_roles: vec![RespondentRole::Client as i32],
                    ..ResponseFilter::default()
                }),
                min_sequence: sequence,
                grouping: None,
            })
            .await;
        match answer {
            Ok(_) => samples.push(acknowledged_at.elapsed()),
            Err(_) => failed += 1,
        }
    }
}
