//! Feedback handling: a case per feedback that needs a person to act on it. A case is an
//! aggregate on KAIKU_HANDLING under `kaiku.case.<case_id>`; `decide` and `evolve` are pure like
//! the survey, unit and review aggregates'. The respondent's message and contact details are the
//! case's only personal part: the service seals them (AES-256-GCM) into an event of their own,
//! which it erases once the case has been closed for the retention period (ADR 0013).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kaiku_proto::handling::v1::{
    Case, CaseActionRecorded, CaseAssigned, CaseClosed, CaseContent, CaseContentErased,
    CaseEscalated, CaseEvent, CaseHistoryEntry, CaseNoteAdded, CaseOpened, CaseOrigin,
    CaseReminded, CaseReplied, CaseStarted, CaseState, ContactDetails, FeedbackKind,
    OpenCaseRequest, case_event::Kind,
};
use uuid::Uuid;

use crate::Violations;
use crate::calendar::{deadline, is_working_day};
use crate::ids::is_valid_unit_id;
use crate::time::{from_timestamp, helsinki_date, to_timestamp};

/// Longest message a respondent can leave, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Longest note, reply, action or resolution a handler can record.
pub const MAX_HANDLER_TEXT_CHARS: usize = 4000;
/// How far back a phone case's receiving time may be entered.
pub const MAX_BACKDATING_DAYS: i64 = 365;
/// The subject system events (reminders, escalations, erasure) are recorded by.
pub const SYSTEM_ACTOR: &str = "kaiku-handling";
/// How long a case's message may still arrive after the case was received (the opening's
/// retries); a case still without it after this may be closed without the reply.
pub const CONTENT_GRACE_MINUTES: i64 = 30;

/// Channels a case can come through: the respondent channels and the ways staff take feedback.
pub const CASE_CHANNELS: [&str; 9] = [
    "qr",
    "web_link",
    "kiosk",
    "paper",
    "sms",
    "phone",
    "letter",
    "email",
    "in_person",
];
/// How a reply was given.
pub const REPLY_METHODS: [&str; 4] = ["phone", "email", "letter", "in_person"];

/// The organisation's promise: a reply within so many working days, or calendar days (the
/// deadline then moves to the next working day if it falls on a day off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    WorkingDays(u32),
    Days(u32),
}

impl Promise {
    /// `5wd` (working days) or `14d` (calendar days); 1 to 60.
    pub fn parse(text: &str) -> Result<Promise, String> {
        let text = text.trim();
        let (number, working) = match text.strip_suffix("wd") {
            Some(number) => (number, true),
            None => match text.strip_suffix('d') {
                Some(number) => (number, false),
                None => {
                    return Err(format!(
                        "{text:?} is not a promise: write working days as 5wd or days as 14d"
                    ));
                }
            },
        };
        let days: u32 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a promise: {number:?} is not a number"))?;
        if !(1..=60).contains(&days) {
            return Err(format!("{text:?}: a promise is 1 to 60 days"));
        }
        Ok(if working {
            Promise::WorkingDays(days)
        } else {
            Promise::Days(days)
        })
    }

    /// The day the reply is due for feedback received on `received` (Helsinki date).
    pub fn due_on(self, received: NaiveDate) -> NaiveDate {
        match self {
            Promise::WorkingDays(days) => deadline(received, days),
            Promise::Days(days) => {
                let mut due = received + Duration::days(i64::from(days));
                while !is_working_day(due) {
                    due += Duration::days(1);
                }
                due
            }
        }
    }

    /// A promise as a case carries it (its `Display` text, "5 working days" or "14 days"),
    /// so a page can say it in its own language.
    pub fn from_display(text: &str) -> Option<Promise> {
        let (number, working) = match text.strip_suffix(" working days") {
            Some(number) => (number, true),
            None => (text.strip_suffix(" days")?, false),
        };
        let days = number.parse().ok()?;
        Some(if working {
            Promise::WorkingDays(days)
        } else {
            Promise::Days(days)
        })
    }
}

impl std::fmt::Display for Promise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Promise::WorkingDays(days) => write!(f, "{days} working days"),
            Promise::Days(days) => write!(f, "{days} days"),
        }
    }
}

/// A command on one case. Opening is [`decide_open`]: it also yields the content to seal.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseCommand {
    Assign { assignee: String, unit_id: String },
    Start,
    AddNote { text: String },
    Reply { text: String, method: String },
    RecordAction { text: String },
    Close { resolution: String },
    Remind,
    Escalate { to_unit_id: String },
    EraseContent { sequence: u64 },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("invalid case: {0}")]
    Invalid(Violations),
    #[error("no case {0:?}")]
    NotFound(String),
    #[error("case {0:?} was already opened with other content")]
    AlreadyExists(String),
    #[error("case {case_id:?} is closed")]
    Closed { case_id: String },
    #[error("case {case_id:?}: {why}")]
    NotNow { case_id: String, why: NotNow },
    #[error("case {case_id:?} has changed since revision {expected} (now {actual}); reload it")]
    StaleRevision {
        case_id: String,
        expected: u64,
        actual: u64,
    },
}

/// Why a command cannot be carried out on a case as it is now. Each has a stable code that
/// clients match on (the status's google.rpc.ErrorInfo reason) to say it in their language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    /// Start on a case whose reply is recorded.
    AlreadyReplied,
    /// Close before the reply the respondent asked for.
    ReplyRequired,
    /// Close within the grace, while the message may still arrive.
    ContentNotArrived,
    /// A handler's text on a case whose message (and so its text key) is not saved.
    ContentNotSaved,
}

/// The code of the refusal of any command on a closed case, beside [`NotNow::code`]'s.
pub const CLOSED_CODE: &str = "CLOSED";

impl NotNow {
    pub const ALL: [NotNow; 4] = [
        NotNow::AlreadyReplied,
        NotNow::ReplyRequired,
        NotNow::ContentNotArrived,
        NotNow::ContentNotSaved,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NotNow::AlreadyReplied => "ALREADY_REPLIED",
            NotNow::ReplyRequired => "REPLY_REQUIRED",
            NotNow::ContentNotArrived => "CONTENT_NOT_ARRIVED",
            NotNow::ContentNotSaved => "CONTENT_NOT_SAVED",
        }
    }
}

impl std::fmt::Display for NotNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotNow::AlreadyReplied => write!(f, "it has already been replied to"),
            NotNow::ReplyRequired => write!(
                f,
                "the respondent asked to be contacted: record the reply before closing"
            ),
            NotNow::ContentNotArrived => write!(
                f,
                "the respondent's message and contact details have not arrived yet (their \
                 sending is retried): record the reply, or close the case once \
                 {CONTENT_GRACE_MINUTES} minutes have passed since it was received"
            ),
            NotNow::ContentNotSaved => write!(
                f,
                "the respondent's message is not saved yet (its sending is retried); try again \
                 in a moment"
            ),
        }
    }
}

/// One case, folded from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    pub case_id: String,
    pub opened: CaseOpened,
    pub state: CaseState,
    pub unit_id: String,
    pub assignee: String,
    pub received_at: DateTime<Utc>,
    pub reply_due_on: NaiveDate,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reminded_for: Option<NaiveDate>,
    pub escalated_to: Option<String>,
    /// Stream sequence of the sealed content, while it exists.
    pub sealed_at: Option<u64>,
    pub content_erased: bool,
    pub history: Vec<CaseHistoryEntry>,
    /// Stream sequence of the last event (optimistic concurrency).
    pub revision: u64,
}

impl CaseFile {
    /// Replied to, or closed (a case that asked for no reply is handled when it is closed).
    pub fn handled_at(&self) -> Option<DateTime<Utc>> {
        self.replied_at.or(self.closed_at)
    }

    /// Past the promised day and not handled.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.handled_at().is_none() && today > self.reply_due_on
    }

    pub fn is_closed(&self) -> bool {
        self.state == CaseState::Closed
    }

    /// The respondent's message (and contact details) never reached the stream: the opening's
    /// second append failed and no retry has brought it. Not the same as erased.
    pub fn content_missing(&self) -> bool {
        self.sealed_at.is_none() && !self.content_erased
    }

    /// The case as the API shows it (without its content, which only the service can open).
    pub fn to_proto(&self, today: NaiveDate) -> Case {
        Case {
            case_id: self.case_id.clone(),
            unit_id: self.unit_id.clone(),
            kind: self.opened.kind,
            origin: self.opened.origin,
            channel: self.opened.channel.clone(),
            language: self.opened.language.clone(),
            state: self.state as i32,
            assignee: self.assignee.clone(),
            received_at: Some(to_timestamp(self.received_at)),
            reply_due_on: self.reply_due_on.to_string(),
            promise: self.opened.promise.clone(),
            contact_requested: self.opened.contact_requested,
            overdue: self.is_overdue(today),
            escalated: self.escalated_to.is_some(),
            escalated_to_unit_id: self.escalated_to.clone().unwrap_or_default(),
            replied_at: self.replied_at.map(to_timestamp),
            closed_at: self.closed_at.map(to_timestamp),
            content: None,
            content_erased: self.content_erased,
            history: self.history.clone(),
            revision: self.revision,
        }
    }
}

fn check_text(field: &str, text: &str, max: usize, required: bool, v: &mut Violations) {
    let length = text.trim().chars().count();
    if required && length == 0 {
        v.add(field, "is required");
    } else if length > max {
        v.add(
            field,
            format!("must be at most {max} characters, got {length}"),
        );
    }
}

fn check_contact(contact: &ContactDetails, v: &mut Violations) {
    let name = contact.name.trim();
    if name.chars().count() > 200 {
        v.add("contact.name", "must be at most 200 characters");
    }
    let email = contact.email.trim();
    if !email.is_empty() {
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            v.add(
                "contact.email",
                // Not repeated: messages reach logs, and this is a person's address.
                "must be an e-mail address such as name@example.fi",
            );
        }
    }
    let phone = contact.phone.trim();
    if !phone.is_empty() {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (i == 0 && c == '+'));
        if !allowed || !(5..=15).contains(&digits) {
            v.add(
                "contact.phone",
                "must be a phone number of 5-15 digits such as +358 40 123 4567",
            );
        }
    }
    if email.is_empty() && phone.is_empty() {
        v.add(
            "contact",
            "an e-mail address or a phone number is required when contact is requested",
        );
    }
}

/// The event opening a case and the content to seal beside it, or every problem with the
/// request. `promise` is the organisation's; `now` the time of the call.
pub fn decide_open(
    request: &OpenCaseRequest,
    promise: Promise,
    now: DateTime<Utc>,
) -> Result<(String, CaseOpened, CaseContent), CaseError> {
    let mut v = Violations::new();
    let case_id = if request.case_id.is_empty() {
        Uuid::now_v7().hyphenated().to_string()
    } else {
        match Uuid::parse_str(&request.case_id) {
            Ok(id) => id.hyphenated().to_string(),
            Err(_) => {
                v.add(
                    "case_id",
                    format!("must be empty or a UUID, got {:?}", request.case_id),
                );
                String::new()
            }
        }
    };
    if !is_valid_unit_id(&request.unit_id) {
        v.add(
            "unit_id",
            format!(
                "must be 1-64 of a-z, A-Z, 0-9, - and _, got {:?}",
                request.unit_id
            ),
        );
    }
    match FeedbackKind::try_from(request.kind) {
        Ok(FeedbackKind::Unspecified) | Err(_) => v.add(
            "kind",
            format!(
                "must be one of PRAISE, COMPLAINT, SUGGESTION, QUESTION, got {}",
                request.kind
            ),
        ),
        Ok(_) => {}
    }
    let origin = CaseOrigin::try_from(request.origin).unwrap_or(CaseOrigin::Unspecified);
    if origin == CaseOrigin::Unspecified {
        v.add(
            "origin",
            format!(
                "must be one of CONTACT_REQUEST, FREE_FORM, PHONE, got {}",
                request.origin
            ),
        );
    }
    if !CASE_CHANNELS.contains(&request.channel.as_str()) {
        v.add(
            "channel",
            format!(
                "must be one of {}, got {:?}",
                CASE_CHANNELS.join(", "),
                request.channel
            ),
        );
    }
    if !["fi", "sv", "en"].contains(&request.language.as_str()) {
        v.add(
            "language",
            format!("must be fi, sv or en, got {:?}", request.language),
        );
    }
    // A contact request comes with a survey answer, which may say nothing more; feedback on its
    // own must say something.
    check_text(
        "message",
        &request.message,
        MAX_MESSAGE_CHARS,
        origin != CaseOrigin::ContactRequest,
        &mut v,
    );
    let contact = request.contact.clone().unwrap_or_default();
    if request.contact_requested {
        check_contact(&contact, &mut v);
    } else if contact != ContactDetails::default() {
        // Contact details are collected only to reply; without a request they are not kept.
        v.add("contact", "must be empty unless contact_requested is set");
    }
    if origin == CaseOrigin::ContactRequest && !request.contact_requested {
        v.add(
            "contact_requested",
            "must be set for a CONTACT_REQUEST case",
        );
    }
    let received_at = match (&request.received_at, origin) {
        (None, _) => now,
        (Some(at), CaseOrigin::Phone) => match from_timestamp(at) {
            Some(at) if at > now + Duration::minutes(5) => {
                v.add("received_at", "must not be in the future");
                now
            }
            Some(at) if at < now - Duration::days(MAX_BACKDATING_DAYS) => {
                v.add(
                    "received_at",
                    format!("must be within the last {MAX_BACKDATING_DAYS} days"),
                );
                now
            }
            Some(at) => at,
            None => {
                v.add("received_at", "is not a valid time");
                now
            }
        },
        (Some(_), _) => {
            v.add(
                "received_at",
                "can be given only for PHONE cases (others are received when they arrive)",
            );
            now
        }
    };
    if !v.is_empty() {
        return Err(CaseError::Invalid(v));
    }
    let reply_due_on = promise.due_on(helsinki_date(received_at));
    let opened = CaseOpened {
        unit_id: request.unit_id.clone(),
        kind: request.kind,
        origin: request.origin,
        channel: request.channel.clone(),
        language: request.language.clone(),
        contact_requested: request.contact_requested,
        received_at: Some(to_timestamp(received_at)),
        reply_due_on: reply_due_on.to_string(),
        promise: promise.to_string(),
    };
    let content = CaseContent {
        message: request.message.trim().to_owned(),
        contact: request.contact_requested.then(|| ContactDetails {
            name: contact.name.trim().to_owned(),
            email: contact.email.trim().to_owned(),
            phone: contact.phone.trim().to_owned(),
        }),
        // The service adds the text key when it seals the content.
        text_key: Vec::new(),
    };
    Ok((case_id, opened, content))
}

/// Whether a repeated open (same case id) is the same call again: a retry is a no-op.
pub fn same_opening(existing: &CaseOpened, again: &CaseOpened) -> bool {
    // The due day and receiving time come from the clock; a retry minutes later is the same.
    existing.unit_id == again.unit_id
        && existing.kind == again.kind
        && existing.origin == again.origin
        && existing.channel == again.channel
        && existing.language == again.language
        && existing.contact_requested == again.contact_requested
}

/// What a command on an open case appends, or why it cannot. `today` is the Helsinki date.
pub fn decide(
    case: &CaseFile,
    command: CaseCommand,
    today: NaiveDate,
    now: DateTime<Utc>,
    retention: Duration,
) -> Result<Vec<Kind>, CaseError> {
    let case_id = case.case_id.clone();
    let not_now = |why: NotNow| CaseError::NotNow {
        case_id: case_id.clone(),
        why,
    };
    let mut v = Violations::new();
    let closed_refused = !matches!(command, CaseCommand::EraseContent { .. });
    if closed_refused && case.is_closed() {
        return Err(CaseError::Closed { case_id });
    }
    let kind = match command {
        CaseCommand::Assign { assignee, unit_id } => {
            let assignee = assignee.trim().to_owned();
            if assignee.chars().count() > 200 {
                v.add("assignee", "must be at most 200 characters");
            }
            if !unit_id.is_empty() && !is_valid_unit_id(&unit_id) {
                v.add(
                    "unit_id",
                    format!("must be empty or a unit id, got {unit_id:?}"),
                );
            }
            if assignee.is_empty() && (unit_id.is_empty() || unit_id == case.unit_id) {
                v.add(
                    "assignee",
                    "is required unless the case moves to another unit",
                );
            }
            let unit_id = if unit_id.is_empty() {
                case.unit_id.clone()
            } else {
                unit_id
            };
            if assignee == case.assignee && unit_id == case.unit_id && v.is_empty() {
                return Ok(Vec::new());
            }
            Kind::Assigned(CaseAssigned { assignee, unit_id })
        }
        CaseCommand::Start => {
            if case.state == CaseState::InProgress {
                return Ok(Vec::new());
            }
            if case.state == CaseState::Replied {
                return Err(not_now(NotNow::AlreadyReplied));
            }
            Kind::Started(CaseStarted {})
        }
        CaseCommand::AddNote { text } => {
            check_text("text", &text, MAX_HANDLER_TEXT_CHARS, true, &mut v);
            Kind::NoteAdded(CaseNoteAdded {
                text: text.trim().to_owned(),
                sealed_text: None,
            })
        }
        CaseCommand::Reply { text, method } => {
            check_text("text", &text, MAX_HANDLER_TEXT_CHARS, true, &mut v);
            if !REPLY_METHODS.contains(&method.as_str()) {
                v.add(
                    "method",
                    format!(
                        "must be one of {}, got {method:?}",
                        REPLY_METHODS.join(", ")
                    ),
                );
            }
            Kind::Replied(CaseReplied {
                text: text.trim().to_owned(),
                method,
                hours_since_received: hours_between(case.received_at, now),
                sealed_text: None,
            })
        }
        CaseCommand::RecordAction { text } => {
            check_text("text", &text, MAX_HANDLER_TEXT_CHARS, true, &mut v);
            Kind::ActionRecorded(CaseActionRecorded {
                text: text.trim().to_owned(),
                sealed_text: None,
            })
        }
        CaseCommand::Close { resolution } => {
            check_text(
                "resolution",
                &resolution,
                MAX_HANDLER_TEXT_CHARS,
                false,
                &mut v,
            );
            // With the message and contact details lost for good there is no one to reply to,
            // and the case must not stay open (and late) for ever.
            let content_lost = case.content_missing()
                && now - case.received_at >= Duration::minutes(CONTENT_GRACE_MINUTES);
            if v.is_empty()
                && case.opened.contact_requested
                && case.replied_at.is_none()
                && !content_lost
            {
                return Err(not_now(if case.content_missing() {
                    NotNow::ContentNotArrived
                } else {
                    NotNow::ReplyRequired
                }));
            }
            Kind::Closed(CaseClosed {
                resolution: resolution.trim().to_owned(),
                hours_since_received: hours_between(case.received_at, now),
                sealed_resolution: None,
            })
        }
        CaseCommand::Remind => {
            if case.handled_at().is_some() || case.reminded_for == Some(case.reply_due_on) {
                return Ok(Vec::new());
            }
            Kind::Reminded(CaseReminded {
                reply_due_on: case.reply_due_on.to_string(),
            })
        }
        CaseCommand::Escalate { to_unit_id } => {
            if !case.is_overdue(today) || case.escalated_to.is_some() {
                return Ok(Vec::new());
            }
            Kind::Escalated(CaseEscalated {
                to_unit_id,
                reply_due_on: case.reply_due_on.to_string(),
            })
        }
        CaseCommand::EraseContent { sequence } => {
            let due = case
                .closed_at
                .is_some_and(|closed| closed + retention <= now);
            if case.content_erased || !due {
                return Ok(Vec::new());
            }
            Kind::ContentErased(CaseContentErased { sequence })
        }
    };
    if !v.is_empty() {
        return Err(CaseError::Invalid(v));
    }
    Ok(vec![kind])
}

/// Hours from `from` to `to`, to one decimal (never negative): precise enough for handling
/// times, too coarse to pin down when the feedback came.
pub fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let hours = (to - from).num_seconds().max(0) as f64 / 3600.0;
    (hours * 10.0).round() / 10.0
}

/// Why a stored case event cannot be folded: the record contradicts itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("case event at sequence {sequence}: {reason}")]
pub struct CaseFoldError {
    pub sequence: u64,
    pub reason: String,
}

/// Folds one stored event into the case (`None` before it was opened).
pub fn evolve(
    case: Option<CaseFile>,
    event: &CaseEvent,
    sequence: u64,
) -> Result<CaseFile, CaseFoldError> {
    let fail = |reason: &str| CaseFoldError {
        sequence,
        reason: reason.to_owned(),
    };
    let at = event
        .occurred_at
        .as_ref()
        .and_then(from_timestamp)
        .ok_or_else(|| fail("event has no time"))?;
    let kind = event
        .kind
        .as_ref()
        .ok_or_else(|| fail("event has no kind"))?;
    let mut entry = CaseHistoryEntry {
        at: event.occurred_at,
        recorded_by: event.recorded_by.clone(),
        ..CaseHistoryEntry::default()
    };
    let mut case = match (case, kind) {
        (None, Kind::Opened(opened)) => {
            let received_at = opened
                .received_at
                .as_ref()
                .and_then(from_timestamp)
                .ok_or_else(|| fail("opened without a receiving time"))?;
            let reply_due_on = opened
                .reply_due_on
                .parse()
                .map_err(|_| fail("opened without a due day"))?;
            entry.what = "opened".into();
            entry.unit_id = opened.unit_id.clone();
            CaseFile {
                case_id: event.case_id.clone(),
                opened: opened.clone(),
                state: CaseState::Received,
                unit_id: opened.unit_id.clone(),
                assignee: String::new(),
                received_at,
                reply_due_on,
                replied_at: None,
                closed_at: None,
                reminded_for: None,
                escalated_to: None,
                sealed_at: None,
                content_erased: false,
                history: Vec::new(),
                revision: 0,
            }
        }
        (None, _) => return Err(fail("the first event of a case must open it")),
        (Some(_), Kind::Opened(_)) => return Err(fail("the case is already open")),
        (Some(mut case), kind) => {
            match kind {
                Kind::Opened(_) => {}
                Kind::ContentSealed(_) => {
                    case.sealed_at = Some(sequence);
                    entry.what = String::new();
                }
                Kind::Assigned(assigned) => {
                    let moved = assigned.unit_id != case.unit_id;
                    case.assignee = assigned.assignee.clone();
                    case.unit_id = assigned.unit_id.clone();
                    // A new handler or unit: a case not yet started waits for them (received
                    // without a handler, assigned with one), one being worked in another unit
                    // starts over there; a replied case stays replied.
                    if case.state != CaseState::Replied
                        && (case.state != CaseState::InProgress || moved)
                    {
                        case.state = if case.assignee.is_empty() {
                            CaseState::Received
                        } else {
                            CaseState::Assigned
                        };
                    }
                    entry.what = "assigned".into();
                    entry.assignee = assigned.assignee.clone();
                    entry.unit_id = assigned.unit_id.clone();
                }
                Kind::Started(_) => {
                    case.state = CaseState::InProgress;
                    if case.assignee.is_empty() {
                        case.assignee = event.recorded_by.clone();
                    }
                    entry.what = "started".into();
                }
                Kind::NoteAdded(note) => {
                    entry.what = "note".into();
                    entry.text = note.text.clone();
                }
                Kind::Replied(reply) => {
                    case.state = CaseState::Replied;
                    case.replied_at.get_or_insert(at);
                    entry.what = "replied".into();
                    entry.text = reply.text.clone();
                }
                Kind::ActionRecorded(action) => {
                    entry.what = "action".into();
                    entry.text = action.text.clone();
                }
                Kind::Closed(closed) => {
                    case.state = CaseState::Closed;
                    case.closed_at = Some(at);
                    entry.what = "closed".into();
                    entry.text = closed.resolution.clone();
                }
                Kind::Reminded(reminded) => {
                    case.reminded_for = reminded.reply_due_on.parse().ok();
                    entry.what = "reminded".into();
                }
                Kind::Escalated(escalated) => {
                    case.escalated_to = Some(escalated.to_unit_id.clone());
                    entry.what = "escalated".into();
                    entry.unit_id = escalated.to_unit_id.clone();
                }
                Kind::ContentErased(_) => {
                    case.sealed_at = None;
                    case.content_erased = true;
                    // The handlers' texts go with the content: sealed ones can no longer be
                    // opened, and plain ones (cases from before texts were sealed) are not shown.
                    for earlier in &mut case.history {
                        earlier.text.clear();
                    }
                    entry.what = "erased".into();
                }
            }
            case
        }
    };
    if !entry.what.is_empty() {
        case.history.push(entry);
    }
    case.revision = sequence;
    Ok(case)
}

pub fn case_envelope(case_id: &str, recorded_by: &str, kind: Kind, at: DateTime<Utc>) -> CaseEvent {
    CaseEvent {
        event_id: Uuid::now_v7().to_string(),
        case_id: case_id.to_owned(),
        occurred_at: Some(to_timestamp(at)),
        recorded_by: recorded_by.to_owned(),
        kind: Some(kind),
    }
}

pub fn case_event_kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Opened(_) => "CaseOpened",
        Kind::ContentSealed(_) => "CaseContentSealed",
        Kind::Assigned(_) => "CaseAssigned",
        Kind::Started(_) => "CaseStarted",
        Kind::NoteAdded(_) => "CaseNoteAdded",
        Kind::Replied(_) => "CaseReplied",
        Kind::ActionRecorded(_) => "CaseActionRecorded",
        Kind::Closed(_) => "CaseClosed",
        Kind::Reminded(_) => "CaseReminded",
        Kind::Escalated(_) => "CaseEscalated",
        Kind::ContentErased(_) => "CaseContentErased",
    }
}

/// The read models' and reports' code of a kind.
pub fn kind_code(kind: i32) -> &'static str {
    match FeedbackKind::try_from(kind) {
        Ok(FeedbackKind::Praise) => "praise",
        Ok(FeedbackKind::Complaint) => "complaint",
        Ok(FeedbackKind::Suggestion) => "suggestion",
        Ok(FeedbackKind::Question) => "question",
        Ok(FeedbackKind::Unspecified) | Err(_) => "unspecified",
    }
}

/// The kind a code names (`praise`, ...); UNSPECIFIED for anything else, which opening refuses.
pub fn kind_from_code(code: &str) -> FeedbackKind {
    match code {
        "praise" => FeedbackKind::Praise,
        "complaint" => FeedbackKind::Complaint,
        "suggestion" => FeedbackKind::Suggestion,
        "question" => FeedbackKind::Question,
        _ => FeedbackKind::Unspecified,
    }
}

/// What the sweeper should do about a case now, in order: remind the day before the promised
/// day, escalate once it has passed, erase the content once closed for the retention period.
pub fn due_commands(
    case: &CaseFile,
    today: NaiveDate,
    now: DateTime<Utc>,
    retention: Duration,
    parent_unit: Option<&str>,
) -> Vec<CaseCommand> {
    let mut commands = Vec::new();
    if case.handled_at().is_none() && !case.is_closed() {
        let reminder_day = previous_working_day(case.reply_due_on);
        if today >= reminder_day && today <= case.reply_due_on && case.reminded_for.is_none() {
            commands.push(CaseCommand::Remind);
        }
        if case.is_overdue(today) && case.escalated_to.is_none() {
            commands.push(CaseCommand::Escalate {
                // A county-level unit has no one above it: its own manager is told again.
                to_unit_id: parent_unit.unwrap_or(&case.unit_id).to_owned(),
            });
        }
    }
    if let (Some(sequence), Some(closed)) = (case.sealed_at, case.closed_at)
        && closed + retention <= now
    {
        commands.push(CaseCommand::EraseContent { sequence });
    }
    commands
}

fn previous_working_day(date: NaiveDate) -> NaiveDate {
    let mut day = date - Duration::days(1);
    while !is_working_day(day) {
        day -= Duration::days(1);
    }
    day
}

#[cfg(test)]
mod tests;
