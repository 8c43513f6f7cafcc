//! A stand-in service for this crate's own tests of `ServiceProcess`: it listens on a port,
//! writes to stdout and stderr, and reacts to SIGTERM as told. Not used outside those tests.
//!
//! Usage: `kaiku-test-support-fixture serve <port>` or `kaiku-test-support-fixture exit <code>`.
//! `KAIKU_FIXTURE_ON_SIGTERM=ignore` makes `serve` ignore SIGTERM instead of draining.

use std::error::Error;

use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", port] => serve(port.parse()?).await,
        ["exit", code] => {
            eprintln!("fixture failing on purpose with code {code}");
            std::process::exit(code.parse()?);
        }
        other => Err(format!("unknown arguments {other:?}").into()),
    }
}

async fn serve(port: u16) -> Result<(), Box<dyn Error>> {
    let ignore_sigterm = std::env::var("KAIKU_FIXTURE_ON_SIGTERM").as_deref() == Ok("ignore");
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("fixture listening on 127.0.0.1:{port}");
    eprintln!("fixture stderr is captured too");
    loop {
        tokio::select! {
            accepted = listener.accept() => drop(accepted?),
            _ = terminate.recv() => {
                if ignore_sigterm {
                    println!("fixture ignoring SIGTERM");
                } else {
                    println!("fixture draining");
                    return Ok(());
                }
            }
        }
    }
}
