use clap::Parser;
use feedback_handling::{Application, Config};

/// mimalloc instead of glibc malloc, as in every Kaiku service (ADR 0011).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    let telemetry = kaiku_telemetry::init(&config.common.telemetry("feedback-handling"))?;
    let shutdown = kaiku_grpc::Shutdown::on_signals()?;
    let result = match Application::build(&config).await {
        Ok(app) => app.run(shutdown).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "feedback-handling stopped with an error");
    }
    telemetry.shutdown();
    Ok(result?)
}
