//! kaiku-load: load generator and raw-limit meter. Prints its figures as `key=value` lines.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kaiku_domain::fixtures::fixture_units;
use kaiku_eventstore::NatsLogin;
use kaiku_grpc::AuthorizedChannel;
use kaiku_load::stats::{Percentiles, millis};
use kaiku_load::workload::load_survey;
use kaiku_load::{Clients, LoadError, Mode, Record, RunConfig, Stop, raw, verify};
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{CreateSurveyRequest, PublishVersionRequest};

#[derive(Parser)]
#[command(
    name = "kaiku-load",
    about = "Drive response-intake with load and check the read models"
)]
struct Cli {
    /// Bearer token: survey-admin for `setup`, submit for `run`, read for the checks.
    #[arg(long, env = "KAIKU_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the units and publishes the load survey; prints survey_id= and units=.
    Setup {
        #[arg(
            long,
            env = "KAIKU_SURVEY_ADDR",
            default_value = "http://127.0.0.1:50051"
        )]
        survey_addr: String,
        #[arg(long, default_value_t = 10)]
        units: usize,
    },
    /// Submits load and writes the record of acknowledged submissions.
    Run {
        #[arg(
            long,
            env = "KAIKU_INTAKE_ADDR",
            default_value = "http://127.0.0.1:50052"
        )]
        intake_addr: String,
        /// For freshness probes (with --freshness-every).
        #[arg(
            long,
            env = "KAIKU_ANALYTICS_ADDR",
            default_value = "http://127.0.0.1:50054"
        )]
        analytics_addr: String,
        #[arg(long)]
        survey_id: String,
        /// Comma-separated unit ids of the survey.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// unary, streaming, or mixed:<percent of unary workers>.
        #[arg(long, default_value = "unary", value_parser = parse_mode)]
        mode: Mode,
        /// Submissions per second; omit for saturation.
        #[arg(long)]
        rate: Option<f64>,
        #[arg(long, default_value_t = 16)]
        workers: usize,
        /// Stop after this many submissions ...
        #[arg(long, conflicts_with = "duration")]
        count: Option<u64>,
        /// ... or after this long (e.g. 30s).
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Retry failed submissions with the same id for this long (e.g. 60s).
        #[arg(long, value_parser = humantime::parse_duration)]
        retry_for: Option<Duration>,
        /// Unacknowledged submissions per stream.
        #[arg(long, default_value_t = 64)]
        window: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Probe ack-to-visible freshness through analytics this often (e.g. 50ms).
        #[arg(long, value_parser = humantime::parse_duration)]
        freshness_every: Option<Duration>,
        /// Where to write the record.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Compares the read models with a record.
    Verify {
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: String,
        #[arg(
            long,
            env = "KAIKU_ANALYTICS_ADDR",
            default_value = "http://127.0.0.1:50054"
        )]
        analytics_addr: String,
        #[arg(long)]
        record: PathBuf,
        #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
        wait: Duration,
    },
    /// Acknowledged JetStream publishes of the same events, to a stream of their own.
    RawJetstream {
        #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        #[arg(long, env = "NATS_USER")]
        nats_user: Option<String>,
        #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
        nats_password: Option<String>,
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        #[arg(long, default_value_t = 256)]
        in_flight: usize,
    },
    /// Batched inserts of the same responses' rows into copies of the read model's tables.
    RawPostgres {
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: String,
        #[arg(long, default_value_t = 500_000)]
        count: usize,
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
    },
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    match value {
        "unary" => Ok(Mode::Unary),
        "streaming" => Ok(Mode::Streaming),
        _ => match value.strip_prefix("mixed:").map(str::parse::<u8>) {
            Some(Ok(unary_percent)) if unary_percent <= 100 => Ok(Mode::Mixed { unary_percent }),
            _ => Err(format!(
                "expected unary, streaming or mixed:<0-100>, got {value:?}"
            )),
        },
    }
}

async fn connect(addr: &str, token: &str) -> Result<AuthorizedChannel, LoadError> {
    kaiku_grpc::connect_client(addr, token)
        .await
        .map_err(|e| LoadError::Connect {
            addr: e.addr,
            reason: e.reason,
        })
}

fn print_percentiles(name: &str, p: &Percentiles) {
    println!(
        "{name}_count={}\n{name}_p50_ms={}\n{name}_p90_ms={}\n{name}_p99_ms={}\n{name}_max_ms={}",
        p.count,
        millis(p.p50),
        millis(p.p90),
        millis(p.p99),
        millis(p.max)
    );
}

async fn run(cli: Cli) -> Result<(), LoadError> {
    let token = cli.token.unwrap_or_default();
    match cli.command {
        Command::Setup { survey_addr, units } => {
            let mut surveys = SurveyDefinitionClient::new(connect(&survey_addr, &token).await?);
            let unit_ids: Vec<String> = (1..=units).map(|i| format!("load-unit-{i}")).collect();
            let refs: Vec<&str> = unit_ids.iter().map(String::as_str).collect();
            let call = |call| move |status| LoadError::Call { call, status };
            for unit in fixture_units(&refs) {
                surveys
                    .create_unit(unit)
                    .await
                    .map_err(call("CreateUnit"))?;
            }
            let created = surveys
                .create_survey(CreateSurveyRequest {
                    survey_id: String::new(),
                    draft: Some(load_survey(&refs)),
                })
                .await
                .map_err(call("CreateSurvey"))?
                .into_inner()
                .survey
                .ok_or_else(|| LoadError::Config("CreateSurvey replied without a survey".into()))?;
            surveys
                .publish_version(PublishVersionRequest {
                    survey_id: created.survey_id.clone(),
                    expected_revision: created.revision,
                })
                .await
                .map_err(call("PublishVersion"))?;
            println!(
                "survey_id={}\nunits={}",
                created.survey_id,
                unit_ids.join(",")
            );
        }
        Command::Run {
            intake_addr,
            analytics_addr,
            survey_id,
            units,
            mode,
            rate,
            workers,
            count,
            duration,
            retry_for,
            window,
            seed,
            freshness_every,
            record,
        } => {
            let intake = ResponseIntakeClient::new(connect(&intake_addr, &token).await?);
            let analytics = match freshness_every {
                Some(_) => Some(AnalyticsClient::new(
                    connect(&analytics_addr, &token).await?,
                )),
                None => None,
            };
            let stop = match (count, duration) {
                (Some(count), _) => Stop::Count(count),
                (None, Some(duration)) => Stop::After(duration),
                (None, None) => Stop::Count(10_000),
            };
            let config = RunConfig {
                mode,
                rate,
                workers,
                stop,
                retry_for,
                window,
                seed,
                freshness_every,
                ..RunConfig::new(&survey_id, &units)
            };
            let report = kaiku_load::drive::run(&Clients { intake, analytics }, config).await?;
            println!(
                "scheduled={}\nacknowledged={}\nrefused={}\nretries={}\nduplicate_replies={}\nelapsed_s={:.3}\nacknowledged_per_s={:.1}\nmax_sequence={}",
                report.scheduled,
                report.record.len(),
                report.refused_total(),
                report.retries,
                report.record.duplicate_replies(),
                report.elapsed.as_secs_f64(),
                report.acknowledged_per_second(),
                report.record.max_sequence()
            );
            for (code, n) in &report.refused {
                println!("refused_{code}={n}");
            }
            print_percentiles("latency", &report.latency);
            print_percentiles("freshness", &report.freshness);
            println!("freshness_failed={}", report.freshness_failed);
            if let Some(path) = record {
                report.record.write_to(&path)?;
            }
        }
        Command::Verify {
            database_url,
            analytics_addr,
            record,
            wait,
        } => {
            let record = Record::read_from(&record)?;
            let pool = sqlx::PgPool::connect(&database_url).await?;
            let mut analytics = AnalyticsClient::new(connect(&analytics_addr, &token).await?);
            let verification = verify(&pool, &record, Some(&mut analytics), wait).await?;
            println!("{verification}");
            if !verification.is_exact() {
                return Err(LoadError::Config(
                    "the read models differ from the record".into(),
                ));
            }
            println!("exact=true");
        }
        Command::RawJetstream {
            nats_url,
            nats_user,
            nats_password,
            count,
            in_flight,
        } => {
            let login = nats_user.map(|user| NatsLogin {
                user,
                password: nats_password.unwrap_or_default(),
            });
            let events = raw::submitted_events(count, 1)?;
            let report =
                raw::jetstream_publish(&nats_url, login.as_ref(), &events, in_flight).await?;
            println!(
                "raw_jetstream_count={}\nraw_jetstream_per_s={:.1}",
                report.count,
                report.per_second()
            );
            print_percentiles("raw_jetstream_ack", &report.latency);
        }
        Command::RawPostgres {
            database_url,
            count,
            batch,
        } => {
            let pool = sqlx::PgPool::connect(&database_url).await?;
            let events = raw::submitted_events(count, 1)?;
            let report = raw::postgres_inserts(&pool, &events, batch).await?;
            println!(
                "raw_postgres_count={}\nraw_postgres_per_s={:.1}",
                report.count,
                report.per_second()
            );
            print_percentiles("raw_postgres_batch", &report.latency);
        }
    }
    Ok(())
}

/// mimalloc instead of glibc malloc: allocation was 39 % of intake's CPU under load (ADR 0011).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaiku-load: {e}");
            ExitCode::FAILURE
        }
    }
}
