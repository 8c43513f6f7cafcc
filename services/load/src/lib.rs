#![doc = include_str!("../README.md")]

pub mod drive;
pub mod raw;
pub mod record;
pub mod stats;
pub mod verify;
pub mod workload;

pub use drive::{Clients, Mode, RunConfig, RunReport, Running, Stop};
pub use record::Record;
pub use verify::{Verification, verify};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid load settings: {0}")]
    Config(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{call} failed: {status}")]
    Call {
        call: &'static str,
        status: tonic::Status,
    },
    #[error("a load worker failed: {0}")]
    Worker(String),
    #[error("record file {0}")]
    Record(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("the read models did not reach sequence {wanted} within {waited:?} (at {reached})")]
    NotCaughtUp {
        wanted: u64,
        reached: u64,
        waited: std::time::Duration,
    },
}
