//! kaikuctl: a small command-line client for Kaiku's gRPC APIs.

mod bench;
mod cases;
mod commands;
mod dataset;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaikuctl: {e}");
            ExitCode::FAILURE
        }
    }
}
