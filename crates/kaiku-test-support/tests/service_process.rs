//! ServiceProcess against a real child process (this crate's fixture binary).

use std::error::Error;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use kaiku_test_support::{ServiceProcess, TestSupportError, free_port};

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

const FIXTURE: &str = "kaiku-test-support-fixture";
const READY: Duration = Duration::from_secs(5);

async fn serving_fixture(
    on_sigterm: &str,
) -> Result<(ServiceProcess, u16), Box<dyn Error + Send + Sync>> {
    let port = free_port()?;
    let port_arg = port.to_string();
    let service = ServiceProcess::start(
        FIXTURE,
        &["serve", &port_arg],
        &[("KAIKU_FIXTURE_ON_SIGTERM", on_sigterm.to_owned())],
    )
    .await?;
    service.wait_for_port(port, READY).await?;
    Ok((service, port))
}

#[test]
fn binary_path_of_an_unbuilt_service_says_how_to_build_it() {
    let error = ServiceProcess::binary_path("no-such-kaiku-service")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();

    assert!(error.contains("no-such-kaiku-service"), "{error}");
    assert!(error.contains("cargo build --bins"), "{error}");
}

#[test]
fn binary_path_finds_a_binary_next_to_the_test_executable() -> TestResult {
    let path = ServiceProcess::binary_path(FIXTURE)?;

    assert_eq!(
        path,
        std::path::Path::new(env!("CARGO_BIN_EXE_kaiku-test-support-fixture"))
    );
    Ok(())
}

#[tokio::test]
async fn terminate_lets_a_service_drain_and_keeps_its_output() -> TestResult {
    let (mut service, _) = serving_fixture("drain").await?;
    assert!(service.id().is_some());

    let status = service.terminate(Duration::from_secs(5)).await?;

    assert!(status.success(), "{status}");
    let log = service.log();
    assert!(log.contains("fixture listening"), "{log}");
    assert!(log.contains("fixture stderr is captured too"), "{log}");
    assert!(log.contains("fixture draining"), "{log}");
    assert_eq!(service.id(), None);
    Ok(())
}

#[tokio::test]
async fn terminate_kills_a_service_that_ignores_sigterm_after_the_grace() -> TestResult {
    let (mut service, _) = serving_fixture("ignore").await?;
    let grace = Duration::from_millis(300);
    let started = Instant::now();

    let status = service.terminate(grace).await?;

    assert!(started.elapsed() >= grace);
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGKILL as i32)
    );
    Ok(())
}

#[tokio::test]
async fn kill_crashes_the_service_and_closes_its_port() -> TestResult {
    let (mut service, port) = serving_fixture("drain").await?;

    service.kill().await?;

    assert_eq!(service.id(), None);
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    assert!(!service.log().contains("fixture draining"));
    Ok(())
}

#[tokio::test]
async fn wait_for_port_reports_an_early_exit_with_the_log() -> TestResult {
    let port = free_port()?;
    let service = ServiceProcess::start(FIXTURE, &["exit", "3"], &[]).await?;

    let result = service.wait_for_port(port, READY).await;

    match result {
        Err(TestSupportError::ExitedEarly { status, log, .. }) => {
            assert_eq!(status.code(), Some(3));
            assert!(log.contains("fixture failing on purpose"), "{log}");
        }
        other => panic!("expected ExitedEarly, got {other:?}"),
    }
    Ok(())
}
