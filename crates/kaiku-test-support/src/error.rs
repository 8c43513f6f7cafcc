use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong while starting, probing or stopping a throwaway server.
///
/// Messages say what failed and where; the ones about a child process carry the tail of its log,
/// so a failing test shows why the server did not come up.
#[derive(Debug, thiserror::Error)]
pub enum TestSupportError {
    #[error(
        "{binary} was not found ({searched}); install it with `apt-get install nats-server postgresql`"
    )]
    MissingBinary {
        binary: &'static str,
        searched: String,
    },

    #[error("service binary {} does not exist; build it first with cargo build --bins", path.display())]
    ServiceNotBuilt { path: PathBuf },

    #[error("could not {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{program} failed ({status}):\n{output}")]
    CommandFailed {
        program: String,
        status: ExitStatus,
        output: String,
    },

    #[error("{what} exited ({status}) before it was ready; log tail:\n{log}")]
    ExitedEarly {
        what: String,
        status: ExitStatus,
        log: String,
    },

    #[error("{what} was not ready after {after:?}; last error: {last_error}; log tail:\n{log}")]
    NotReady {
        what: String,
        after: Duration,
        last_error: String,
        log: String,
    },

    #[error("{what} did not finish within {after:?}")]
    Timeout { what: String, after: Duration },

    #[error(
        "the system user `postgres` does not exist; PostgreSQL refuses to run as root (install postgresql, which creates it)"
    )]
    NoPostgresUser,

    #[error("could not {action}: {source}")]
    System {
        action: String,
        #[source]
        source: nix::Error,
    },

    #[error("PostgreSQL at {url} rejected `{statement}`: {source}")]
    Database {
        url: String,
        statement: String,
        #[source]
        source: sqlx::Error,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, TestSupportError>;

impl TestSupportError {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.into();
        move |source| Self::Io { action, source }
    }

    pub(crate) fn system(action: impl Into<String>) -> impl FnOnce(nix::Error) -> Self {
        let action = action.into();
        move |source| Self::System { action, source }
    }
}
