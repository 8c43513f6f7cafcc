//! The sweeper: every interval it goes through the case index and does what is due: reminds
//! the day before the promised day, escalates a late case to the manager of the unit above, and
//! erases a closed case's content once the retention has passed. Each action is a command like
//! a handler's, appended with the case's revision, so two replicas sweeping at once append it
//! once (the other gets a wrong-sequence answer and moves on).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kaiku_domain::handling::{CaseCommand, SYSTEM_ACTOR, decide, due_commands};
use kaiku_domain::time::helsinki_date;
use kaiku_domain::unit::UnitTree;
use kaiku_eventstore::EventStoreError;
use kaiku_grpc::Shutdown;

use crate::{Handling, Occasion, ServiceError, load_units};

pub struct Sweeper {
    handling: Arc<Handling>,
    interval: Duration,
}

impl Sweeper {
    pub fn new(handling: Arc<Handling>, interval: Duration) -> Self {
        Self { handling, interval }
    }

    pub async fn run(self, shutdown: Shutdown) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                () = shutdown.wait() => return,
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(%error, "sweep interrupted; trying again next interval");
            }
        }
    }

    /// One pass over every case.
    pub async fn sweep(&self) -> Result<(), ServiceError> {
        let tree = load_units(&self.handling.store).await?;
        let now = Utc::now();
        let today = helsinki_date(now);
        for case in self.handling.index.snapshot().await {
            let parent = tree
                .get(&case.unit_id)
                .map(|unit| unit.parent_unit_id.as_str())
                .filter(|parent| !parent.is_empty());
            for command in due_commands(&case, today, now, self.handling.retention, parent) {
                match self.act(&tree, &case.case_id, command).await {
                    Ok(()) => {}
                    // Someone (a handler, another replica) changed the case first: next time.
                    Err(ServiceError::Store(EventStoreError::WrongExpectedSequence { .. })) => {}
                    Err(error) => {
                        tracing::warn!(case_id = %case.case_id, %error, "case action failed");
                    }
                }
            }
        }
        Ok(())
    }

    async fn act(
        &self,
        tree: &UnitTree,
        case_id: &str,
        command: CaseCommand,
    ) -> Result<(), ServiceError> {
        let Some(loaded) = self.handling.cases.load(case_id).await? else {
            return Ok(());
        };
        let case = loaded.case;
        let command = match command {
            // The sequence as the case is now, not as the index last saw it. When the stream no
            // longer holds the content the index saw (reads skip deleted messages), an earlier
            // sweep erased it and could not record that: erasing again finds nothing, and the
            // erasure is recorded now. An erasure already recorded decides nothing.
            CaseCommand::EraseContent { sequence: seen } => CaseCommand::EraseContent {
                sequence: case.sealed_at.unwrap_or(seen),
            },
            other => other,
        };
        let now = Utc::now();
        let kinds = decide(
            &case,
            command.clone(),
            helsinki_date(now),
            now,
            self.handling.retention,
        )?;
        if kinds.is_empty() {
            return Ok(());
        }
        if let CaseCommand::EraseContent { sequence } = command {
            // Erase first, then record it: a crash between the two erases again next time
            // (an already erased message is fine), never records an erasure that did not happen.
            self.handling.cases.erase(sequence).await?;
        }
        self.handling
            .cases
            .append(case_id, case.revision, SYSTEM_ACTOR, kinds)
            .await?;
        let (action, occasion) = match command {
            CaseCommand::Remind => ("reminded", Some(Occasion::DueTomorrow)),
            CaseCommand::Escalate { .. } => ("escalated", Some(Occasion::Late)),
            _ => ("erased", None),
        };
        self.handling.metrics.action(action);
        tracing::info!(%case_id, action, "case action");
        if let Some(occasion) = occasion
            && let Some(loaded) = self.handling.cases.load(case_id).await?
        {
            self.handling.notifier.notify(tree, &loaded.case, occasion);
        }
        Ok(())
    }
}
