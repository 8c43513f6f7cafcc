use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nix::sys::signal::Signal;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::child::{
    kill_and_reap, log_stdio, poll_until_ready, read_log, reap_blocking, send_signal, tcp_accepts,
};
use crate::error::{Result, TestSupportError};

/// One of the workspace's own binaries, started for a system test. Its stdout and stderr go to
/// a log file in a temporary directory, so a failing test can print what the service said.
/// Dropping it kills the process.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    // A lock (never held across an await) lets `&self` methods poll for exit; `&mut self`
    // methods reach the child through `get_mut` without locking.
    child: Mutex<Child>,
    log: PathBuf,
    _dir: TempDir, // declared last: removed only after the child is gone
}

impl ServiceProcess {
    /// `target/<profile>/<name>`, found next to the running test executable (which cargo puts in
    /// `target/<profile>/deps/`).
    pub fn binary_path(name: &str) -> Result<PathBuf> {
        let exe = std::env::current_exe()
            .map_err(TestSupportError::io("find the running test executable"))?;
        let mut dir = exe
            .parent()
            .ok_or_else(|| TestSupportError::Io {
                action: format!("find the directory of {}", exe.display()),
                source: std::io::ErrorKind::NotFound.into(),
            })?
            .to_path_buf();
        if dir.ends_with("deps") || dir.ends_with("examples") {
            dir.pop();
        }
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if path.is_file() {
            Ok(path)
        } else {
            Err(TestSupportError::ServiceNotBuilt { path })
        }
    }

    /// Starts the binary `name` with `args` and, on top of the inherited environment, `env`.
    pub async fn start(
        name: &str,
        args: &[&str],
        env: &[(&str, String)],
    ) -> Result<ServiceProcess> {
        let binary = Self::binary_path(name)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("kaiku-{name}-"))
            .tempdir()
            .map_err(TestSupportError::io(format!(
                "create a temporary directory for {name}"
            )))?;
        let log = dir.path().join(format!("{name}.log"));
        let (stdout, stderr) = log_stdio(&log)?;
        let child = Command::new(&binary)
            .args(args)
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(TestSupportError::io(format!("start {}", binary.display())))?;
        Ok(ServiceProcess {
            name: name.to_owned(),
            child: Mutex::new(child),
            log,
            _dir: dir,
        })
    }

    /// Waits until 127.0.0.1:`port` accepts a TCP connection. Fails early, with the tail of the
    /// log, if the process exits first.
    pub async fn wait_for_port(&self, port: u16, timeout: Duration) -> Result<()> {
        poll_until_ready(
            &format!("{} (waiting for port {port})", self.name),
            &self.log,
            timeout,
            || self.lock().try_wait(),
            || async move { tcp_accepts(port).await.map(drop) },
        )
        .await
    }

    /// Everything the process has written to stdout and stderr so far.
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// SIGKILL and reap: simulates a crash.
    pub async fn kill(&mut self) -> Result<()> {
        let what = self.name.clone();
        kill_and_reap(self.child_mut(), &what).await.map(drop)
    }

    /// SIGTERM, then up to `grace` for the process to drain and exit, then SIGKILL.
    pub async fn terminate(&mut self, grace: Duration) -> Result<ExitStatus> {
        let what = self.name.clone();
        let child = self.child_mut();
        if let Some(status) = child
            .try_wait()
            .map_err(TestSupportError::io(format!("poll {what}")))?
        {
            return Ok(status);
        }
        send_signal(child, Signal::SIGTERM)?;
        match tokio::time::timeout(grace, child.wait()).await {
            Ok(status) => status.map_err(TestSupportError::io(format!("reap {what}"))),
            Err(_) => kill_and_reap(child, &what).await,
        }
    }

    /// The process id, until the process has been reaped.
    pub fn id(&self) -> Option<u32> {
        self.lock().id()
    }

    fn lock(&self) -> MutexGuard<'_, Child> {
        // The guarded Child stays consistent even if a holder panicked.
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let child = self.child_mut();
        // Errors are moot here: the process is being thrown away either way.
        let _ = child.start_kill();
        reap_blocking(child, Duration::from_secs(2));
    }
}
