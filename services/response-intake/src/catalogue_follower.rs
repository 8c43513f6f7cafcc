//! Keeps an in-memory catalogue of published survey versions, folded live from KAIKU_SURVEYS.
//! Intake stays stateless: the catalogue is rebuilt from the stream at every start.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kaiku_domain::SurveyId;
use kaiku_domain::catalogue::{Catalogue, Lookup};
use kaiku_eventstore::{EventStore, SURVEYS_STREAM};
use kaiku_grpc::Shutdown;
use kaiku_proto::events::v1::{SurveyEvent, UnitEvent};
use prost::Message;
use tokio::sync::watch;

use crate::IntakeError;

#[derive(Clone)]
pub struct CatalogueHandle {
    catalogue: Arc<RwLock<Catalogue>>,
    applied: watch::Receiver<u64>,
    store: EventStore,
    catch_up_timeout: Duration,
}

impl CatalogueHandle {
    pub fn lookup(&self, survey_id: SurveyId, version: u32) -> Lookup {
        match self.catalogue.read() {
            Ok(catalogue) => catalogue.lookup(survey_id, version),
            // A panic while folding poisons the lock; the catalogue is still a consistent prefix.
            Err(poisoned) => poisoned.into_inner().lookup(survey_id, version),
        }
    }

    /// Waits until the catalogue has applied everything KAIKU_SURVEYS held when called, so a
    /// version published a moment ago is found (read-your-writes without sleeping).
    pub async fn catch_up(&self) -> Result<(), IntakeError> {
        let head = self.store.last_sequence(SURVEYS_STREAM).await?;
        let mut applied = self.applied.clone();
        tokio::time::timeout(self.catch_up_timeout, applied.wait_for(|seq| *seq >= head))
            .await
            .map_err(|_| IntakeError::CatalogueBehind {
                head,
                applied: *self.applied.borrow(),
            })?
            .map_err(|_| IntakeError::CatalogueStopped)?;
        Ok(())
    }

    pub fn applied_sequence(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Every published survey's retention setting, as the catalogue knows them now.
    pub fn retention_policies(&self) -> Vec<kaiku_domain::catalogue::SurveyRetention> {
        match self.catalogue.read() {
            Ok(catalogue) => catalogue.retention_policies(),
            Err(poisoned) => poisoned.into_inner().retention_policies(),
        }
    }

    /// The unit, then its parent, up to the county, as the unit tree knows them now.
    pub fn lineage(&self, unit_id: &str) -> Vec<String> {
        let lineage = |catalogue: &Catalogue| {
            catalogue
                .units()
                .lineage(unit_id)
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        match self.catalogue.read() {
            Ok(catalogue) => lineage(&catalogue),
            Err(poisoned) => lineage(&poisoned.into_inner()),
        }
    }
}

/// Starts following KAIKU_SURVEYS from its first event; retries until the stream exists (its
/// owner, survey-definition, may start later).
pub fn follow(
    store: EventStore,
    catch_up_timeout: Duration,
    shutdown: Shutdown,
) -> CatalogueHandle {
    let catalogue = Arc::new(RwLock::new(Catalogue::new()));
    let (applied_tx, applied) = watch::channel(0);
    let handle = CatalogueHandle {
        catalogue: Arc::clone(&catalogue),
        applied,
        store: store.clone(),
        catch_up_timeout,
    };
    tokio::spawn(async move {
        let mut next = 1;
        while !shutdown.is_triggered() {
            match run(&store, &catalogue, &applied_tx, next, &shutdown).await {
                Ok(()) => break,
                Err(e) => {
                    next = applied_tx.borrow().saturating_add(1);
                    tracing::warn!(error = %e, next, "catalogue follower interrupted; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = shutdown.wait() => break,
                    }
                }
            }
        }
    });
    handle
}

async fn run(
    store: &EventStore,
    catalogue: &RwLock<Catalogue>,
    applied: &watch::Sender<u64>,
    from: u64,
    shutdown: &Shutdown,
) -> Result<(), IntakeError> {
    let events = store.subscribe(SURVEYS_STREAM, None, from).await?;
    futures::pin_mut!(events);
    loop {
        let stored = tokio::select! {
            next = events.next() => match next {
                Some(event) => event?,
                None => return Err(IntakeError::CatalogueStopped),
            },
            () = shutdown.wait() => return Ok(()),
        };
        let sequence = stored.stream_sequence;
        if stored.subject.starts_with("kaiku.survey.") {
            match decode(&stored.payload) {
                Ok((id, event)) => write(catalogue).apply(id, &event, sequence),
                // An event this version cannot read must not stop intake for every other survey.
                Err(reason) => {
                    tracing::error!(sequence, %reason, "skipping undecodable survey event");
                    write(catalogue).advance_to(sequence);
                }
            }
        } else if stored.subject.starts_with("kaiku.unit.") {
            let applied_unit = UnitEvent::decode(stored.payload.as_ref())
                .map_err(|e| e.to_string())
                .and_then(|event| {
                    write(catalogue)
                        .apply_unit(&event, sequence)
                        .map_err(|e| e.to_string())
                });
            if let Err(reason) = applied_unit {
                tracing::error!(sequence, %reason, "skipping unit event that cannot be applied");
                write(catalogue).advance_to(sequence);
            }
        } else {
            write(catalogue).advance_to(sequence);
        }
        applied.send_replace(sequence);
    }
}

fn write(catalogue: &RwLock<Catalogue>) -> std::sync::RwLockWriteGuard<'_, Catalogue> {
    catalogue
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn decode(payload: &[u8]) -> Result<(SurveyId, SurveyEvent), String> {
    let event = SurveyEvent::decode(payload).map_err(|e| e.to_string())?;
    let id = SurveyId::parse("survey_id", &event.survey_id).map_err(|e| e.to_string())?;
    Ok((id, event))
}
