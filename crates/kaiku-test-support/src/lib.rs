#![doc = include_str!("../README.md")]

mod child;
mod credentials;
mod error;
mod nats;
mod port;
mod postgres;
mod service;

pub use credentials::{Grant, TestCredentials};
pub use error::{Result, TestSupportError};
pub use nats::{NATS_USERS, NatsServer};
pub use port::free_port;
pub use postgres::PostgresServer;
pub use service::ServiceProcess;
