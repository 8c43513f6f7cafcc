//! Where PostgreSQL's binaries are, and which system user must run them.

use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid, User, geteuid};
use tokio::process::Command;

use crate::child::find_executable;
use crate::error::{Result, TestSupportError};

const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The two server binaries a private cluster needs.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub(crate) initdb: PathBuf,
    pub(crate) postgres: PathBuf,
}

impl Binaries {
    /// `pg_config --bindir` first, then the newest `/usr/lib/postgresql/<major>/bin`, then `PATH`.
    pub(crate) async fn find() -> Result<Binaries> {
        if let Some(found) = from_pg_config().await.and_then(|dir| Self::in_dir(&dir)) {
            return Ok(found);
        }
        if let Some(found) = newest_debian_bindir().and_then(|dir| Self::in_dir(&dir)) {
            return Ok(found);
        }
        let initdb = find_executable("initdb", &[]);
        let postgres = find_executable("postgres", &[]);
        match (initdb, postgres) {
            (Some(initdb), Some(postgres)) => Ok(Binaries { initdb, postgres }),
            (None, _) => Err(missing("initdb")),
            (_, None) => Err(missing("postgres")),
        }
    }

    fn in_dir(dir: &Path) -> Option<Binaries> {
        let initdb = dir.join("initdb");
        let postgres = dir.join("postgres");
        (initdb.is_file() && postgres.is_file()).then_some(Binaries { initdb, postgres })
    }
}

fn missing(binary: &'static str) -> TestSupportError {
    TestSupportError::MissingBinary {
        binary,
        searched: format!("`pg_config --bindir`, {DEBIAN_ROOT}/<major>/bin, PATH"),
    }
}

async fn from_pg_config() -> Option<PathBuf> {
    // A missing or broken pg_config only means "look elsewhere".
    let output = Command::new("pg_config")
        .arg("--bindir")
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

fn newest_debian_bindir() -> Option<PathBuf> {
    std::fs::read_dir(DEBIAN_ROOT)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// PostgreSQL refuses to run as root. When the tests are root, the cluster belongs to and runs
/// as the `postgres` system user; otherwise it runs as whoever runs the tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    pub(crate) uid: Uid,
    pub(crate) gid: Gid,
}

impl RunAs {
    /// `None` means "as the current user".
    pub(crate) fn detect() -> Result<Option<RunAs>> {
        if !geteuid().is_root() {
            return Ok(None);
        }
        let user = User::from_name("postgres")
            .map_err(TestSupportError::system("look up the postgres system user"))?
            .ok_or(TestSupportError::NoPostgresUser)?;
        Ok(Some(RunAs {
            uid: user.uid,
            gid: user.gid,
        }))
    }

    pub(crate) fn chown(self, path: &Path) -> Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid.as_raw()), Some(self.gid.as_raw())).map_err(
            TestSupportError::io(format!("hand {} to the postgres user", path.display())),
        )
    }

    /// Makes `command` start directly as this user, so signals sent to the child reach the
    /// server itself rather than a wrapper such as runuser.
    pub(crate) fn apply(runas: Option<RunAs>, command: &mut Command) {
        if let Some(user) = runas {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
    }
}
