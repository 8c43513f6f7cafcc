//! `kaikuctl case`: feedback cases from the command line, for entering feedback received by
//! phone or letter in bulk and for a quick look at what is waiting (staff with `kaiku.handle`).

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use kaiku_domain::handling::kind_from_code;
use kaiku_domain::time::to_timestamp;
use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::handling::v1::{CaseOrigin, ContactDetails, ListCasesRequest, OpenCaseRequest};

use crate::commands::{CliError, connect};

#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// Record feedback received by phone, by letter or in person.
    Open {
        #[arg(long)]
        unit: String,
        /// praise, complaint, suggestion or question.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        message: String,
        /// When it came, Helsinki time (YYYY-MM-DDTHH:MM); default now.
        #[arg(long)]
        received: Option<String>,
        /// fi, sv or en.
        #[arg(long, default_value = "fi")]
        language: String,
        /// phone, letter, email or in_person.
        #[arg(long, default_value = "phone")]
        channel: String,
        /// The person asks to be contacted: give --email and/or --phone.
        #[arg(long)]
        contact: bool,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
    },
    /// The cases of the caller's units, newest first, without their content.
    List {
        #[arg(long, default_value = "")]
        unit: String,
        /// Only cases not yet closed.
        #[arg(long)]
        open: bool,
        /// Only late ones.
        #[arg(long)]
        overdue: bool,
    },
}

fn received_at(text: &str) -> Result<prost_types::Timestamp, CliError> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .map_err(|_| CliError::Usage(format!("--received {text:?}: write YYYY-MM-DDTHH:MM")))?;
    let at = Helsinki
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| CliError::Usage(format!("--received {text:?} is not a Helsinki time")))?;
    Ok(to_timestamp(at.with_timezone(&Utc)))
}

pub async fn case(addr: &str, command: CaseCommand) -> Result<(), CliError> {
    let mut client = FeedbackHandlingClient::new(connect(addr).await?);
    match command {
        CaseCommand::Open {
            unit,
            kind,
            message,
            received,
            language,
            channel,
            contact,
            name,
            email,
            phone,
        } => {
            let case = client
                .open_case(OpenCaseRequest {
                    case_id: String::new(),
                    unit_id: unit,
                    kind: kind_from_code(&kind) as i32,
                    origin: CaseOrigin::Phone as i32,
                    channel,
                    language,
                    message,
                    contact_requested: contact,
                    contact: contact.then_some(ContactDetails { name, email, phone }),
                    received_at: received.as_deref().map(received_at).transpose()?,
                })
                .await?
                .into_inner()
                .case
                .unwrap_or_default();
            println!("case={}", case.case_id);
            println!("reply_due_on={}", case.reply_due_on);
            println!("revision={}", case.revision);
        }
        CaseCommand::List {
            unit,
            open,
            overdue,
        } => {
            let cases = client
                .list_cases(ListCasesRequest {
                    unit_id: unit,
                    open_only: open,
                    overdue_only: overdue,
                    assignee: String::new(),
                })
                .await?
                .into_inner()
                .cases;
            for case in cases {
                println!(
                    "{} {} {} {:?} due {}{} {}",
                    case.case_id,
                    case.unit_id,
                    kaiku_domain::handling::kind_code(case.kind),
                    case.state(),
                    case.reply_due_on,
                    if case.overdue { " OVERDUE" } else { "" },
                    case.assignee,
                );
            }
        }
    }
    Ok(())
}
