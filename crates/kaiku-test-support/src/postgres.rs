mod install;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::child::{
    kill_and_reap, log_stdio, poll_until_ready, read_log, reap_blocking, send_signal, tcp_accepts,
};
use crate::error::{Result, TestSupportError};
use crate::port::free_port;
use install::{Binaries, RunAs};

const INITDB_TIMEOUT: Duration = Duration::from_secs(60);
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const SQL_TIMEOUT: Duration = Duration::from_secs(10);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// A free port can be taken by someone else before the postmaster binds it.
const START_ATTEMPTS: usize = 3;

/// A private, throwaway PostgreSQL cluster made with `initdb` in a temporary directory,
/// listening on 127.0.0.1 with trust authentication for the `postgres` superuser.
///
/// Dropping it asks the postmaster for a fast shutdown (SIGINT), waits up to 5 s, then kills it;
/// the cluster's directory is deleted afterwards.
#[derive(Debug)]
pub struct PostgresServer {
    child: Option<Child>,
    port: u16,
    binaries: Binaries,
    runas: Option<RunAs>,
    layout: Layout,
    dir: TempDir, // declared last: removed only after the postmaster is gone
}

impl PostgresServer {
    /// Runs initdb, starts the postmaster on a free port and waits until it answers a query.
    pub async fn start() -> Result<PostgresServer> {
        let binaries = Binaries::find().await?;
        let runas = RunAs::detect()?;
        let dir = tempfile::Builder::new()
            .prefix("kaiku-pg-")
            .tempdir()
            .map_err(TestSupportError::io(
                "create a temporary directory for PostgreSQL",
            ))?;
        let layout = Layout::create(dir.path(), runas)?;
        initdb(&binaries, runas, &layout).await?;

        let mut server = PostgresServer {
            child: None,
            port: 0,
            binaries,
            runas,
            layout,
            dir,
        };
        let mut attempt = 1;
        loop {
            server.port = free_port()?;
            // Should this fail, dropping `server` shuts the half-started postmaster down.
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(TestSupportError::ExitedEarly { .. }) if attempt < START_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn admin_url(&self) -> String {
        self.url_for("postgres")
    }

    /// Creates a fresh, uniquely named database and returns its URL; one per test keeps tests
    /// that share a cluster apart.
    pub async fn create_database(&self) -> Result<String> {
        let name = format!("kaiku_test_{}", uuid::Uuid::new_v4().simple());
        // The name is generated above from hex digits only, so formatting it into SQL is safe.
        let statement = format!("CREATE DATABASE \"{name}\"");
        let admin_url = self.admin_url();
        let db_error = |source| TestSupportError::Database {
            url: admin_url.clone(),
            statement: statement.clone(),
            source,
        };
        let create = async {
            let mut conn = PgConnection::connect(&admin_url).await.map_err(db_error)?;
            sqlx::query(AssertSqlSafe(statement.as_str()))
                .execute(&mut conn)
                .await
                .map_err(db_error)?;
            conn.close().await.map_err(db_error)
        };
        tokio::time::timeout(SQL_TIMEOUT, create)
            .await
            .map_err(|_| TestSupportError::Timeout {
                what: format!("`{statement}` on {admin_url}"),
                after: SQL_TIMEOUT,
            })??;
        Ok(self.url_for(&name))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIGKILL and reap: an outage, not a shutdown. The cluster is kept for
    /// [`PostgresServer::restart`].
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child, "postgres").await?;
        }
        Ok(())
    }

    /// Starts the postmaster again on the same port and cluster (after crash recovery),
    /// killing it first if it still runs.
    /// Backends of a killed postmaster live on until they notice (at their next query or
    /// within about a second) and hold the old shared memory until then, so the new postmaster
    /// may refuse to start at first: it is tried again for up to ten seconds.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await?;
        let mut attempt = 1;
        loop {
            match self.spawn_and_wait().await {
                Err(TestSupportError::ExitedEarly { .. }) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                other => return other,
            }
        }
    }

    /// Everything the postmaster has logged so far.
    pub fn log(&self) -> String {
        read_log(&log_path(self.dir.path()))
    }

    fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    async fn spawn_and_wait(&mut self) -> Result<()> {
        let (binaries, runas, layout) = (&self.binaries, self.runas, &self.layout);
        let log = log_path(self.dir.path());
        let (stdout, stderr) = log_stdio(&log)?;
        let mut command = Command::new(&binaries.postgres);
        command
            .arg("-D")
            .arg(&layout.data)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&layout.sockets)
            .args(["-c", "listen_addresses=127.0.0.1"])
            // Durability is worthless for a cluster that is deleted after the test.
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        RunAs::apply(runas, &mut command);
        let child = command.spawn().map_err(TestSupportError::io(format!(
            "start {}",
            binaries.postgres.display()
        )))?;
        let port = self.port;
        let url = self.admin_url();
        let child = self.child.insert(child);
        poll_until_ready(
            &format!("postgres on port {port}"),
            &log,
            READY_TIMEOUT,
            || child.try_wait(),
            || answers_queries(port, &url),
        )
        .await
    }
}

/// A socket accepting connections is not enough: during recovery the postmaster accepts and
/// then refuses with "the database system is starting up".
async fn answers_queries(port: u16, url: &str) -> std::result::Result<(), String> {
    tcp_accepts(port).await?;
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| format!("connect to {url}: {e}"))?;
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .map_err(|e| format!("SELECT 1 on {url}: {e}"))?;
    conn.close().await.map_err(|e| format!("close {url}: {e}"))
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("postgres.log")
}

/// The cluster's directories inside the temporary directory, owned by whoever runs the server.
#[derive(Debug)]
struct Layout {
    data: PathBuf,
    sockets: PathBuf,
}

impl Layout {
    fn create(root: &Path, runas: Option<RunAs>) -> Result<Layout> {
        use std::os::unix::fs::PermissionsExt;

        let layout = Layout {
            data: root.join("data"),
            sockets: root.join("sockets"),
        };
        for dir in [&layout.data, &layout.sockets] {
            std::fs::create_dir(dir)
                .map_err(TestSupportError::io(format!("create {}", dir.display())))?;
        }
        // initdb insists that nobody but the owner can read the data directory.
        std::fs::set_permissions(&layout.data, std::fs::Permissions::from_mode(0o700)).map_err(
            TestSupportError::io(format!("restrict {} to its owner", layout.data.display())),
        )?;
        if let Some(user) = runas {
            // The temporary root is 0700 too, so the postgres user must own it to get inside.
            for path in [root, &layout.data, &layout.sockets] {
                user.chown(path)?;
            }
        }
        Ok(layout)
    }
}

/// `initdb` with a UTF-8 C locale, falling back to plain C where C.UTF-8 does not exist.
async fn initdb(binaries: &Binaries, runas: Option<RunAs>, layout: &Layout) -> Result<()> {
    let mut failures = Vec::new();
    for locale in ["--locale=C.UTF-8", "--locale=C"] {
        let mut command = Command::new(&binaries.initdb);
        command
            .arg("-D")
            .arg(&layout.data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                locale,
            ])
            .current_dir(&layout.sockets)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        RunAs::apply(runas, &mut command);
        let output = tokio::time::timeout(INITDB_TIMEOUT, command.output())
            .await
            .map_err(|_| TestSupportError::Timeout {
                what: binaries.initdb.display().to_string(),
                after: INITDB_TIMEOUT,
            })?
            .map_err(TestSupportError::io(format!(
                "run {}",
                binaries.initdb.display()
            )))?;
        if output.status.success() {
            return Ok(());
        }
        failures.push((
            output.status,
            format!(
                "{locale}:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ));
        empty_dir(&layout.data)?;
    }
    let status = failures
        .last()
        .map(|(status, _)| *status)
        .unwrap_or_default();
    Err(TestSupportError::CommandFailed {
        program: binaries.initdb.display().to_string(),
        status,
        output: failures
            .into_iter()
            .map(|(_, output)| output)
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// initdb refuses a non-empty directory, and a failed run may leave files behind.
fn empty_dir(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(TestSupportError::io(format!("list {}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(TestSupportError::io(format!("list {}", dir.display())))?
            .path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(TestSupportError::io(format!("remove {}", path.display())))?;
    }
    Ok(())
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        // SIGINT is PostgreSQL's "fast shutdown": backends are told to exit, no checkpoint wait
        // for clients. Errors are moot here: the cluster is being thrown away either way.
        if send_signal(child, Signal::SIGINT).is_ok() && reap_blocking(child, SHUTDOWN_GRACE) {
            return;
        }
        let _ = child.start_kill();
        reap_blocking(child, Duration::from_secs(2));
    }
}
