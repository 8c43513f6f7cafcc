use clap::Parser;
use projection::{Application, Config, MIGRATOR, connect_database};

/// mimalloc instead of glibc malloc: allocation was 39 % of intake's CPU under load (ADR 0011).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::parse();
    let telemetry = kaiku_telemetry::init(&config.common.telemetry("projection"))?;
    let result = if config.migrate_only {
        migrate(&config).await
    } else if config.rebuild {
        rebuild(&config).await
    } else {
        let shutdown = kaiku_grpc::Shutdown::on_signals()?;
        match Application::build(&config).await {
            Ok(app) => app.run(shutdown).await,
            Err(e) => Err(e),
        }
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "projection stopped with an error");
    }
    telemetry.shutdown();
    Ok(result?)
}

async fn rebuild(config: &Config) -> Result<(), projection::ProjectionError> {
    let report = projection::rebuild(config).await?;
    println!("built_as={}", report.built_as);
    println!("retired_as={}", report.retired_as);
    for (stream, sequence) in &report.checkpoints {
        println!("checkpoint.{stream}={sequence}");
    }
    println!("seconds={:.1}", report.elapsed.as_secs_f64());
    Ok(())
}

async fn migrate(config: &Config) -> Result<(), projection::ProjectionError> {
    let pool = connect_database(&config.database_url).await?;
    MIGRATOR.run(&pool).await?;
    tracing::info!("read models migrated");
    // As the owner, the migration job can drop what a crashed rebuild left (ADR 0019).
    projection::schemas::clear_leftovers(&pool).await?;
    Ok(())
}
