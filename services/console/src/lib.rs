#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod attention_routes;
pub mod attention_texts;
pub mod backend;
pub mod case_texts;
pub mod cases_page;
pub mod cases_routes;
pub mod charts;
pub mod error;
pub mod figures;
pub mod layout;
pub mod links_page;
pub mod oidc;
pub mod report;
pub mod reports_routes;
pub mod results_page;
pub mod results_routes;
pub mod review_page;
pub mod roles;
pub mod routes;
pub mod scheduled_reports;
pub mod session;
pub mod survey_routes;
pub mod surveys_page;
pub mod texts;
pub mod tokens;
pub mod units_page;
pub mod units_routes;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kaiku_grpc::{Shutdown, parse_duration};

use crate::accounts::LocalAccounts;
use crate::backend::Backend;
use crate::error::ConsoleError;
use crate::session::{Lifetimes, Sessions};
use crate::tokens::TokenSigner;
use crate::web::AppState;

/// Settings from the environment; `console --help` lists them.
#[derive(Debug, clap::Parser)]
#[command(
    name = "console",
    about = "Kaiku's staff console: results, results reviews, reports and survey set-up",
    after_help = "`console hash-password` reads a password from standard input and prints its \
                  Argon2id hash for KAIKU_CONSOLE_ACCOUNTS."
)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "KAIKU_CONSOLE_LISTEN_ADDR",
        default_value = "127.0.0.1:8090"
    )]
    pub listen_addr: SocketAddr,

    /// Where staff reach the console; an https address makes the cookies Secure.
    #[arg(
        long,
        env = "KAIKU_PUBLIC_URL",
        default_value = "http://127.0.0.1:8090"
    )]
    pub public_url: String,

    /// survey-definition's gRPC address.
    #[arg(
        long,
        env = "KAIKU_SURVEY_DEFINITION_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub survey_definition_url: String,

    /// analytics' gRPC address.
    #[arg(
        long,
        env = "KAIKU_ANALYTICS_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    pub analytics_url: String,

    /// feedback-handling's gRPC address (the feedback cases).
    #[arg(
        long,
        env = "KAIKU_HANDLING_URL",
        default_value = "http://127.0.0.1:50056"
    )]
    pub handling_url: String,

    /// response-intake's gRPC address (a manager's request to erase a comment: RedactResponse,
    /// as the signed-in person).
    #[arg(
        long,
        env = "KAIKU_INTAKE_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub intake_url: String,

    /// The private key (PEM: P-256 PKCS#8 or RSA) the console signs its service tokens with;
    /// the services trust its public key (KAIKU_AUTH_JWT_PUBLIC_KEYS).
    #[arg(long, env = "KAIKU_CONSOLE_SIGNING_KEY")]
    pub signing_key: PathBuf,

    /// The `iss` of the console's service tokens (the services' KAIKU_AUTH_JWT_ISSUER).
    #[arg(
        long,
        env = "KAIKU_CONSOLE_TOKEN_ISSUER",
        default_value = "kaiku-console"
    )]
    pub token_issuer: String,

    /// The `aud` of the console's service tokens (the services' KAIKU_AUTH_JWT_AUDIENCE).
    #[arg(long, env = "KAIKU_AUTH_JWT_AUDIENCE", default_value = "kaiku")]
    pub token_audience: String,

    /// Local staff accounts: a JSON file (see the README). Optional with an identity provider.
    #[arg(long, env = "KAIKU_CONSOLE_ACCOUNTS")]
    pub accounts: Option<PathBuf>,

    /// The county's OpenID Connect provider (issuer URL, https); unset = local accounts only.
    #[arg(long, env = "KAIKU_CONSOLE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The console's client id at the provider.
    #[arg(
        long,
        env = "KAIKU_CONSOLE_OIDC_CLIENT_ID",
        default_value = "kaiku-console"
    )]
    pub oidc_client_id: String,

    /// The console's client secret at the provider.
    #[arg(
        long,
        env = "KAIKU_CONSOLE_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub oidc_client_secret: String,

    /// The ID token claim that names the person in Kaiku: case assignments ("assigned to
    /// me", the handler typed on a case) and the audit. `sub` is stable but some providers make
    /// it opaque (Entra ID: a different random string per application); `preferred_username`
    /// or `email` are what a handler can type. Changing it later orphans existing assignments.
    #[arg(long, env = "KAIKU_CONSOLE_OIDC_SUBJECT_CLAIM", default_value = "sub")]
    pub oidc_subject_claim: String,

    /// The ID token claim with the person's role: unit-manager or county-staff.
    #[arg(
        long,
        env = "KAIKU_CONSOLE_OIDC_ROLE_CLAIM",
        default_value = "kaiku_role"
    )]
    pub oidc_role_claim: String,

    /// The ID token claim with the unit subtrees the person sees (a list of unit ids).
    #[arg(
        long,
        env = "KAIKU_CONSOLE_OIDC_UNITS_CLAIM",
        default_value = "kaiku_units"
    )]
    pub oidc_units_claim: String,

    /// The web form's public address, for the respondent links, QR codes, posters and paper
    /// forms the survey pages hand out (its KAIKU_PUBLIC_URL).
    #[arg(
        long,
        env = "KAIKU_WEB_FORM_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub web_form_url: String,

    /// The web form's link signing keys (its KAIKU_LINK_KEYS); unset = no links from here.
    #[arg(long, env = "KAIKU_LINK_KEYS", hide_env_values = true)]
    pub link_keys: Option<String>,

    /// Where reports are written once their collection period has ended
    /// (<survey>/<period>/<unit>.pdf and .csv); unset = no scheduled reports.
    #[arg(long, env = "KAIKU_CONSOLE_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,

    /// How often the scheduled reports look for ended periods.
    #[arg(long, env = "KAIKU_CONSOLE_REPORT_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub report_interval: Duration,

    /// The language of scheduled reports: fi, sv or en.
    #[arg(long, env = "KAIKU_CONSOLE_REPORT_LANGUAGE", default_value = "fi")]
    pub report_language: String,

    /// The TrueType font charts are measured and drawn with.
    #[arg(
        long,
        env = "KAIKU_CONSOLE_FONT",
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    pub font: PathBuf,

    /// A session ends after this long without a request.
    #[arg(long, env = "KAIKU_CONSOLE_SESSION_IDLE", default_value = "30m", value_parser = parse_duration)]
    pub session_idle: Duration,

    /// A session ends this long after sign-in, however active.
    #[arg(long, env = "KAIKU_CONSOLE_SESSION_MAX", default_value = "10h", value_parser = parse_duration)]
    pub session_max: Duration,

    #[command(flatten)]
    pub telemetry: kaiku_grpc::TelemetrySettings,
}

fn read(what: &str, path: &PathBuf) -> Result<Vec<u8>, ConsoleError> {
    std::fs::read(path).map_err(|e| ConsoleError::Config(format!("{what} {}: {e}", path.display())))
}

pub struct Application {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    reports: Option<scheduled_reports::ReportSchedule>,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Application, ConsoleError> {
        let key = read("KAIKU_CONSOLE_SIGNING_KEY", &config.signing_key)?;
        let signer = TokenSigner::new(&key, &config.token_issuer, &config.token_audience)?;
        let accounts = match &config.accounts {
            Some(path) => {
                let json = read("KAIKU_CONSOLE_ACCOUNTS", path)?;
                LocalAccounts::parse(&String::from_utf8_lossy(&json))?
            }
            None => LocalAccounts::default(),
        };
        let oidc = match &config.oidc_issuer {
            Some(issuer) if !issuer.is_empty() => Some(oidc::Oidc::new(oidc::OidcSettings {
                issuer: issuer.clone(),
                client_id: config.oidc_client_id.clone(),
                client_secret: config.oidc_client_secret.clone(),
                redirect_uri: format!(
                    "{}/login/oidc/callback",
                    config.public_url.trim_end_matches('/')
                ),
                subject_claim: config.oidc_subject_claim.clone(),
                role_claim: config.oidc_role_claim.clone(),
                units_claim: config.oidc_units_claim.clone(),
            })?),
            _ => None,
        };
        if accounts.is_empty() && oidc.is_none() {
            return Err(ConsoleError::Config(
                "neither KAIKU_CONSOLE_ACCOUNTS nor KAIKU_CONSOLE_OIDC_ISSUER names anyone who could sign in".into(),
            ));
        }
        charts::register_font(read("KAIKU_CONSOLE_FONT", &config.font)?)?;
        let links = match config.link_keys.as_deref().filter(|k| !k.is_empty()) {
            Some(keys) => Some(web::LinkSigner {
                keys: kaiku_links::LinkKeys::parse(keys)
                    .map_err(|e| ConsoleError::Config(format!("KAIKU_LINK_KEYS: {e}")))?,
                web_form_url: config.web_form_url.clone(),
            }),
            None => None,
        };
        let state = Arc::new(AppState {
            backend: Backend::new(
                &config.survey_definition_url,
                &config.analytics_url,
                &config.handling_url,
                &config.intake_url,
                signer,
            )?,
            sessions: Sessions::new(Lifetimes {
                idle: config.session_idle,
                absolute: config.session_max,
            }),
            accounts,
            oidc,
            links,
            report_dir: config.report_dir.clone(),
            password_checks: tokio::sync::Semaphore::new(2),
            secure_cookies: config.public_url.starts_with("https://"),
        });
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .map_err(|e| {
                ConsoleError::Config(format!("cannot listen on {}: {e}", config.listen_addr))
            })?;
        let reports = match &config.report_dir {
            Some(dir) => {
                let texts = texts::ALL
                    .iter()
                    .copied()
                    .find(|t| t.tag == config.report_language)
                    .ok_or_else(|| {
                        ConsoleError::Config(format!(
                            "KAIKU_CONSOLE_REPORT_LANGUAGE must be fi, sv or en, not {:?}",
                            config.report_language
                        ))
                    })?;
                Some(scheduled_reports::ReportSchedule {
                    dir: dir.clone(),
                    interval: config.report_interval,
                    texts,
                })
            }
            None => None,
        };
        Ok(Application {
            listener,
            state,
            reports,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown`, then lets requests in flight finish.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), ConsoleError> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "console listening");
        if let Some(schedule) = self.reports.clone() {
            tokio::spawn(scheduled_reports::run(
                Arc::clone(&self.state),
                schedule,
                shutdown.clone(),
            ));
        }
        let app = routes::router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await
            .map_err(|e| ConsoleError::Config(format!("HTTP server failed: {e}")))
    }
}
