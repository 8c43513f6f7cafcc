//! Cases on KAIKU_HANDLING: one is loaded from its own subject before each command and appended
//! with that subject's last sequence as the expected revision (two handlers saving at once: the
//! second gets ABORTED). An index of every case, followed live from the stream, answers lists
//! and tells the sweeper what is due.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use kaiku_domain::handling::{CaseFile, case_envelope, case_event_kind_name, evolve};
use kaiku_eventstore::{EventStore, HANDLING_STREAM, NewEvent, StoredEvent, case_subject};
use kaiku_grpc::{Readiness, Shutdown};
use kaiku_proto::handling::v1::{CaseContent, CaseEvent, case_event::Kind};
use prost::Message;
use tokio::sync::{RwLock, watch};

use crate::ServiceError;
use crate::sealing::{ContentKeys, TextKey};

/// A case as loaded. Loaded with the content keys, its content and handlers' texts are opened
/// (while they exist); loaded without, the texts stay sealed and the history shows none.
pub struct LoadedCase {
    pub case: CaseFile,
    pub content: Option<CaseContent>,
    /// `None` once erased, before the content was saved, or for a case from before texts were
    /// sealed.
    pub text_key: Option<TextKey>,
}

#[derive(Clone)]
pub struct CaseRepository {
    store: EventStore,
}

fn decode(stored: &StoredEvent) -> Result<CaseEvent, ServiceError> {
    CaseEvent::decode(stored.payload.as_ref()).map_err(|e| ServiceError::CorruptEvent {
        sequence: stored.stream_sequence,
        reason: e.to_string(),
    })
}

impl CaseRepository {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// The case with its content and texts opened: for handlers and their commands.
    pub async fn load_opened(
        &self,
        case_id: &str,
        keys: &ContentKeys,
    ) -> Result<Option<LoadedCase>, ServiceError> {
        self.load_with(case_id, Some(keys)).await
    }

    /// The case without opening anything: for the sweeper, which must erase a case's content
    /// even when its content key is gone.
    pub async fn load(&self, case_id: &str) -> Result<Option<LoadedCase>, ServiceError> {
        self.load_with(case_id, None).await
    }

    async fn load_with(
        &self,
        case_id: &str,
        keys: Option<&ContentKeys>,
    ) -> Result<Option<LoadedCase>, ServiceError> {
        let events = self
            .store
            .read_all(HANDLING_STREAM, &case_subject(case_id))
            .await?;
        let mut case = None;
        let mut content = None;
        let mut text_key = None;
        for stored in &events {
            let mut event = decode(stored)?;
            match (&mut event.kind, keys) {
                (Some(Kind::ContentSealed(sealed)), Some(keys)) => {
                    if let Some(sealed) = &sealed.sealed {
                        let opened = keys.open(case_id, sealed)?;
                        text_key = TextKey::of_case(case_id, &opened)?;
                        content = Some(opened);
                    }
                }
                (Some(Kind::ContentErased(_)), _) => {
                    content = None;
                    text_key = None;
                }
                (Some(kind), _) => {
                    if let Some(key) = &text_key {
                        key.open_text(kind)?;
                    }
                }
                (None, _) => {}
            }
            case = Some(evolve(case, &event, stored.stream_sequence)?);
        }
        Ok(case.map(|case| LoadedCase {
            case,
            content,
            text_key,
        }))
    }

    /// Appends `kinds` to the case whose last event is at `revision` (0: a new case), as
    /// `recorded_by`. Returns the sequence of the last one appended.
    pub async fn append(
        &self,
        case_id: &str,
        revision: u64,
        recorded_by: &str,
        kinds: Vec<Kind>,
    ) -> Result<u64, ServiceError> {
        let mut revision = revision;
        let now = Utc::now();
        for kind in kinds {
            let event_type = case_event_kind_name(&kind);
            let event = case_envelope(case_id, recorded_by, kind, now);
            let appended = self
                .store
                .append(NewEvent {
                    subject: case_subject(case_id),
                    message_id: event.event_id.clone(),
                    event_type,
                    payload: Bytes::from(event.encode_to_vec()),
                    expected_last_subject_sequence: Some(revision),
                })
                .await?;
            revision = appended.sequence;
        }
        Ok(revision)
    }

    /// Securely erases the sealed content at `sequence` (already gone is fine).
    pub async fn erase(&self, sequence: u64) -> Result<(), ServiceError> {
        match self.store.erase(HANDLING_STREAM, sequence).await {
            Ok(()) | Err(kaiku_eventstore::EventStoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Every case, folded from the whole stream and kept current by following it.
#[derive(Clone)]
pub struct CaseIndex {
    cases: Arc<RwLock<BTreeMap<String, CaseFile>>>,
    applied: watch::Sender<u64>,
}

impl Default for CaseIndex {
    fn default() -> Self {
        Self {
            cases: Arc::default(),
            applied: watch::channel(0).0,
        }
    }
}

/// The readiness condition met once the index has caught up with the stream.
pub const INDEX_CONDITION: &str = "case index";

impl CaseIndex {
    pub async fn snapshot(&self) -> Vec<CaseFile> {
        self.cases.read().await.values().cloned().collect()
    }

    /// Waits until the index has applied `sequence` (after this service's own append), so a
    /// list right after a change shows it; gives up quietly after `timeout`.
    pub async fn caught_up_to(&self, sequence: u64, timeout: Duration) {
        let mut applied = self.applied.subscribe();
        let _ = tokio::time::timeout(timeout, applied.wait_for(|seq| *seq >= sequence)).await;
    }

    fn apply(&self, cases: &mut BTreeMap<String, CaseFile>, stored: &StoredEvent) {
        let result = decode(stored).and_then(|event| {
            // Replaced only once the event folds: one bad event leaves the case as it was.
            let previous = cases.get(&event.case_id).cloned();
            let case = evolve(previous, &event, stored.stream_sequence)?;
            cases.insert(event.case_id.clone(), case);
            Ok(())
        });
        if let Err(error) = result {
            // The command path refuses such a case too; the rest of the index stays right.
            tracing::error!(sequence = stored.stream_sequence, %error, "case event skipped in the index");
        }
    }

    /// Follows KAIKU_HANDLING until shutdown, resubscribing after the last applied event when
    /// the subscription ends.
    pub async fn follow(self, store: EventStore, readiness: Readiness, shutdown: Shutdown) {
        let mut backoff = Duration::from_millis(200);
        while !shutdown.is_triggered() {
            let last = *self.applied.borrow();
            match self.follow_once(&store, &readiness, last, &shutdown).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, ?backoff, "case index interrupted; following again");
                    readiness.set(INDEX_CONDITION, false).await;
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.wait() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn follow_once(
        &self,
        store: &EventStore,
        readiness: &Readiness,
        last: u64,
        shutdown: &Shutdown,
    ) -> Result<(), ServiceError> {
        let end = store.last_sequence(HANDLING_STREAM).await?;
        if end <= last {
            readiness.set(INDEX_CONDITION, true).await;
        }
        let events = store.subscribe(HANDLING_STREAM, None, last + 1).await?;
        futures::pin_mut!(events);
        loop {
            let stored = tokio::select! {
                next = events.next() => match next {
                    Some(stored) => stored?,
                    None => return Err(ServiceError::Startup("the case subscription ended".into())),
                },
                () = shutdown.wait() => return Ok(()),
            };
            let sequence = stored.stream_sequence;
            {
                let mut cases = self.cases.write().await;
                self.apply(&mut cases, &stored);
            }
            self.applied.send_replace(sequence);
            // Caught up when nothing is pending; not `sequence >= end`, as the stream's last
            // message may be an erased content whose erasure is not recorded yet.
            if stored.pending == 0 {
                readiness.set(INDEX_CONDITION, true).await;
            }
        }
    }
}
