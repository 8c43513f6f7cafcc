use kaiku_eventstore::EventStoreError;

/// Failures that interrupt the projection; it resumes from its checkpoint after each.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read-model database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the read models: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the read models are at migration {applied}, this projection needs {expected}: run `projection --migrate-only` with the owner's DATABASE_URL first (KAIKU_MIGRATE_ON_START is off)"
    )]
    NotMigrated { applied: i64, expected: i64 },
    #[error("event store: {0}")]
    Store(#[from] EventStoreError),
    #[error(
        "{stream}: following from {following} but {committed} is committed (the schema was rebuilt); resubscribing"
    )]
    Resync {
        stream: &'static str,
        following: u64,
        committed: u64,
    },
    #[error("the ordered consumer of {0} ended")]
    StreamEnded(&'static str),
    #[error(transparent)]
    Bind(#[from] kaiku_grpc::BindError),
    #[error("cannot start serving: {0}")]
    Startup(String),
    #[error(
        "release to readers of survey {survey_id}: {counted} unreleased answers counted, {found} found; nothing was released"
    )]
    ReleaseMismatch {
        survey_id: uuid::Uuid,
        counted: u64,
        found: u64,
    },
}
