//! Plumbing shared by every kind of child process: finding executables, capturing output in a log
//! file, signalling, and polling for readiness.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;

use crate::error::{Result, TestSupportError};

/// How much of a log a failure message quotes.
const LOG_TAIL_BYTES: u64 = 8 * 1024;
/// One readiness probe must not hang the whole wait.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// Looks for `name` on `PATH`, then in `fallback_dirs`.
pub(crate) fn find_executable(name: &str, fallback_dirs: &[&str]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(fallback_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Opens (creating or appending to) a log file and returns it as stdout and stderr of a child,
/// so both streams interleave in one place a failing test can print.
pub(crate) fn log_stdio(path: &Path) -> Result<(Stdio, Stdio)> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(TestSupportError::io(format!(
            "open log file {}",
            path.display()
        )))?;
    let err = file
        .try_clone()
        .map_err(TestSupportError::io("duplicate the log file handle"))?;
    Ok((Stdio::from(file), Stdio::from(err)))
}

/// The whole captured log; a missing or unreadable log reads as a note rather than an error,
/// because this is only ever used to explain some other failure.
pub(crate) fn read_log(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<log {} unreadable: {e}>", path.display()),
    }
}

/// The last few kilobytes of a log.
pub(crate) fn log_tail(path: &Path) -> String {
    let read_tail = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read_tail().unwrap_or_else(|e| format!("<log {} unreadable: {e}>", path.display()))
}

/// Sends `signal` to a child that has not been reaped yet (a zombie still accepts signals).
pub(crate) fn send_signal(child: &Child, signal: Signal) -> Result<()> {
    let Some(id) = child.id() else {
        return Ok(()); // already reaped: nothing left to signal
    };
    let pid = i32::try_from(id).map_err(|_| TestSupportError::System {
        action: format!("convert process id {id}"),
        source: nix::Error::EINVAL,
    })?;
    kill(Pid::from_raw(pid), signal).map_err(TestSupportError::system(format!(
        "send {signal} to process {id}"
    )))
}

/// SIGKILL and reap.
pub(crate) async fn kill_and_reap(child: &mut Child, what: &str) -> Result<ExitStatus> {
    if let Some(status) = child
        .try_wait()
        .map_err(TestSupportError::io(format!("poll {what}")))?
    {
        return Ok(status);
    }
    child
        .kill()
        .await
        .map_err(TestSupportError::io(format!("kill {what}")))?;
    child
        .wait()
        .await
        .map_err(TestSupportError::io(format!("reap {what}")))
}

/// For `Drop`, which cannot await: polls until the child has been reaped or `within` elapsed.
/// The sleeps are a few milliseconds each and only happen while a test fixture is torn down.
pub(crate) fn reap_blocking(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Polls `probe` with a short, growing backoff until it succeeds, the process exits
/// (`exited` returns its status) or `timeout` elapses. Errors carry the tail of `log`.
pub(crate) async fn poll_until_ready<P, F>(
    what: &str,
    log: &Path,
    timeout: Duration,
    mut exited: impl FnMut() -> std::io::Result<Option<ExitStatus>>,
    mut probe: P,
) -> Result<()>
where
    P: FnMut() -> F,
    F: Future<Output = std::result::Result<(), String>>,
{
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    loop {
        if let Some(status) = exited().map_err(TestSupportError::io(format!("poll {what}")))? {
            return Err(TestSupportError::ExitedEarly {
                what: what.to_owned(),
                status,
                log: log_tail(log),
            });
        }
        let last_error = match tokio::time::timeout(PROBE_TIMEOUT, probe()).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e,
            Err(_) => format!("probe did not answer within {PROBE_TIMEOUT:?}"),
        };
        if started.elapsed() >= timeout {
            return Err(TestSupportError::NotReady {
                what: what.to_owned(),
                after: timeout,
                last_error,
                log: log_tail(log),
            });
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A readiness probe: a TCP connection to 127.0.0.1:`port` is accepted.
pub(crate) async fn tcp_accepts(port: u16) -> std::result::Result<tokio::net::TcpStream, String> {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect to 127.0.0.1:{port}: {e}"))
}
