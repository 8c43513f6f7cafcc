use std::time::{Duration, Instant};

use chrono::NaiveDate;
use kaiku_domain::time::local_date;
use kaiku_grpc::parse_duration;
use kaiku_proto::analytics::v1::{
    GetNpsRequest, ResponseFilter, analytics_client::AnalyticsClient,
};
use kaiku_proto::intake::v1::{
    Answer, ChoiceAnswer, NpsAnswer, OpenTextAnswer, ResponseContext, SmileyAnswer,
    StatementAnswer, SubmitResponseRequest, answer::Value,
    response_intake_client::ResponseIntakeClient,
};
use kaiku_proto::survey::v1::{
    CollectionPeriod, CreateSurveyRequest, CreateUnitRequest, GetFormRequest, GetFormResponse,
    GetSurveyRequest, ListSurveysRequest, ListTemplatesRequest, ListUnitsRequest, LocalizedText,
    PublishVersionRequest, ScheduledCollection, UnitLevel, question::Kind,
    survey_content::Collection, survey_definition_client::SurveyDefinitionClient,
};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use kaiku_templates::survey_file;

#[derive(Debug, clap::Parser)]
#[command(version, about = "Kaiku command-line client")]
pub struct Cli {
    /// survey-definition address.
    #[arg(
        long,
        env = "KAIKU_SURVEY_ADDR",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    survey_addr: String,
    /// response-intake address.
    #[arg(
        long,
        env = "KAIKU_INTAKE_ADDR",
        default_value = "http://127.0.0.1:50052",
        global = true
    )]
    intake_addr: String,
    /// analytics address.
    #[arg(
        long,
        env = "KAIKU_ANALYTICS_ADDR",
        default_value = "http://127.0.0.1:50053",
        global = true
    )]
    analytics_addr: String,
    /// Bearer token for the services: an API key (`kaiku_...`) or a JWT from the county's
    /// identity provider.
    #[arg(long, env = "KAIKU_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// projection (health only) address.
    #[arg(
        long,
        env = "KAIKU_PROJECTION_ADDR",
        default_value = "http://127.0.0.1:50054",
        global = true
    )]
    projection_addr: String,
    /// feedback-handling address.
    #[arg(
        long,
        env = "KAIKU_HANDLING_ADDR",
        default_value = "http://127.0.0.1:50056",
        global = true
    )]
    handling_addr: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Wait until the five gRPC services report SERVING.
    WaitReady {
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Check one service once, for container health checks: a gRPC address must report
    /// SERVING (grpc.health.v1), an `http://host:port/path` address must answer 200.
    Health {
        /// e.g. http://127.0.0.1:50051 (gRPC) or http://127.0.0.1:8080/healthz with --http.
        addr: String,
        /// Check with an HTTP GET instead of grpc.health.v1.
        #[arg(long)]
        http: bool,
        #[arg(long, default_value = "3s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Surveys: create from a file, publish, list, show.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// Organisation units: county > service area > unit.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Feedback cases: record a phone call, list what is waiting (needs kaiku.handle).
    #[command(subcommand)]
    Case(crate::cases::CaseCommand),
    /// Submit one response: --nps and --text for the usual two questions, --answer for any.
    Submit(SubmitArgs),
    /// Erase one response's open texts (personal data the automatic redaction missed) from the
    /// event log and the read models, keeping its scores. The sequence is the one analytics
    /// lists with each feedback text. Needs a survey-admin token.
    Redact {
        #[arg(long)]
        survey: String,
        /// The response's sequence in KAIKU_RESPONSES.
        #[arg(long)]
        sequence: u64,
        /// Why, as a code on record: personal_data, staff_name, respondent_request or other.
        #[arg(long, value_parser = erasure_reason)]
        reason: kaiku_proto::intake::v1::ErasureReason,
    },
    /// Make a signed respondent link (for a QR poster, a kiosk, a web page or paper entry) and
    /// print it with its QR code, poster and paper form addresses.
    Link(LinkArgs),
    /// Make a service API key: prints the key (shown only now) and appends the entry with its
    /// SHA-256 and grants to the services' key file (KAIKU_AUTH_API_KEYS).
    ApiKey(ApiKeyArgs),
    /// Show the form a respondent in this context sees: which questions, in which language.
    Form {
        #[command(flatten)]
        target: Target,
    },
    /// Load a realistic data set through the services: a county of units, the THL form and
    /// the student-welfare survey over two years, and `responses` answers (deterministic).
    Dataset {
        #[arg(long, default_value_t = 10_000)]
        responses: u64,
        #[arg(long, default_value_t = 10)]
        units_per_area: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Concurrent submit streams.
        #[arg(long, default_value_t = 4)]
        streams: usize,
    },
    /// Time the analytics queries the system tests use against a loaded data set and print the
    /// percentiles as a Markdown table (for BENCHMARKS.md).
    BenchQueries {
        /// Survey to query; repeat for several.
        #[arg(long = "survey", required = true)]
        surveys: Vec<String>,
        /// The unit subtree the subtree filters name.
        #[arg(long, default_value = "ds-area-3")]
        subtree: String,
        #[arg(long, default_value_t = 100)]
        iterations: usize,
    },
    /// Submit `count` demo answers with a fixed score mix (for trying things out).
    Seed {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 20)]
        count: u32,
    },
    /// Print the NPS of a survey.
    Nps {
        #[arg(long)]
        survey: String,
        #[arg(long)]
        unit: Vec<String>,
        /// First day (YYYY-MM-DD, Helsinki time).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (YYYY-MM-DD, Helsinki time).
        #[arg(long)]
        to: Option<NaiveDate>,
        /// Respondent roles the figure covers; several are counted together. Clients by
        /// default; the output says whose answers it counts.
        #[arg(long, default_values_t = ["client".to_owned()])]
        role: Vec<String>,
        /// Wait until the read model includes this KAIKU_RESPONSES sequence.
        #[arg(long, default_value_t = 0)]
        min_sequence: u64,
    },
}

#[derive(Debug, clap::Subcommand)]
enum SurveyCommand {
    /// Create a survey from a JSON file (see deploy/demo/nps-survey.json) or a built-in
    /// template (see `survey templates`).
    Create {
        #[arg(
            long,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        file: Option<std::path::PathBuf>,
        #[arg(long)]
        template: Option<String>,
        /// Add a target unit (repeatable); templates come without units.
        #[arg(long)]
        unit: Vec<String>,
        /// Replace the collection periods: ID=YYYY-MM-DD..YYYY-MM-DD (repeatable).
        #[arg(long, value_parser = parse_period)]
        period: Vec<CollectionPeriod>,
        /// Also publish it as version 1.
        #[arg(long)]
        publish: bool,
    },
    /// List the built-in templates.
    Templates,
    /// Publish the current draft as the next version.
    Publish {
        #[arg(long)]
        survey: String,
    },
    List,
    Get {
        #[arg(long)]
        survey: String,
    },
}

#[derive(Debug, clap::Subcommand)]
enum UnitCommand {
    /// Create a unit (again with the same settings is a no-op).
    Create {
        #[arg(long)]
        id: String,
        /// Empty for a county.
        #[arg(long, default_value = "")]
        parent: String,
        /// county, service_area or unit.
        #[arg(long)]
        level: String,
        /// Name as LANG=TEXT, e.g. --name "fi=Koulu 1" (repeatable).
        #[arg(long, required = true)]
        name: Vec<String>,
    },
    /// Create the units of a tab-separated file, parents first: id, parent (`-` for none),
    /// level, then the names in fi, sv and en; `#` starts a comment (deploy/demo/units.tsv).
    Import {
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// List the open units, parents first.
    List,
}

#[derive(Debug, clap::Args)]
struct Target {
    #[arg(long)]
    survey: String,
    #[arg(long)]
    version: u32,
    #[arg(long)]
    unit: String,
    /// paper, qr, kiosk, sms, web_link or api.
    #[arg(long, default_value = "api")]
    channel: String,
    /// client, guardian or relative.
    #[arg(long, default_value = "client")]
    role: String,
    /// fi, sv or en.
    #[arg(long, default_value = "fi")]
    language: String,
    /// Professional group key (e.g. kuraattori), when the survey asks it.
    #[arg(long, default_value = "")]
    group: String,
    /// Age band key (e.g. age_13_17), when the survey asks it.
    #[arg(long, default_value = "")]
    age_band: String,
}

#[derive(Debug, clap::Args)]
struct ApiKeyArgs {
    /// Who holds the key, e.g. web-form.
    #[arg(long)]
    name: String,
    /// survey-admin, submit, analytics-read or export (repeatable).
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
    /// Surveys a submit key may submit to (repeatable; none = any).
    #[arg(long = "survey")]
    surveys: Vec<String>,
    /// Channels a submit key may submit through (repeatable; none = any).
    #[arg(long = "channel")]
    channels: Vec<String>,
    /// Unit subtrees a reader may read (repeatable; none = all).
    #[arg(long = "unit")]
    units: Vec<String>,
    /// The key file to append to (created if missing).
    #[arg(long)]
    file: std::path::PathBuf,
}

#[derive(Debug, clap::Args)]
struct LinkArgs {
    #[arg(long)]
    survey: String,
    #[arg(long)]
    unit: String,
    /// qr, kiosk, web_link or paper (paper links open the paper entry screen).
    #[arg(long, default_value = "qr")]
    channel: String,
    /// client, guardian or relative.
    #[arg(long, default_value = "client")]
    role: String,
    /// The language the form opens in: fi, sv or en.
    #[arg(long, default_value = "fi")]
    language: String,
    #[arg(long, default_value = "")]
    group: String,
    #[arg(long, default_value = "")]
    age_band: String,
    /// The web form's signing keys, as web-form takes them.
    #[arg(long, env = "KAIKU_LINK_KEYS", hide_env_values = true)]
    keys: String,
    /// Where respondents reach the web form.
    #[arg(
        long,
        env = "KAIKU_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
}

#[derive(Debug, clap::Args)]
struct SubmitArgs {
    #[command(flatten)]
    target: Target,
    /// The answer to the question keyed `nps`.
    #[arg(long)]
    nps: Option<u32>,
    /// The answer to the question keyed `open_feedback` (personal data in it is redacted
    /// before storing).
    #[arg(long)]
    text: Option<String>,
    /// Any answer as KEY=VALUE (repeatable): a number for NPS, statement (or dont_know) and
    /// smiley questions, comma-separated option keys for choices, text for open questions.
    #[arg(long)]
    answer: Vec<String>,
    /// Idempotency key; a new random one by default.
    #[arg(long)]
    submission_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{}", describe(.0))]
    Rpc(#[from] tonic::Status),
    #[error("{0}")]
    File(#[from] survey_file::SurveyFileError),
    #[error("reading {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Link(#[from] kaiku_links::LinkError),
}

/// The status code, then one line per invalid field when the server named them (its message
/// repeats the same list, so it is shown only when there are none).
fn describe(status: &tonic::Status) -> String {
    let fields = kaiku_grpc::bad_request_fields(status);
    if fields.is_empty() {
        return format!("{:?}: {}", status.code(), status.message());
    }
    let mut text = format!("{:?}", status.code());
    for (field, description) in fields {
        text.push_str(&format!("\n  {field}: {description}"));
    }
    text
}

/// The caller's bearer token (`--token` / KAIKU_TOKEN), set once in `run`.
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A channel whose calls carry the caller's token.
pub(crate) async fn connect(addr: &str) -> Result<kaiku_grpc::AuthorizedChannel, CliError> {
    let token = TOKEN.get().map(String::as_str).unwrap_or("");
    kaiku_grpc::connect_client(addr, token)
        .await
        .map_err(|e| CliError::Connect {
            addr: e.addr,
            reason: e.reason,
        })
}

/// `autumn=2026-11-09..2026-11-29` as a collection period.
fn parse_period(value: &str) -> Result<CollectionPeriod, String> {
    let usage = || format!("{value:?} is not ID=YYYY-MM-DD..YYYY-MM-DD");
    let (period_id, dates) = value.split_once('=').ok_or_else(usage)?;
    let (starts, ends) = dates.split_once("..").ok_or_else(usage)?;
    let date = |text: &str| {
        text.parse::<NaiveDate>()
            .map_err(|e| format!("{text:?}: {e}"))
    };
    Ok(CollectionPeriod {
        period_id: period_id.to_owned(),
        starts_on: Some(local_date(date(starts)?)),
        ends_on: Some(local_date(date(ends)?)),
    })
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(token) = &cli.token {
        let _ = TOKEN.set(token.clone());
    }
    match cli.command {
        Command::WaitReady { timeout } => {
            let addrs = [
                &cli.survey_addr,
                &cli.intake_addr,
                &cli.analytics_addr,
                &cli.handling_addr,
                &cli.projection_addr,
            ];
            wait_ready(&addrs, timeout).await
        }
        Command::Health {
            addr,
            http,
            timeout,
        } => {
            if http {
                http_health(&addr, timeout).await
            } else {
                wait_ready(&[&addr], timeout).await
            }
        }
        Command::Survey(command) => survey(&cli.survey_addr, command).await,
        Command::Unit(command) => unit(&cli.survey_addr, command).await,
        Command::Case(command) => crate::cases::case(&cli.handling_addr, command).await,
        Command::Redact {
            survey,
            sequence,
            reason,
        } => {
            let mut client = ResponseIntakeClient::new(connect(&cli.intake_addr).await?);
            let reply = client
                .redact_response(kaiku_proto::intake::v1::RedactResponseRequest {
                    survey_id: survey,
                    sequence,
                    reason: reason as i32,
                })
                .await?
                .into_inner();
            println!("erased={}", reply.question_keys.join(","));
            println!("redaction_sequence={}", reply.redaction_sequence);
            Ok(())
        }
        Command::Submit(args) => {
            let mut answers = Vec::new();
            if let Some(score) = args.nps {
                answers.push(nps_answer(score));
            }
            if let Some(text) = args.text {
                answers.push(Answer {
                    question_key: "open_feedback".into(),
                    value: Some(Value::OpenText(OpenTextAnswer { text })),
                });
            }
            if !args.answer.is_empty() {
                // The form says each question's kind, and so how to read its value.
                let form = get_form(&cli.survey_addr, &args.target).await?;
                for raw in &args.answer {
                    answers.push(parse_answer(&form, raw)?);
                }
            }
            let mut client = ResponseIntakeClient::new(connect(&cli.intake_addr).await?);
            let request = submission(&args.target, args.submission_id, answers)?;
            let reply = client.submit_response(request).await?.into_inner();
            println!("submission_id={}", reply.submission_id);
            println!("duplicate={}", reply.duplicate);
            println!("sequence={}", reply.sequence);
            if reply.redactions > 0 {
                println!("redactions={}", reply.redactions);
            }
            for flag in reply.attention_flags() {
                println!("attention={}", flag.as_str_name());
            }
            Ok(())
        }
        Command::ApiKey(args) => {
            let scopes = args
                .scopes
                .iter()
                .map(|s| {
                    kaiku_auth::Scope::from_claim(&format!("kaiku.{s}")).ok_or_else(|| {
                        CliError::Usage(format!(
                            "--scope {s:?}: use survey-admin, submit, analytics-read, export or handle"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (key, mut entry) = kaiku_auth::new_api_key(&args.name, scopes);
            entry.surveys = args.surveys;
            entry.channels = args.channels;
            entry.unit_subtrees = args.units;
            let read_error = |e: &dyn std::fmt::Display| CliError::Read {
                path: args.file.display().to_string(),
                reason: e.to_string(),
            };
            let mut entries: Vec<kaiku_auth::ApiKeyEntry> =
                match std::fs::read_to_string(&args.file) {
                    Ok(text) => serde_json::from_str(&text).map_err(|e| read_error(&e))?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(e) => return Err(read_error(&e)),
                };
            entries.push(entry);
            let json = serde_json::to_string_pretty(&entries).map_err(|e| read_error(&e))?;
            std::fs::write(&args.file, json + "\n").map_err(|e| read_error(&e))?;
            println!("{key}");
            Ok(())
        }
        Command::Link(args) => {
            let keys = kaiku_links::LinkKeys::parse(&args.keys)?;
            let token = keys.sign(&kaiku_links::LinkContext {
                survey_id: args.survey,
                unit_id: args.unit,
                channel: args.channel.clone(),
                respondent_role: args.role,
                professional_group: args.group,
                age_band: args.age_band,
                language: args.language,
            })?;
            let links =
                kaiku_links::ChannelLinks::new(&args.public_url, &token, &args.channel, "fi");
            if let Some(entry) = &links.paper_entry {
                println!("paper entry: {entry}");
            }
            if let Some(form) = &links.form {
                println!("form:        {form}");
            }
            if let (Some(svg), Some(png)) = (&links.qr_svg, &links.qr_png) {
                println!("QR code:     {svg}  {png}");
            }
            if let Some(poster) = &links.poster {
                println!("poster:      {poster}");
            }
            println!("paper form:  {}", links.paper_form);
            Ok(())
        }
        Command::Form { target } => {
            let form = get_form(&cli.survey_addr, &target).await?;
            println!(
                "{} (survey {} version {})",
                form.title, form.survey_id, form.survey_version
            );
            if !form.intro.is_empty() {
                println!("{}", form.intro);
            }
            if form.accepting {
                let period = if form.period_id.is_empty() {
                    "continuous"
                } else {
                    &form.period_id
                };
                println!("accepting answers (period: {period})");
            } else {
                println!("not accepting answers: {}", form.closed_reason);
            }
            for item in &form.questions {
                let Some(question) = &item.question else {
                    continue;
                };
                let kind = match &question.kind {
                    Some(Kind::Nps(_)) => "nps",
                    Some(Kind::Statement(_)) => "statement",
                    Some(Kind::Smiley(_)) => "smiley",
                    Some(Kind::Choice(_)) => "choice",
                    Some(Kind::OpenText(_)) => "open_text",
                    None => "?",
                };
                let required = if question.required { " (required)" } else { "" };
                println!("  {:<28} {kind:<12} {}{required}", question.key, item.text);
                for option in &item.options {
                    println!(
                        "  {:<28} {:<12}   - {}: {}",
                        "", "", option.key, option.text
                    );
                }
            }
            Ok(())
        }
        Command::Dataset {
            responses,
            units_per_area,
            seed,
            streams,
        } => {
            crate::dataset::load(
                &cli.survey_addr,
                &cli.intake_addr,
                crate::dataset::DatasetArgs {
                    responses,
                    units_per_area: units_per_area.max(1),
                    seed,
                    streams,
                },
            )
            .await
        }
        Command::BenchQueries {
            surveys,
            subtree,
            iterations,
        } => {
            crate::bench::run(
                &cli.analytics_addr,
                crate::bench::BenchArgs {
                    survey_ids: surveys,
                    subtree,
                    iterations,
                },
            )
            .await
        }
        Command::Seed { target, count } => {
            let mut client = ResponseIntakeClient::new(connect(&cli.intake_addr).await?);
            // A fixed mix: 50 % promoters, 30 % passives, 20 % detractors.
            const SCORES: [u32; 10] = [10, 9, 10, 9, 9, 8, 7, 8, 6, 3];
            let mut last = 0;
            for i in 0..count {
                let score = SCORES[(i as usize) % SCORES.len()];
                let reply = client
                    .submit_response(submission(&target, None, vec![nps_answer(score)])?)
                    .await?;
                last = reply.into_inner().sequence;
            }
            println!("submitted={count}");
            println!("sequence={last}");
            Ok(())
        }
        Command::Nps {
            survey,
            unit,
            from,
            to,
            role,
            min_sequence,
        } => {
            let role: Vec<String> = role;
            let mut client = AnalyticsClient::new(connect(&cli.analytics_addr).await?);
            let respondent_roles = role
                .iter()
                .map(|r| {
                    survey_file::role(r)
                        .map(|r| r as i32)
                        .ok_or_else(|| CliError::Usage(format!("unknown role {r:?}")))
                })
                .collect::<Result<_, _>>()?;
            let request = GetNpsRequest {
                survey_id: survey,
                question_key: String::new(),
                filter: Some(ResponseFilter {
                    unit_ids: unit,
                    from_date: from.map(local_date),
                    to_date: to.map(local_date),
                    respondent_roles,
                    ..Default::default()
                }),
                min_sequence,
                grouping: None,
            };
            let reply = client.get_nps(request).await?.into_inner();
            match reply.figure {
                None if reply.suppressed => println!(
                    "suppressed: fewer than {} answers in this group (as of sequence {})",
                    reply.min_group_size, reply.as_of_sequence
                ),
                None => println!("no figure (as of sequence {})", reply.as_of_sequence),
                Some(f) => {
                    let nps = f.nps.map_or("undefined".to_owned(), |n| format!("{n:.1}"));
                    println!(
                        "NPS {nps} (n={}: promoters {}, passives {}, detractors {}) as of sequence {}; respondents: {}",
                        f.n,
                        f.promoters,
                        f.passives,
                        f.detractors,
                        reply.as_of_sequence,
                        role.join(" + ")
                    );
                }
            }
            Ok(())
        }
    }
}

/// A unit to create; `names` as LANG=TEXT.
fn unit_request(
    id: String,
    parent: String,
    level: &str,
    names: &[String],
) -> Result<CreateUnitRequest, CliError> {
    let level = match level {
        "county" => UnitLevel::County,
        "service_area" => UnitLevel::ServiceArea,
        "unit" => UnitLevel::Unit,
        other => {
            return Err(CliError::Usage(format!(
                "unknown level {other:?}: county, service_area or unit"
            )));
        }
    };
    let names = names
        .iter()
        .map(|raw| {
            let (language, text) = raw
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("--name {raw:?}: expected LANG=TEXT")))?;
            let language = survey_file::language(language)
                .ok_or_else(|| CliError::Usage(format!("--name {raw:?}: unknown language")))?;
            Ok(LocalizedText {
                language: language as i32,
                text: text.to_owned(),
            })
        })
        .collect::<Result<_, CliError>>()?;
    Ok(CreateUnitRequest {
        unit_id: id,
        parent_unit_id: parent,
        level: level as i32,
        names,
    })
}

async fn unit(addr: &str, command: UnitCommand) -> Result<(), CliError> {
    let mut client = SurveyDefinitionClient::new(connect(addr).await?);
    match command {
        UnitCommand::Create {
            id,
            parent,
            level,
            name,
        } => {
            let request = unit_request(id, parent, &level, &name)?;
            let unit = client
                .create_unit(request)
                .await?
                .into_inner()
                .unit
                .unwrap_or_default();
            println!("unit_id={}", unit.unit_id);
            println!("revision={}", unit.revision);
            Ok(())
        }
        UnitCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let fields: Vec<&str> = line.split('\t').collect();
                let [id, parent, level, fi, sv, en] = fields[..] else {
                    return Err(CliError::Usage(format!(
                        "{} line {}: expected 6 tab-separated fields, found {}",
                        file.display(),
                        number + 1,
                        fields.len()
                    )));
                };
                let parent = if parent == "-" { "" } else { parent };
                let names = [format!("fi={fi}"), format!("sv={sv}"), format!("en={en}")];
                let request = unit_request(id.to_owned(), parent.to_owned(), level, &names)?;
                client.create_unit(request).await?;
                println!("unit_id={id}");
            }
            Ok(())
        }
        UnitCommand::List => {
            let units = client
                .list_units(ListUnitsRequest::default())
                .await?
                .into_inner()
                .units;
            for unit in units.into_iter().filter_map(|u| u.unit) {
                let level = UnitLevel::try_from(unit.level).unwrap_or(UnitLevel::Unspecified);
                let name = unit.names.first().map_or("", |n| n.text.as_str());
                println!(
                    "{:<24} {:<14} under {:<24} {name}",
                    unit.unit_id,
                    kaiku_domain::unit::level_name(level),
                    if unit.parent_unit_id.is_empty() {
                        "-"
                    } else {
                        &unit.parent_unit_id
                    },
                );
            }
            Ok(())
        }
    }
}

async fn survey(addr: &str, command: SurveyCommand) -> Result<(), CliError> {
    let mut client = SurveyDefinitionClient::new(connect(addr).await?);
    match command {
        SurveyCommand::Templates => {
            let templates = client
                .list_templates(ListTemplatesRequest {})
                .await?
                .into_inner()
                .templates;
            for template in templates {
                println!("{:<16} {}", template.key, template.description);
            }
            Ok(())
        }
        SurveyCommand::Create {
            file,
            template,
            unit,
            period,
            publish,
        } => {
            let mut draft = match (file, template) {
                (Some(file), _) => {
                    let json = std::fs::read_to_string(&file).map_err(|e| CliError::Read {
                        path: file.display().to_string(),
                        reason: e.to_string(),
                    })?;
                    survey_file::parse(&json)?
                }
                (None, Some(key)) => client
                    .list_templates(ListTemplatesRequest {})
                    .await?
                    .into_inner()
                    .templates
                    .into_iter()
                    .find(|t| t.key == key)
                    .and_then(|t| t.content)
                    .ok_or_else(|| {
                        CliError::Usage(format!(
                            "no template {key:?}; see `kaikuctl survey templates`"
                        ))
                    })?,
                (None, None) => return Err(CliError::Usage("give --file or --template".into())),
            };
            draft.unit_ids.extend(unit);
            if !period.is_empty() {
                draft.collection = Some(Collection::Scheduled(ScheduledCollection {
                    periods: period,
                }));
            }
            let created = client
                .create_survey(CreateSurveyRequest {
                    survey_id: String::new(),
                    draft: Some(draft),
                })
                .await?
                .into_inner()
                .survey
                .unwrap_or_default();
            println!("survey_id={}", created.survey_id);
            if publish {
                let published = client
                    .publish_version(PublishVersionRequest {
                        survey_id: created.survey_id.clone(),
                        expected_revision: created.revision,
                    })
                    .await?
                    .into_inner();
                println!("version={}", published.version);
            }
            Ok(())
        }
        SurveyCommand::Publish { survey } => {
            let current = client
                .get_survey(GetSurveyRequest {
                    survey_id: survey.clone(),
                })
                .await?
                .into_inner()
                .survey
                .unwrap_or_default();
            let published = client
                .publish_version(PublishVersionRequest {
                    survey_id: survey,
                    expected_revision: current.revision,
                })
                .await?
                .into_inner();
            println!("version={}", published.version);
            Ok(())
        }
        SurveyCommand::List => {
            for s in client
                .list_surveys(ListSurveysRequest {
                    include_archived: false,
                })
                .await?
                .into_inner()
                .surveys
            {
                let title = s.titles.first().map_or("", |t| t.text.as_str());
                println!(
                    "{}  v{}  rev {}  {}",
                    s.survey_id, s.latest_version, s.revision, title
                );
            }
            Ok(())
        }
        SurveyCommand::Get { survey } => {
            let s = client
                .get_survey(GetSurveyRequest { survey_id: survey })
                .await?
                .into_inner()
                .survey
                .unwrap_or_default();
            println!("survey_id={}", s.survey_id);
            println!("revision={}", s.revision);
            println!(
                "latest_version={}",
                s.versions.last().map_or(0, |v| v.version)
            );
            for q in s.draft.unwrap_or_default().questions {
                println!("question {} required={}", q.key, q.required);
            }
            Ok(())
        }
    }
}

fn nps_answer(score: u32) -> Answer {
    Answer {
        question_key: "nps".into(),
        value: Some(Value::Nps(NpsAnswer { score })),
    }
}

fn context(target: &Target) -> Result<ResponseContext, CliError> {
    let unknown = |what: &str, v: &str| CliError::Usage(format!("unknown {what} {v:?}"));
    Ok(ResponseContext {
        unit_id: target.unit.clone(),
        channel: survey_file::channel(&target.channel)
            .ok_or_else(|| unknown("channel", &target.channel))? as i32,
        respondent_role: survey_file::role(&target.role)
            .ok_or_else(|| unknown("role", &target.role))? as i32,
        professional_group: target.group.clone(),
        age_band: target.age_band.clone(),
        language: survey_file::language(&target.language)
            .ok_or_else(|| unknown("language", &target.language))? as i32,
    })
}

fn submission(
    target: &Target,
    submission_id: Option<String>,
    answers: Vec<Answer>,
) -> Result<SubmitResponseRequest, CliError> {
    Ok(SubmitResponseRequest {
        submission_id: submission_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        survey_id: target.survey.clone(),
        survey_version: target.version,
        context: Some(context(target)?),
        answers,
        answered_at: None,
    })
}

async fn get_form(addr: &str, target: &Target) -> Result<GetFormResponse, CliError> {
    let mut client = SurveyDefinitionClient::new(connect(addr).await?);
    Ok(client
        .get_form(GetFormRequest {
            survey_id: target.survey.clone(),
            survey_version: target.version,
            context: Some(context(target)?),
        })
        .await?
        .into_inner())
}

/// `KEY=VALUE` as an answer to that question of the form. Out-of-range values are passed on
/// as given: intake is the one that judges them, and says why.
fn parse_answer(form: &GetFormResponse, raw: &str) -> Result<Answer, CliError> {
    let usage = |why: String| CliError::Usage(format!("--answer {raw:?}: {why}"));
    let (key, value) = raw
        .split_once('=')
        .ok_or_else(|| usage("expected KEY=VALUE".into()))?;
    let question = form
        .questions
        .iter()
        .filter_map(|q| q.question.as_ref())
        .find(|q| q.key == key)
        .ok_or_else(|| usage(format!("the form for this context has no question {key:?}")))?;
    let number = || {
        value
            .trim()
            .parse::<u32>()
            .map_err(|_| usage(format!("{key} takes a whole number")))
    };
    let value = match &question.kind {
        Some(Kind::Nps(_)) => Value::Nps(NpsAnswer { score: number()? }),
        Some(Kind::Statement(_)) if value.trim() == "dont_know" => {
            Value::Statement(StatementAnswer {
                score: 0,
                dont_know: true,
            })
        }
        Some(Kind::Statement(_)) => Value::Statement(StatementAnswer {
            score: number()?,
            dont_know: false,
        }),
        Some(Kind::Smiley(_)) => Value::Smiley(SmileyAnswer { face: number()? }),
        Some(Kind::Choice(_)) => Value::Choice(ChoiceAnswer {
            option_keys: value.split(',').map(|k| k.trim().to_owned()).collect(),
        }),
        Some(Kind::OpenText(_)) | None => Value::OpenText(OpenTextAnswer {
            text: value.to_owned(),
        }),
    };
    Ok(Answer {
        question_key: key.to_owned(),
        value: Some(value),
    })
}

/// One HTTP/1.0 GET; healthy when the status line says 200. Plain TCP, no client library:
/// a health endpoint on the container's own loopback needs nothing more.
async fn http_health(url: &str, timeout: Duration) -> Result<(), CliError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| CliError::Usage(format!("{url:?} is not an http:// address")))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(authority).await?;
        stream
            .write_all(format!("GET /{path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").as_bytes())
            .await?;
        let mut head = [0u8; 32];
        let read = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..read]).into_owned())
    };
    let head = tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| CliError::Usage(format!("{url} did not answer within {timeout:?}")))?
        .map_err(|e| CliError::Usage(format!("{url}: {e}")))?;
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        println!("{url} OK");
        Ok(())
    } else {
        Err(CliError::Usage(format!("{url} answered {status_line:?}")))
    }
}

async fn wait_ready(addrs: &[&String], timeout: Duration) -> Result<(), CliError> {
    let started = Instant::now();
    for addr in addrs {
        loop {
            let status = match connect(addr).await {
                Ok(channel) => HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map(|r| r.into_inner().status),
                Err(e) => Err(tonic::Status::unavailable(e.to_string())),
            };
            match status {
                Ok(s) if s == ServingStatus::Serving as i32 => {
                    println!("{addr} SERVING");
                    break;
                }
                other => {
                    if started.elapsed() > timeout {
                        return Err(CliError::Usage(format!(
                            "{addr} not ready after {timeout:?}: {other:?}"
                        )));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }
    Ok(())
}

/// An erasure reason by its short name (`personal_data`); the sweep's own RETENTION is not one.
fn erasure_reason(code: &str) -> Result<kaiku_proto::intake::v1::ErasureReason, String> {
    kaiku_domain::erasure::requestable_reason(code).ok_or_else(|| {
        let codes: Vec<&str> = kaiku_domain::erasure::REQUESTABLE_REASONS
            .iter()
            .map(|r| kaiku_domain::erasure::reason_code(*r))
            .collect();
        format!("{code:?} is not one of {}", codes.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_proto::intake::v1::ErasureReason;

    #[test]
    fn an_erasure_reason_is_a_code_from_the_list() {
        assert_eq!(erasure_reason("staff_name"), Ok(ErasureReason::StaffName));
        let refused = erasure_reason("asiakasnumero").expect_err("free text");
        assert!(refused.contains("personal_data, staff_name"), "{refused}");
        assert!(erasure_reason("retention").is_err(), "the sweep's own");
    }
}
