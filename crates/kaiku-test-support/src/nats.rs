use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::child::{
    find_executable, kill_and_reap, log_stdio, poll_until_ready, read_log, reap_blocking,
    tcp_accepts,
};
use crate::error::{Result, TestSupportError};
use crate::port::free_port;

/// The deployed user list: every test's server runs with the permissions production has.
const USERS_CONF: &str = include_str!("../../../deploy/nats/users.conf");

/// The users deploy/nats/users.conf defines, with the variable holding each one's password.
pub const NATS_USERS: [(&str, &str); 6] = [
    ("survey-definition", "KAIKU_NATS_SURVEY_DEFINITION_PASSWORD"),
    ("response-intake", "KAIKU_NATS_RESPONSE_INTAKE_PASSWORD"),
    ("projection", "KAIKU_NATS_PROJECTION_PASSWORD"),
    ("analytics", "KAIKU_NATS_ANALYTICS_PASSWORD"),
    ("feedback-handling", "KAIKU_NATS_FEEDBACK_HANDLING_PASSWORD"),
    ("admin", "KAIKU_NATS_ADMIN_PASSWORD"),
];

/// JetStream's file-store limit for a test server (see `write_config` for why it is set).
const TEST_MAX_FILE_STORE: &str = "16GB";
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// A free port can be taken by someone else before the server binds it.
const START_ATTEMPTS: usize = 3;

/// A throwaway `nats-server` with JetStream, listening on 127.0.0.1 with its store in a
/// temporary directory, with Kaiku's users and permissions (deploy/nats/users.conf) and a fresh
/// random password for each. Dropping it kills the server and deletes the store.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    binary: PathBuf,
    /// Password of each user in [`NATS_USERS`], in that order.
    passwords: Vec<String>,
    dir: TempDir, // declared last: removed only after the child is gone
}

impl NatsServer {
    /// Starts a server on a free port and waits until it greets clients with JetStream enabled.
    pub async fn start() -> Result<NatsServer> {
        let binary = find_executable("nats-server", &["/usr/sbin", "/usr/bin", "/usr/local/bin"])
            .ok_or_else(|| TestSupportError::MissingBinary {
            binary: "nats-server",
            searched: "PATH, /usr/sbin, /usr/bin, /usr/local/bin".to_owned(),
        })?;
        let dir = tempfile::Builder::new()
            .prefix("kaiku-nats-")
            .tempdir()
            .map_err(TestSupportError::io(
                "create a temporary directory for nats-server",
            ))?;
        let mut server = NatsServer {
            child: None,
            port: 0,
            binary,
            passwords: NATS_USERS
                .iter()
                // nats-server reads the variable as a configuration value: starting with a
                // letter keeps it a string (a leading digit makes it a number or an error).
                .map(|_| format!("p{}", uuid::Uuid::new_v4().simple()))
                .collect(),
            dir,
        };
        let mut attempt = 1;
        loop {
            server.port = free_port()?;
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(TestSupportError::ExitedEarly { .. }) if attempt < START_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `nats://admin:<password>@127.0.0.1:<port>`: the operators' user, allowed everything, for
    /// tests that set up and inspect streams themselves.
    pub fn url(&self) -> String {
        format!(
            "nats://admin:{}@127.0.0.1:{}",
            self.password("admin").unwrap_or_default(),
            self.port
        )
    }

    /// `nats://127.0.0.1:<port>`, no login: give it with a user from [`NatsServer::password`].
    pub fn address(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The password of one of [`NATS_USERS`].
    pub fn password(&self, user: &str) -> Option<&str> {
        NATS_USERS
            .iter()
            .position(|(name, _)| *name == user)
            .and_then(|index| self.passwords.get(index))
            .map(String::as_str)
    }

    /// The JetStream store on disk, for tests that search what was actually written.
    pub fn store_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server has logged so far, across restarts.
    pub fn log(&self) -> String {
        read_log(&self.log_path())
    }

    /// SIGKILL and reap: a crash, not a shutdown. The store is kept for [`NatsServer::restart`].
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child, "nats-server").await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port with the same store, killing it first if it is
    /// still running.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await?;
        self.spawn_and_wait().await
    }

    async fn spawn_and_wait(&mut self) -> Result<()> {
        let config = self.write_config()?;
        let store = self.dir.path().join("store");
        let log = self.log_path();
        let (stdout, stderr) = log_stdio(&log)?;
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&config)
            .arg("-js")
            .arg("-sd")
            .arg(&store)
            .envs(
                NATS_USERS
                    .iter()
                    .zip(&self.passwords)
                    .map(|((_, variable), password)| (*variable, password)),
            )
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(TestSupportError::io(format!(
                "start {}",
                self.binary.display()
            )))?;
        let child = self.child.insert(child);
        let port = self.port;
        poll_until_ready(
            &format!("nats-server on port {port}"),
            &log,
            READY_TIMEOUT,
            || child.try_wait(),
            || greets_with_jetstream(port),
        )
        .await
    }

    /// The listen address lives in a config file (as a deployment would have it) that includes
    /// the deployed users; JetStream is switched on by flags so the store location is visible in
    /// `ps`.
    ///
    /// The store limit is set, as every deployment sets it: left out, nats-server takes 75% of
    /// the disk that is free when it starts, and on a nearly full CI disk that was less than the
    /// 1 GiB KAIKU_AUDIT reserves, so every service refused to start ("insufficient storage
    /// resources", code 10047). The limit only bounds what streams reserve; a test store holds
    /// megabytes.
    fn write_config(&self) -> Result<PathBuf> {
        let users = self.dir.path().join("users.conf");
        std::fs::write(&users, USERS_CONF)
            .map_err(TestSupportError::io(format!("write {}", users.display())))?;
        let path = self.dir.path().join("nats-server.conf");
        let text = format!(
            "# Written by kaiku-test-support for one test run.\nlisten: \"127.0.0.1:{}\"\ninclude ./users.conf\njetstream {{\n    max_file_store: {TEST_MAX_FILE_STORE}\n}}\n",
            self.port
        );
        std::fs::write(&path, text)
            .map_err(TestSupportError::io(format!("write {}", path.display())))?;
        Ok(path)
    }

    fn log_path(&self) -> PathBuf {
        log_path(self.dir.path())
    }
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("nats-server.log")
}

/// Ready means more than an open socket: the server sends its INFO line and it advertises
/// JetStream.
async fn greets_with_jetstream(port: u16) -> std::result::Result<(), String> {
    let stream = tcp_accepts(port).await?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .await
        .map_err(|e| format!("read INFO from 127.0.0.1:{port}: {e}"))?;
    if line.starts_with("INFO ") && line.contains("\"jetstream\":true") {
        Ok(())
    } else {
        Err(format!("unexpected greeting: {}", line.trim_end()))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // Errors are moot here: the process is being thrown away either way.
            let _ = child.start_kill();
            reap_blocking(child, Duration::from_secs(2));
        }
    }
}
