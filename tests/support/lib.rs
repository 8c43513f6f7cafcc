//! A whole Kaiku stack for system tests: throwaway nats-server and PostgreSQL, and the four real
//! service binaries (build them first: `cargo build --bins`), each on its own free port.

pub mod console_client;
pub mod idp;
pub mod smtp;

use std::collections::HashMap;
use std::time::Duration;

use kaiku_auth::Scope;
use kaiku_domain::fixtures::{NPS_KEY, fixture_units, nps_survey};
use kaiku_grpc::{AuthorizedChannel, authorized};
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::intake::v1::response_intake_client::ResponseIntakeClient;
use kaiku_proto::intake::v1::submit_responses_item::Outcome;
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::survey_definition_client::SurveyDefinitionClient;
use kaiku_proto::survey::v1::{
    CreateSurveyRequest, Language, PublishVersionRequest, RespondentRole, SurveyContent,
};
use kaiku_test_support::{
    Grant, NatsServer, PostgresServer, ServiceProcess, TestCredentials, free_port,
};
use tonic::transport::Channel;
pub use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A filter of the clients' answers: every analytics query names the roles its figures cover
/// (ADR 0015).
pub fn clients() -> kaiku_proto::analytics::v1::ResponseFilter {
    kaiku_proto::analytics::v1::ResponseFilter {
        respondent_roles: vec![RespondentRole::Client as i32],
        ..Default::default()
    }
}

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const SERVICES: [&str; 5] = [
    "survey-definition",
    "response-intake",
    "feedback-handling",
    "projection",
    "analytics",
];

/// The content key the tests' feedback-handling seals cases with.
pub const TEST_CONTENT_KEYS: &str = "test-1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";

pub struct Stack {
    pub nats: NatsServer,
    pub postgres: PostgresServer,
    /// The test's database as its owner `kaiku_owner` sees it (migrations, rebuilds, and the
    /// tests' own inspection).
    pub database_url: String,
    /// As the projection writes it: `kaiku_projection` in `kaiku_writer`, rows only.
    pub projection_database_url: String,
    /// The same database as analytics sees it: the login role `kaiku_analytics`, a member of
    /// `kaiku_reader`, which may only read.
    pub reader_database_url: String,
    ports: HashMap<&'static str, u16>,
    /// Where each service serves its Prometheus metrics.
    metrics_ports: HashMap<&'static str, u16>,
    processes: HashMap<&'static str, ServiceProcess>,
    /// Settings every service gets on top of the defaults (e.g. KAIKU_MIN_GROUP_SIZE).
    extra_env: Vec<(&'static str, String)>,
    /// The API keys every service knows; the test's own calls use the admin key.
    pub credentials: TestCredentials,
    /// A submit-only key (any survey, any channel), for the channel adapters.
    pub service_token: String,
    /// feedback-handling's content keys file and anything else a service reads from disk.
    pub files: tempfile::TempDir,
}

impl Stack {
    /// Starts NATS, PostgreSQL and all four services, and waits until each reports SERVING.
    pub async fn start() -> TestResult<Stack> {
        Stack::start_with_env(&[]).await
    }

    /// As `start`, with `extra_env` given to every service.
    pub async fn start_with_env(extra_env: &[(&'static str, String)]) -> TestResult<Stack> {
        Ok(Stack::start_with_keys(extra_env, &[]).await?.0)
    }

    /// As `start_with_env`, with more API keys every service knows (name, scopes, grant);
    /// returns their tokens in the same order.
    pub async fn start_with_keys(
        extra_env: &[(&'static str, String)],
        keys: &[(&str, &[Scope], Grant)],
    ) -> TestResult<(Stack, Vec<String>)> {
        let credentials = TestCredentials::new()?;
        let service_token =
            credentials.add("channel-adapter", &[Scope::Submit], Grant::default())?;
        let mut tokens = Vec::new();
        for (name, scopes, grant) in keys {
            tokens.push(credentials.add(name, scopes, grant.clone())?);
        }
        let nats = NatsServer::start().await?;
        let postgres = PostgresServer::start().await?;
        let (database_url, projection_database_url, reader_database_url) =
            database_roles(&postgres.create_database().await?).await?;
        let mut stack = Stack {
            nats,
            postgres,
            database_url,
            projection_database_url,
            reader_database_url,
            ports: HashMap::new(),
            metrics_ports: HashMap::new(),
            processes: HashMap::new(),
            extra_env: extra_env.to_vec(),
            credentials,
            service_token,
            files: tempfile::Builder::new().prefix("kaiku-stack-").tempdir()?,
        };
        std::fs::write(stack.content_keys_file(), TEST_CONTENT_KEYS)?;
        for name in SERVICES {
            stack.ports.insert(name, free_port()?);
            stack.metrics_ports.insert(name, free_port()?);
        }
        // Migrations run as the owner, first, as a deployment's migration job does.
        let (migrated, stdout, stderr) = stack
            .run_command("projection", &["--migrate-only"], Duration::from_secs(60))
            .await?;
        if !migrated {
            return Err(format!("migrating failed:\n{stdout}\n{stderr}").into());
        }
        for name in SERVICES {
            stack.start_service(name).await?;
        }
        Ok((stack, tokens))
    }

    /// A service's Prometheus metrics as text (GET /metrics).
    pub async fn metrics(&self, name: &str) -> TestResult<String> {
        let port = self
            .metrics_ports
            .get(name)
            .copied()
            .ok_or("unknown service")?;
        let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await?;
        if !response.status().is_success() {
            return Err(format!("{name} /metrics answered {}", response.status()).into());
        }
        Ok(response.text().await?)
    }

    /// The overall grpc.health.v1 status of a service (None when it does not answer).
    pub async fn health(&self, name: &str) -> Option<ServingStatus> {
        let channel = Channel::from_shared(self.address(name))
            .ok()?
            .connect()
            .await
            .ok()?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .ok()?
            .into_inner()
            .status;
        ServingStatus::try_from(status).ok()
    }

    pub fn address(&self, name: &str) -> String {
        format!(
            "http://127.0.0.1:{}",
            self.ports.get(name).copied().unwrap_or_default()
        )
    }

    /// Starts a service on its ports; if another test took one of them between choosing and
    /// binding (a free port is only free until someone binds it), on new ones.
    pub async fn start_service(&mut self, name: &'static str) -> TestResult {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            match self.start_service_once(name).await {
                Err(error)
                    if attempt < ATTEMPTS
                        && error.to_string().contains("Address already in use") =>
                {
                    self.ports.insert(name, free_port()?);
                    self.metrics_ports.insert(name, free_port()?);
                }
                other => return other,
            }
        }
        Err(format!("{name} found no free port").into())
    }

    async fn start_service_once(&mut self, name: &'static str) -> TestResult {
        let port = self.ports.get(name).copied().ok_or("unknown service")?;
        // Analytics reads with the read-only role; the projection writes rows as its own role,
        // which cannot change the schema (so it does not migrate at start-up).
        let database_url = match name {
            "analytics" => self.reader_database_url.clone(),
            "projection" => self.projection_database_url.clone(),
            _ => self.database_url.clone(),
        };
        let mut env = vec![
            ("NATS_URL", self.nats.address()),
            ("NATS_USER", name.to_owned()),
            (
                "NATS_PASSWORD",
                self.nats.password(name).unwrap_or_default().to_owned(),
            ),
            ("DATABASE_URL", database_url),
            ("KAIKU_LISTEN_ADDR", format!("127.0.0.1:{port}")),
            (
                "KAIKU_METRICS_ADDR",
                format!(
                    "127.0.0.1:{}",
                    self.metrics_ports.get(name).copied().unwrap_or_default()
                ),
            ),
            ("KAIKU_SHUTDOWN_GRACE", "5s".to_owned()),
            ("RUST_LOG", "info".to_owned()),
            ("KAIKU_AUTH_API_KEYS", self.keys_file()),
            ("KAIKU_MIGRATE_ON_START", "false".to_owned()),
        ];
        if name == "feedback-handling" {
            env.push((
                "KAIKU_HANDLING_CONTENT_KEYS",
                self.content_keys_file().display().to_string(),
            ));
            // Reminders, escalations and erasures are looked for often, so tests see them soon.
            env.push(("KAIKU_HANDLING_SWEEP_INTERVAL", "300ms".to_owned()));
        }
        if name == "projection" {
            // Readers see answers once released (ADR 0020): soon after a test's stop coming.
            env.push(("KAIKU_READER_RELEASE_QUIET", "1s".to_owned()));
        }
        if name == "analytics" {
            // On a loaded CI machine a test's answers can take longer than the default 10 s to
            // be projected and released.
            env.push(("KAIKU_CONSISTENCY_WAIT", "30s".to_owned()));
        }
        env.extend(self.extra_env.iter().cloned());
        let process = ServiceProcess::start(name, &[], &env).await?;
        process.wait_for_port(port, Duration::from_secs(30)).await?;
        self.processes.insert(name, process);
        self.wait_serving(name, Duration::from_secs(30)).await
    }

    /// Runs a service binary as a one-shot command (e.g. `projection --rebuild`) against this
    /// stack and returns whether it succeeded with its standard output and error.
    pub async fn run_command(
        &self,
        name: &str,
        args: &[&str],
        timeout: Duration,
    ) -> TestResult<(bool, String, String)> {
        let output = tokio::process::Command::new(ServiceProcess::binary_path(name)?)
            .args(args)
            .env("NATS_URL", self.nats.address())
            .env("NATS_USER", name)
            .env(
                "NATS_PASSWORD",
                self.nats.password(name).unwrap_or_default(),
            )
            .env("DATABASE_URL", &self.database_url)
            .env("KAIKU_LISTEN_ADDR", format!("127.0.0.1:{}", free_port()?))
            .env("KAIKU_AUTH_API_KEYS", self.keys_file())
            .env("RUST_LOG", "info")
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(timeout, output).await??;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// SIGKILL: a crash with no chance to finish anything.
    pub async fn kill(&mut self, name: &'static str) -> TestResult {
        if let Some(process) = self.processes.get_mut(name) {
            process.kill().await?;
        }
        self.processes.remove(name);
        Ok(())
    }

    pub fn log(&self, name: &str) -> String {
        self.processes
            .get(name)
            .map(|p| p.log())
            .unwrap_or_default()
    }

    /// The NATS server's refusals (lines naming a permission violation), for tests that check
    /// the services worked within their NATS users' permissions (deploy/nats/users.conf).
    pub fn nats_refusals(&self) -> Vec<String> {
        self.nats
            .log()
            .lines()
            .filter(|line| line.contains("Violation"))
            .map(str::to_owned)
            .collect()
    }

    /// Every service's captured output, for a failing test's message.
    pub fn logs(&self) -> String {
        SERVICES
            .iter()
            .map(|n| format!("==== {n}\n{}", self.log(n)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    async fn wait_serving(&self, name: &str, timeout: Duration) -> TestResult {
        self.wait_health(name, ServingStatus::Serving, timeout)
            .await
    }

    /// Waits until a service reports `wanted` as its overall health.
    pub async fn wait_health(
        &self,
        name: &str,
        wanted: ServingStatus,
        timeout: Duration,
    ) -> TestResult {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.health(name).await == Some(wanted) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "{name} not {wanted:?} after {timeout:?}; log:\n{}",
                    self.log(name)
                )
                .into());
            }
            // Polling a health endpoint, not waiting for a result: readiness has no event to await.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn content_keys_file(&self) -> std::path::PathBuf {
        self.files.path().join("content-keys")
    }

    fn keys_file(&self) -> String {
        self.credentials.api_keys_file().display().to_string()
    }

    /// A channel to `name` whose calls carry `token`.
    pub async fn channel_as(&self, name: &str, token: &str) -> TestResult<AuthorizedChannel> {
        let channel = Channel::from_shared(self.address(name))?.connect().await?;
        Ok(authorized(channel, token))
    }

    pub async fn surveys(&self) -> TestResult<SurveyDefinitionClient<AuthorizedChannel>> {
        let token = &self.credentials.admin_token;
        Ok(SurveyDefinitionClient::new(
            self.channel_as("survey-definition", token).await?,
        ))
    }

    pub async fn intake(&self) -> TestResult<ResponseIntakeClient<AuthorizedChannel>> {
        let token = &self.credentials.admin_token;
        Ok(ResponseIntakeClient::new(
            self.channel_as("response-intake", token).await?,
        ))
    }

    pub async fn analytics(&self) -> TestResult<AnalyticsClient<AuthorizedChannel>> {
        let token = &self.credentials.admin_token;
        Ok(AnalyticsClient::new(
            self.channel_as("analytics", token).await?,
        ))
    }

    pub async fn handling(&self) -> TestResult<FeedbackHandlingClient<AuthorizedChannel>> {
        let token = &self.credentials.admin_token;
        Ok(FeedbackHandlingClient::new(
            self.channel_as("feedback-handling", token).await?,
        ))
    }

    pub async fn database(&self) -> TestResult<sqlx::PgPool> {
        Ok(sqlx::PgPool::connect(&self.database_url).await?)
    }

    /// Waits until the projection has considered the survey's answers up to `sequence` for
    /// release to readers (ADR 0020): for a test that then reads as a reader without a
    /// min_sequence (the console, its reports).
    pub async fn wait_released(&self, survey_id: &str, sequence: u64) -> TestResult {
        let pool = self.database().await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let through: Option<i64> = sqlx::query_scalar(
                "select released_through from reader_release.survey where survey_id::text = $1",
            )
            .bind(survey_id)
            .fetch_optional(&pool)
            .await?;
            if through.is_some_and(|t| u64::try_from(t).unwrap_or(0) >= sequence) {
                pool.close().await;
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "survey {survey_id} released through {through:?}, not {sequence}\n{}",
                    self.log("projection")
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates the fixture NPS survey for `units` (creating the units too) and publishes
    /// version 1; returns its id.
    pub async fn publish_nps_survey(&self, units: &[&str]) -> TestResult<String> {
        let mut surveys = self.surveys().await?;
        for unit in fixture_units(units) {
            surveys.create_unit(unit).await?;
        }
        self.publish(nps_survey(units)).await
    }

    /// Creates a survey with `content` and publishes it as version 1; returns its id.
    pub async fn publish(&self, content: SurveyContent) -> TestResult<String> {
        let mut surveys = self.surveys().await?;
        let created = surveys
            .create_survey(CreateSurveyRequest {
                survey_id: String::new(),
                draft: Some(content),
            })
            .await?
            .into_inner()
            .survey
            .ok_or("CreateSurvey replied without the survey")?;
        let published = surveys
            .publish_version(PublishVersionRequest {
                survey_id: created.survey_id.clone(),
                expected_revision: created.revision,
            })
            .await?
            .into_inner();
        if published.version != 1 {
            return Err(format!("first publish gave version {}", published.version).into());
        }
        Ok(created.survey_id)
    }

    /// Submits `requests` through one SubmitResponses stream; every one must be accepted.
    /// Returns the highest stream sequence acknowledged.
    pub async fn submit_batch(&self, requests: Vec<SubmitResponseRequest>) -> TestResult<u64> {
        let expected = requests.len();
        let mut replies = self
            .intake()
            .await?
            .submit_responses(tokio_stream::iter(requests))
            .await?
            .into_inner();
        let (mut accepted, mut last) = (0, 0);
        while let Some(item) = replies.message().await? {
            match item.outcome {
                Some(Outcome::Accepted(reply)) => {
                    accepted += 1;
                    last = last.max(reply.sequence);
                }
                other => {
                    return Err(format!(
                        "submission {} not accepted: {other:?}",
                        item.submission_id
                    )
                    .into());
                }
            }
        }
        if accepted != expected {
            return Err(format!("{accepted} of {expected} submissions acknowledged").into());
        }
        Ok(last)
    }
}

/// One client-or-guardian answer to the fixture NPS survey, with a fresh submission id.
pub fn nps_answer(
    survey_id: &str,
    unit: &str,
    role: RespondentRole,
    score: u32,
) -> SubmitResponseRequest {
    SubmitResponseRequest {
        submission_id: uuid::Uuid::new_v4().to_string(),
        survey_id: survey_id.to_owned(),
        survey_version: 1,
        context: Some(ResponseContext {
            unit_id: unit.to_owned(),
            channel: kaiku_proto::survey::v1::Channel::Qr as i32,
            respondent_role: role as i32,
            language: Language::Fi as i32,
            ..Default::default()
        }),
        answers: vec![Answer {
            question_key: NPS_KEY.into(),
            value: Some(Value::Nps(NpsAnswer { score })),
        }],
        answered_at: None,
    }
}

/// The database's roles as deployed: `kaiku_owner` owns the database and runs the migrations,
/// the projection writes rows as `kaiku_projection` (in `kaiku_writer`, migration 0008), and
/// analytics reads as `kaiku_analytics` (in `kaiku_reader`, 0007). Roles belong to the cluster
/// (one per test), so they are made here with the superuser, before anything is migrated.
/// Returns the owner's, the projection's and the reader's URLs for `admin_database_url`.
async fn database_roles(admin_database_url: &str) -> TestResult<(String, String, String)> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin_database_url).await?;
    let database: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&mut conn)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_owner') THEN
                CREATE ROLE kaiku_owner LOGIN;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_writer') THEN
                CREATE ROLE kaiku_writer NOLOGIN;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_projection') THEN
                CREATE ROLE kaiku_projection LOGIN IN ROLE kaiku_writer;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_reader') THEN
                CREATE ROLE kaiku_reader NOLOGIN;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kaiku_analytics') THEN
                CREATE ROLE kaiku_analytics LOGIN IN ROLE kaiku_reader;
            END IF;
        END $$;
        ALTER DATABASE \"{database}\" OWNER TO kaiku_owner;"
    )))
    .execute(&mut conn)
    .await?;
    let as_role = |role: &str| {
        admin_database_url.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1)
    };
    Ok((
        as_role("kaiku_owner"),
        as_role("kaiku_projection"),
        as_role("kaiku_analytics"),
    ))
}

/// A unit named `name` in Finnish, "`name` (sv)" in Swedish and "`name` (en)" in English.
/// The method of a gRPC path as audit events record it: `/kaiku.x.v1.Service/Method` -> `Method`.
pub fn method_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or_default().to_owned()
}

pub fn unit(
    unit_id: &str,
    parent: &str,
    level: kaiku_proto::survey::v1::UnitLevel,
    name: &str,
) -> kaiku_proto::survey::v1::CreateUnitRequest {
    kaiku_proto::survey::v1::CreateUnitRequest {
        unit_id: unit_id.into(),
        parent_unit_id: parent.into(),
        level: level as i32,
        names: kaiku_domain::fixtures::texts(
            name,
            &format!("{name} (sv)"),
            &format!("{name} (en)"),
        ),
    }
}

/// POSTs `fields` as an HTML form would; the status and the body.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    fields: &[(&str, &str)],
) -> TestResult<(u16, String)> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let response = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// A county with two service areas and a school in each: the organisation the feedback-handling tests route cases through.
pub fn two_areas() -> Vec<kaiku_proto::survey::v1::CreateUnitRequest> {
    use kaiku_proto::survey::v1::UnitLevel;
    vec![
        unit("county", "", UnitLevel::County, "Maakunta"),
        unit("area-a", "county", UnitLevel::ServiceArea, "Alue A"),
        unit("area-b", "county", UnitLevel::ServiceArea, "Alue B"),
        unit("school-a1", "area-a", UnitLevel::Unit, "Koulu A1"),
        unit("school-b1", "area-b", UnitLevel::Unit, "Koulu B1"),
    ]
}

/// A county's student welfare: two schools in one service area, the organisation the web form
/// and respondent tests answer the student-welfare survey in.
pub fn student_welfare_units() -> Vec<kaiku_proto::survey::v1::CreateUnitRequest> {
    use kaiku_proto::survey::v1::UnitLevel;
    vec![
        unit("county", "", UnitLevel::County, "Hyvinvointialue"),
        unit(
            "student-welfare",
            "county",
            UnitLevel::ServiceArea,
            "Opiskeluhuolto",
        ),
        unit(
            "school-1",
            "student-welfare",
            UnitLevel::Unit,
            "Keskuskoulu",
        ),
        unit("school-2", "student-welfare", UnitLevel::Unit, "Rantakoulu"),
    ]
}

/// Link signing keys the web form is started with in tests (a fixed, test-only secret).
pub const TEST_LINK_KEYS: &str = "test:a2Fpa3UtdGVzdC1saW5rLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

/// A running web-form process; dropping it stops it.
pub struct WebForm {
    pub url: String,
    process: ServiceProcess,
}

impl WebForm {
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Signs `context` with the test keys; the token goes after /f/ or /paper/.
    pub fn sign(&self, context: &kaiku_links::LinkContext) -> TestResult<String> {
        Ok(kaiku_links::LinkKeys::parse(TEST_LINK_KEYS)?.sign(context)?)
    }
}

impl Stack {
    /// A built-in template's content (ListTemplates), by its key.
    pub async fn template(&self, key: &str) -> TestResult<SurveyContent> {
        self.surveys()
            .await?
            .list_templates(kaiku_proto::survey::v1::ListTemplatesRequest {})
            .await?
            .into_inner()
            .templates
            .into_iter()
            .find(|t| t.key == key)
            .and_then(|t| t.content)
            .ok_or_else(|| format!("no template {key}").into())
    }

    /// Publishes the built-in student-welfare template for `unit_id` (and the units below it)
    /// with one collection period, "period", from `days_from_today.0` to `.1` days from today.
    pub async fn publish_student_welfare(
        &self,
        unit_id: &str,
        days_from_today: (i64, i64),
    ) -> TestResult<String> {
        use kaiku_domain::time::{helsinki_date, local_date};
        use kaiku_proto::survey::v1::{
            CollectionPeriod, ScheduledCollection, survey_content::Collection,
        };
        let mut content = self.template("student-welfare").await?;
        content.unit_ids = vec![unit_id.into()];
        let today = helsinki_date(chrono::Utc::now());
        let day = |offset: i64| local_date(today + chrono::Duration::days(offset));
        content.collection = Some(Collection::Scheduled(ScheduledCollection {
            periods: vec![CollectionPeriod {
                period_id: "period".into(),
                starts_on: Some(day(days_from_today.0)),
                ends_on: Some(day(days_from_today.1)),
            }],
        }));
        self.publish(content).await
    }

    /// Appends one API answer to the student-welfare survey in school-2 (the units of
    /// `student_welfare_units`) and returns its sequence: analytics queried with it as
    /// min_sequence has applied everything the web form stored before.
    pub async fn student_welfare_marker(&self, survey_id: &str) -> TestResult<u64> {
        use kaiku_proto::survey::v1::Channel;
        let reply = self
            .intake()
            .await?
            .submit_response(SubmitResponseRequest {
                submission_id: uuid::Uuid::new_v4().to_string(),
                survey_id: survey_id.to_owned(),
                survey_version: 1,
                context: Some(ResponseContext {
                    unit_id: "school-2".into(),
                    channel: Channel::Api as i32,
                    respondent_role: RespondentRole::Guardian as i32,
                    professional_group: "kuraattori".into(),
                    age_band: "adult".into(),
                    language: Language::Fi as i32,
                }),
                answers: vec![Answer {
                    question_key: "nps".into(),
                    value: Some(Value::Nps(NpsAnswer { score: 8 })),
                }],
                answered_at: None,
            })
            .await;
        match reply {
            Ok(reply) => Ok(reply.into_inner().sequence),
            Err(status) => Err(format!("marker refused: {status:?}").into()),
        }
    }

    /// Starts the web form against this stack's survey-definition and intake, with `extra_env`
    /// (e.g. KAIKU_KIOSK_IDLE_SECONDS) on top of the test link keys.
    pub async fn start_web_form(
        &self,
        extra_env: &[(&'static str, String)],
    ) -> TestResult<WebForm> {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("KAIKU_WEB_LISTEN_ADDR", format!("127.0.0.1:{port}")),
            ("KAIKU_PUBLIC_URL", url.clone()),
            (
                "KAIKU_SURVEY_DEFINITION_URL",
                self.address("survey-definition"),
            ),
            ("KAIKU_INTAKE_URL", self.address("response-intake")),
            ("KAIKU_HANDLING_URL", self.address("feedback-handling")),
            ("KAIKU_LINK_KEYS", TEST_LINK_KEYS.to_owned()),
            ("KAIKU_SERVICE_TOKEN", self.service_token.clone()),
            ("RUST_LOG", "info".to_owned()),
        ];
        env.extend(extra_env.iter().cloned());
        let process = ServiceProcess::start("web-form", &[], &env).await?;
        process.wait_for_port(port, Duration::from_secs(30)).await?;
        Ok(WebForm { url, process })
    }
}

/// Every row of every table of a database as text.
pub async fn database_text(url: &str) -> TestResult<String> {
    let pool = sqlx::PgPool::connect(url).await?;
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&pool)
    .await?;
    let mut all = String::new();
    for (schema, table) in tables {
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT t::text FROM \"{schema}\".\"{table}\" t"
        )))
        .fetch_all(&pool)
        .await?;
        for (row,) in rows {
            all.push_str(&row);
            all.push('\n');
        }
    }
    Ok(all)
}

/// Every byte under `dir` (the JetStream store: message payloads and headers of every stream).
pub fn files_bytes(dir: &std::path::Path, out: &mut Vec<u8>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files_bytes(&path, out)?;
        } else {
            out.extend(std::fs::read(&path)?);
        }
    }
    Ok(())
}

fn browser_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

fn artifact_dir(test: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-artifacts/browser")
        .join(test)
}

/// Runs a browser scenario of tests/browser (`script`, input as KAIKU_SCENARIO) in Debian's
/// Chromium, screenshots under target/test-artifacts/browser/`test`/, and returns its RESULT; its output is in the error when it fails.
pub async fn browser(
    script: &str,
    test: &str,
    input: serde_json::Value,
) -> TestResult<serde_json::Value> {
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(
            "tests/browser/node_modules is missing: run `npm ci` in tests/browser (make test does)"
                .into(),
        );
    }
    let output = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("KAIKU_SCENARIO", input.to_string())
        .env("KAIKU_ARTIFACT_DIR", artifact_dir(test))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), output).await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{script} failed:\n{stdout}\n{stderr}").into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("{script} printed no RESULT:\n{stdout}\n{stderr}"))?;
    Ok(serde_json::from_str(line)?)
}

/// The issuer of the console's service tokens in tests; the services trust its key.
pub const CONSOLE_ISSUER: &str = "kaiku-console";

fn auth_testdata(name: &str) -> String {
    format!(
        "{}/../crates/kaiku-auth/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Settings that make the services trust the console's tokens (test-only RSA key pair); give
/// them to `Stack::start_with_env` before starting a console.
pub fn console_trust_env() -> Vec<(&'static str, String)> {
    vec![
        ("KAIKU_AUTH_JWT_PUBLIC_KEYS", auth_testdata("idp-rsa.pub")),
        ("KAIKU_AUTH_JWT_ISSUER", CONSOLE_ISSUER.to_owned()),
        ("KAIKU_AUTH_JWT_AUDIENCE", "kaiku".to_owned()),
    ]
}

/// A local console account for a test: its password is hashed into the accounts file.
pub struct ConsoleAccount<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    /// "unit-manager" or "county-staff".
    pub role: &'a str,
    pub units: &'a [&'a str],
}

/// A running console; dropping it stops it.
pub struct Console {
    pub url: String,
    process: ServiceProcess,
    _accounts: tempfile::TempDir,
}

impl Console {
    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Stack {
    /// Starts the console against this stack's survey-definition and analytics (the stack
    /// must trust the console: `console_trust_env`), with `extra_env` (e.g. an identity
    /// provider's settings) on top.
    pub async fn start_console(
        &self,
        accounts: &[ConsoleAccount<'_>],
        extra_env: &[(&'static str, String)],
    ) -> TestResult<Console> {
        let dir = tempfile::Builder::new()
            .prefix("kaiku-console-")
            .tempdir()?;
        let mut entries = Vec::new();
        for account in accounts {
            entries.push(serde_json::json!({
                "username": account.username,
                "name": account.name,
                "password_hash": console::accounts::hash_password(account.password)?,
                "role": account.role,
                "units": account.units,
            }));
        }
        let accounts_file = dir.path().join("accounts.json");
        std::fs::write(&accounts_file, serde_json::to_vec(&entries)?)?;
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("KAIKU_CONSOLE_LISTEN_ADDR", format!("127.0.0.1:{port}")),
            ("KAIKU_PUBLIC_URL", url.clone()),
            (
                "KAIKU_SURVEY_DEFINITION_URL",
                self.address("survey-definition"),
            ),
            ("KAIKU_ANALYTICS_URL", self.address("analytics")),
            ("KAIKU_HANDLING_URL", self.address("feedback-handling")),
            ("KAIKU_INTAKE_URL", self.address("response-intake")),
            ("KAIKU_CONSOLE_SIGNING_KEY", auth_testdata("idp-rsa.key")),
            ("KAIKU_CONSOLE_TOKEN_ISSUER", CONSOLE_ISSUER.to_owned()),
            (
                "KAIKU_CONSOLE_ACCOUNTS",
                accounts_file.display().to_string(),
            ),
            ("RUST_LOG", "info".to_owned()),
        ];
        env.extend(extra_env.iter().cloned());
        let process = ServiceProcess::start("console", &[], &env).await?;
        process.wait_for_port(port, Duration::from_secs(30)).await?;
        Ok(Console {
            url,
            process,
            _accounts: dir,
        })
    }
}
