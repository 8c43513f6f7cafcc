#![doc = include_str!("../README.md")]

pub mod answers;
pub mod backend;
pub mod contact;
pub mod error;
pub mod guidance;
pub mod help;
pub mod limits;
pub mod pages;
pub mod paper_entry;
pub mod print;
pub mod routes;
pub mod texts;
pub mod thanks;

use std::net::SocketAddr;
use std::sync::Arc;

use kaiku_grpc::Shutdown;
use kaiku_links::LinkKeys;

use crate::backend::Backend;
use crate::error::WebError;
use crate::help::{Contact, HelpContacts, Names, PhoneNumber};
use crate::limits::LinkLimiter;
use crate::routes::AppState;

/// Settings from the environment; `web-form --help` lists them.
#[derive(Debug, clap::Parser)]
#[command(
    name = "web-form",
    about = "Kaiku's public respondent web form, kiosk, posters, paper forms and paper entry"
)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long, env = "KAIKU_WEB_LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen_addr: SocketAddr,

    /// Where respondents reach this service; links and QR codes point here.
    #[arg(
        long,
        env = "KAIKU_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,

    #[command(flatten)]
    pub adapter: kaiku_grpc::AdapterSettings,

    /// Link signing keys, "id:base64secret,..." (>= 32-byte secrets): the first signs, all
    /// verify, so printed posters outlive a key rotation.
    #[arg(long, env = "KAIKU_LINK_KEYS", hide_env_values = true)]
    pub link_keys: String,

    /// Submissions one link or kiosk may make per minute, after its burst.
    #[arg(long, env = "KAIKU_LINK_SUBMISSIONS_PER_MINUTE", default_value_t = 60)]
    pub link_submissions_per_minute: u32,

    /// Submissions one link or kiosk may make at once (a class answering together).
    #[arg(long, env = "KAIKU_LINK_SUBMISSION_BURST", default_value_t = 200)]
    pub link_submission_burst: u32,

    /// A kiosk empties its form after this many seconds without a touch.
    #[arg(long, env = "KAIKU_KIOSK_IDLE_SECONDS", default_value_t = 90)]
    pub kiosk_idle_seconds: u32,

    /// A kiosk's thank-you screen returns to a fresh form after this long (1-600), unless the
    /// respondent asks for more time to read it ("Wait, I am still reading").
    #[arg(
        long,
        env = "KAIKU_KIOSK_RETURN_SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=600)
    )]
    pub kiosk_return_seconds: u32,

    /// Where children and young people can turn at school, shown after their answers: a name
    /// for every language, or "fi:...|sv:...|en:..." [default: "Koulusi kuraattori tai
    /// terveydenhoitaja", in sv and en likewise].
    #[arg(long, env = "KAIKU_HELP_SCHOOL_NAME")]
    pub help_school_name: Option<Names>,

    /// Its phone number, shown as a tap-to-call link (e.g. the county's student welfare line);
    /// none by default: the school's own kuraattori and nurse are named without one.
    #[arg(long, env = "KAIKU_HELP_SCHOOL_PHONE")]
    pub help_school_phone: Option<PhoneNumber>,

    /// The county's social emergency service (sosiaalipäivystys), shown to adults: a name for
    /// every language, or "fi:...|sv:...|en:..." [default: "Hyvinvointialueesi
    /// sosiaalipäivystys", in sv and en likewise].
    #[arg(long, env = "KAIKU_HELP_SOCIAL_EMERGENCY_NAME")]
    pub help_social_emergency_name: Option<Names>,

    /// Its phone number, shown as a tap-to-call link; set it: without one the service is named
    /// and 112 is the number shown.
    #[arg(long, env = "KAIKU_HELP_SOCIAL_EMERGENCY_PHONE")]
    pub help_social_emergency_phone: Option<PhoneNumber>,

    /// The patient and social welfare ombudsman, who advises adults on a formal objection
    /// (muistutus): a name for every language, or "fi:...|sv:...|en:..." [default:
    /// "Potilas- ja sosiaaliasiavastaava", in sv and en likewise].
    #[arg(long, env = "KAIKU_HELP_OMBUDSMAN_NAME")]
    pub help_ombudsman_name: Option<Names>,

    /// The ombudsman's phone number, shown as a tap-to-call link.
    #[arg(long, env = "KAIKU_HELP_OMBUDSMAN_PHONE")]
    pub help_ombudsman_phone: Option<PhoneNumber>,
}

impl Config {
    /// The county's places to turn to, as configured.
    pub fn help_contacts(&self) -> HelpContacts {
        HelpContacts {
            school: Contact {
                names: self.help_school_name.clone(),
                phone: self.help_school_phone.clone(),
            },
            social_emergency: Contact {
                names: self.help_social_emergency_name.clone(),
                phone: self.help_social_emergency_phone.clone(),
            },
            ombudsman: Contact {
                names: self.help_ombudsman_name.clone(),
                phone: self.help_ombudsman_phone.clone(),
            },
        }
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Application, WebError> {
        let keys =
            LinkKeys::parse(&config.link_keys).map_err(|e| WebError::Config(e.to_string()))?;
        let backend = Backend::new(config.adapter.clients().map_err(WebError::Config)?);
        let state = Arc::new(AppState {
            keys,
            public_url: config.public_url.clone(),
            backend,
            limiter: LinkLimiter::new(
                config.link_submissions_per_minute,
                config.link_submission_burst,
            ),
            kiosk_idle_seconds: config.kiosk_idle_seconds,
            kiosk_return_seconds: config.kiosk_return_seconds,
            help: config.help_contacts(),
        });
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .map_err(|e| {
                WebError::Config(format!("cannot listen on {}: {e}", config.listen_addr))
            })?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown`, then lets requests in flight finish.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), WebError> {
        tracing::info!(addr = ?self.listener.local_addr().ok(), "web-form listening");
        let app = routes::router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await
            .map_err(|e| WebError::Unavailable(format!("HTTP server failed: {e}")))
    }
}
