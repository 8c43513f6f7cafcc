use std::io::BufRead;

use clap::Parser;
use console::{Application, Config};

/// mimalloc instead of glibc malloc, as in every Kaiku service (ADR 0011).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("hash-password") {
        let mut password = String::new();
        std::io::stdin().lock().read_line(&mut password)?;
        println!(
            "{}",
            console::accounts::hash_password(password.trim_end_matches(['\r', '\n']))?
        );
        return Ok(());
    }
    let config = Config::parse();
    let telemetry = kaiku_telemetry::init(&config.telemetry.config("console"))?;
    let shutdown = kaiku_grpc::Shutdown::on_signals()?;
    let result = match Application::build(&config).await {
        Ok(app) => app.run(shutdown).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "console stopped with an error");
    }
    telemetry.shutdown();
    Ok(result?)
}
