#![doc = include_str!("../README.md")]

pub mod gateway;
pub mod phone;
pub mod provider;
pub mod replies;
pub mod routes;
pub mod rules;
pub mod store;
pub mod texts;
pub mod visits;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::NaiveTime;
use kaiku_grpc::{Shutdown, parse_duration};
use sqlx::postgres::PgPoolOptions;

use crate::gateway::{Gateway, Timing};
use crate::phone::PhoneVault;
use crate::provider::HttpProvider;
use crate::routes::{AppState, Tokens};
use crate::rules::SmsRules;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Gateway(#[from] gateway::GatewayError),
    #[error("HTTP server: {0}")]
    Serve(#[from] std::io::Error),
}

/// Settings from the environment; `sms-gateway --help` lists them.
#[derive(Debug, clap::Parser)]
#[command(
    name = "sms-gateway",
    about = "Kaiku's SMS channel: invitations after visits, replies through the provider's webhook"
)]
pub struct Config {
    #[arg(long, env = "KAIKU_SMS_LISTEN_ADDR", default_value = "127.0.0.1:8090")]
    pub listen_addr: SocketAddr,
    /// The gateway's own database (invitations and conversations; never the read models').
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    #[command(flatten)]
    pub adapter: kaiku_grpc::AdapterSettings,
    /// The survey SMS invitations ask (its NPS question, then its first open question).
    #[arg(long, env = "KAIKU_SMS_SURVEY_ID")]
    pub survey_id: String,
    /// Base64 secret (>= 32 bytes) for the phone numbers' keyed hashes and their encryption.
    #[arg(long, env = "KAIKU_SMS_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The SMS provider's send endpoint.
    #[arg(long, env = "KAIKU_SMS_PROVIDER_URL")]
    pub provider_url: String,
    #[arg(
        long,
        env = "KAIKU_SMS_PROVIDER_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub provider_token: String,
    /// Name the unit of the visit in the invitation. Off by default: a lock-screen preview would
    /// tell anyone near the phone which service its owner uses.
    #[arg(long, env = "KAIKU_SMS_NAME_UNIT", default_value_t = false)]
    pub name_unit: bool,
    /// Sender name or number shown to the recipient.
    #[arg(long, env = "KAIKU_SMS_SENDER", default_value = "Kaiku")]
    pub sender: String,
    /// Bearer token the record system sends with visit events.
    #[arg(long, env = "KAIKU_SMS_VISITS_TOKEN", hide_env_values = true)]
    pub visits_token: String,
    /// Token the provider's webhook sends in X-Kaiku-Webhook-Token.
    #[arg(long, env = "KAIKU_SMS_WEBHOOK_TOKEN", hide_env_values = true)]
    pub webhook_token: String,
    /// Local time invitations go out the day after the visit.
    #[arg(long, env = "KAIKU_SMS_SEND_TIME", default_value = "10:00")]
    pub send_time: NaiveTime,
    /// Sending hours, local, as FROM-TO (24-hour); "0-24" sends at any hour.
    #[arg(long, env = "KAIKU_SMS_SENDING_HOURS", default_value = "9-20", value_parser = parse_hours)]
    pub sending_hours: (u32, u32),
    #[arg(long, env = "KAIKU_SMS_MIN_AGE", default_value_t = 18)]
    pub min_age: u32,
    /// How long a score waits for the optional text before it is submitted alone.
    #[arg(long, env = "KAIKU_SMS_TEXT_WAIT", default_value = "2h", value_parser = parse_duration)]
    pub text_wait: Duration,
    /// How long an invitation waits for a reply.
    #[arg(long, env = "KAIKU_SMS_REPLY_WINDOW", default_value = "7days", value_parser = parse_duration)]
    pub reply_window: Duration,
    /// How often due invitations are sent and finished answers submitted.
    #[arg(long, env = "KAIKU_SMS_POLL_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Take the visits of this CSV file, print the outcome per visit, and exit.
    #[arg(long)]
    pub import_csv: Option<std::path::PathBuf>,
}

fn parse_hours(value: &str) -> Result<(u32, u32), String> {
    let parsed = value
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((from, to)) if from < to && to <= 24 => Ok((from, to)),
        _ => Err(format!(
            "{value:?} is not sending hours like 9-20 (from < to <= 24)"
        )),
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

pub struct Application {
    state: Arc<AppState<HttpProvider>>,
    listen_addr: SocketAddr,
    poll_interval: Duration,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Application, StartError> {
        let secret = base64::engine::general_purpose::STANDARD
            .decode(config.secret.trim())
            .map_err(|_| StartError::Config("KAIKU_SMS_SECRET is not base64".into()))?;
        let vault = PhoneVault::new(&secret).map_err(|e| StartError::Config(e.to_string()))?;
        for (name, value) in [
            ("KAIKU_SMS_VISITS_TOKEN", &config.visits_token),
            ("KAIKU_SMS_WEBHOOK_TOKEN", &config.webhook_token),
        ] {
            if value.len() < 16 {
                return Err(StartError::Config(format!(
                    "{name} must be at least 16 characters"
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&config.database_url)
            .await?;
        store::MIGRATOR.run(&pool).await?;
        let clients = config.adapter.clients().map_err(StartError::Config)?;
        let provider =
            HttpProvider::new(&config.provider_url, &config.provider_token, &config.sender)
                .map_err(|e| StartError::Config(e.to_string()))?;
        let gateway = Gateway {
            pool,
            vault,
            rules: SmsRules {
                min_age: config.min_age,
                send_time: config.send_time,
                sending_hours: config.sending_hours,
                ..SmsRules::default()
            },
            timing: Timing {
                reply_window: chrono_duration(config.reply_window),
                text_wait: chrono_duration(config.text_wait),
            },
            provider,
            surveys: clients.surveys,
            intake: clients.intake,
            survey_id: config.survey_id.clone(),
            name_unit: config.name_unit,
        };
        Ok(Application {
            state: Arc::new(AppState {
                gateway,
                tokens: Tokens {
                    visits: config.visits_token.clone(),
                    webhook: config.webhook_token.clone(),
                },
            }),
            listen_addr: config.listen_addr,
            poll_interval: config.poll_interval,
        })
    }

    /// `--import-csv`: the visits of one file, outcome per line on stdout.
    pub async fn import_csv(&self, path: &std::path::Path) -> Result<(), StartError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
        let events = visits::parse_csv(&text)
            .map_err(|v| StartError::Config(format!("{}: {v}", path.display())))?;
        let visits = visits::check_all(&events)
            .map_err(|v| StartError::Config(format!("{}: {v}", path.display())))?;
        let outcomes = self
            .state
            .gateway
            .take_visits(&visits, chrono::Utc::now())
            .await?;
        for (i, outcome) in outcomes.iter().enumerate() {
            println!("{}", routes::outcome_json(i, outcome));
        }
        Ok(())
    }

    /// Serves HTTP and runs the send/submit rounds until `shutdown`.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), StartError> {
        let listener = tokio::net::TcpListener::bind(self.listen_addr).await?;
        tracing::info!(addr = %self.listen_addr, "sms-gateway listening");
        let state = self.state.clone();
        let rounds_shutdown = shutdown.clone();
        let interval = self.poll_interval;
        let rounds = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = rounds_shutdown.wait() => break,
                    _ = tick.tick() => {
                        if let Err(e) = state.gateway.round(chrono::Utc::now()).await {
                            tracing::warn!(error = %e, "SMS round failed; trying again next round");
                        }
                    }
                }
            }
        });
        axum::serve(listener, routes::router(self.state))
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await?;
        let _ = rounds.await;
        Ok(())
    }
}
