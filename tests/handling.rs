//! Feedback handling end to end: cases opened by a channel adapter and by staff, routed,
//! reassigned, replied to and closed through the real feedback-handling service; deadlines on
//! the Finnish calendar; the sweeper's escalation of a late case and its e-mail; the handling
//! report from the projection's read model; and the privacy of the case content.

use std::time::Duration;

use kaiku_auth::Scope;
use kaiku_domain::calendar::deadline;
use kaiku_domain::time::{helsinki_date, to_timestamp};
use kaiku_eventstore::{EventStore, HANDLING_STREAM, RESPONSES_STREAM, case_subject};
use kaiku_grpc::{AuthorizedChannel, bad_request_fields, error_reason};
use kaiku_proto::analytics::v1::{GetHandlingReportRequest, HandlingRow};
use kaiku_proto::events::v1::AuditEvent;
use kaiku_proto::handling::v1::feedback_handling_client::FeedbackHandlingClient;
use kaiku_proto::handling::v1::{
    AddNoteRequest, AssignCaseRequest, Case, CaseEvent, CaseOrigin, CaseState, CloseCaseRequest,
    ContactDetails, FeedbackKind, GetCaseRequest, ListCasesRequest, OpenCaseRequest,
    RecordActionRequest, RecordReplyRequest, StartCaseRequest, case_event::Kind,
};
use kaiku_proto::survey::v1::UnitLevel;
use kaiku_system_tests::smtp::MailSink;
use kaiku_system_tests::{
    Stack, TestResult, database_text, files_bytes, method_name, nps_answer, post_form, two_areas,
    unit,
};
use kaiku_test_support::Grant;
use prost::Message;
use tonic::Code;

type Handling = FeedbackHandlingClient<AuthorizedChannel>;

const ROUTING: &str = r#"{
  "units": {
    "school-a1": ["rehtori.a1@example.fi"],
    "area-a": ["alue.a@example.fi"],
    "area-b": ["alue.b@example.fi"]
  },
  "people": { "anna": "anna@example.fi", "ben": "ben@example.fi" }
}"#;

struct Handlers {
    stack: Stack,
    /// A channel adapter (submit only).
    adapter: Handling,
    /// Manager of area A and of area B (handle + analytics read, their area's subtree).
    anna: Handling,
    ben: Handling,
    anna_token: String,
    /// A channel adapter that may submit through QR codes only.
    qr_adapter: Handling,
    _files: tempfile::TempDir,
}

async fn start(extra_env: &[(&'static str, String)], mail: &MailSink) -> TestResult<Handlers> {
    let files = tempfile::tempdir()?;
    let routing = files.path().join("routing.json");
    std::fs::write(&routing, ROUTING)?;
    let mut env = vec![
        ("KAIKU_SMTP_URL", mail.url()),
        ("KAIKU_SMTP_FROM", "kaiku@example.fi".to_owned()),
        ("KAIKU_HANDLING_ROUTING", routing.display().to_string()),
        ("KAIKU_HANDLING_PROMISE", "5wd".to_owned()),
        ("KAIKU_CONSOLE_URL", "https://kaiku.example.fi".to_owned()),
    ];
    env.extend(extra_env.iter().cloned());
    let manager = |area: &str| Grant {
        unit_subtrees: vec![area.to_owned()],
        ..Grant::default()
    };
    let scopes: &[Scope] = &[Scope::Handle, Scope::AnalyticsRead];
    let (stack, tokens) = Stack::start_with_keys(
        &env,
        &[
            ("anna", scopes, manager("area-a")),
            ("ben", scopes, manager("area-b")),
            (
                "qr-adapter",
                &[Scope::Submit],
                Grant {
                    channels: vec!["qr".into()],
                    ..Grant::default()
                },
            ),
        ],
    )
    .await?;
    let mut surveys = stack.surveys().await?;
    for request in two_areas() {
        surveys.create_unit(request).await?;
    }
    let client = |token: &str| {
        let token = token.to_owned();
        let stack = &stack;
        async move {
            TestResult::Ok(FeedbackHandlingClient::new(
                stack.channel_as("feedback-handling", &token).await?,
            ))
        }
    };
    let adapter = client(&stack.service_token).await?;
    let anna = client(&tokens[0]).await?;
    let ben = client(&tokens[1]).await?;
    let qr_adapter = client(&tokens[2]).await?;
    Ok(Handlers {
        adapter,
        anna,
        ben,
        anna_token: tokens[0].clone(),
        qr_adapter,
        stack,
        _files: files,
    })
}

fn contact_request(unit_id: &str, message: &str, contact: ContactDetails) -> OpenCaseRequest {
    OpenCaseRequest {
        unit_id: unit_id.into(),
        kind: FeedbackKind::Complaint as i32,
        origin: CaseOrigin::ContactRequest as i32,
        channel: "qr".into(),
        language: "fi".into(),
        message: message.into(),
        contact_requested: true,
        contact: Some(contact),
        ..OpenCaseRequest::default()
    }
}

fn case_of(response: tonic::Response<kaiku_proto::handling::v1::CaseResponse>) -> TestResult<Case> {
    response
        .into_inner()
        .case
        .ok_or_else(|| "a case response without its case".into())
}

fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Code {
    match result {
        Ok(ok) => panic!("expected a refusal, got {ok:?}"),
        Err(status) => status.code(),
    }
}

/// Polls a case until `done` holds (the sweeper works on its own interval).
async fn wait_for_case(
    client: &mut Handling,
    case_id: &str,
    what: &str,
    done: impl Fn(&Case) -> bool,
) -> TestResult<Case> {
    let until = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let case = read_case(client, case_id).await?;
        if done(&case) {
            return Ok(case);
        }
        if tokio::time::Instant::now() > until {
            return Err(format!("case {case_id} not {what} after 15 s: {case:#?}").into());
        }
        // The sweeper runs every 300 ms in tests; there is no event to await from here.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A case as the handler `client` reads it, content and texts opened.
async fn read_case(client: &mut Handling, case_id: &str) -> TestResult<Case> {
    case_of(
        client
            .get_case(GetCaseRequest {
                case_id: case_id.into(),
            })
            .await?,
    )
}

/// Closes a case without a resolution text, at the revision its handler last saw.
async fn close_case(
    client: &mut Handling,
    case_id: &str,
    expected_revision: u64,
) -> Result<tonic::Response<kaiku_proto::handling::v1::CaseResponse>, tonic::Status> {
    client
        .close_case(CloseCaseRequest {
            case_id: case_id.into(),
            resolution: String::new(),
            expected_revision,
        })
        .await
}

fn row<'a>(rows: &'a [HandlingRow], unit_id: &str, kind: &str) -> TestResult<&'a HandlingRow> {
    rows.iter()
        .find(|r| r.unit_id == unit_id && r.kind == kind)
        .ok_or_else(|| format!("no report row ({unit_id:?}, {kind:?}) in {rows:#?}").into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_goes_from_contact_request_through_reassignment_and_reply_to_closed() -> TestResult {
    let mail = MailSink::start().await?;
    let Handlers {
        stack,
        mut adapter,
        mut anna,
        mut ben,
        anna_token,
        qr_adapter: _,
        _files,
    } = start(&[], &mail).await?;

    // A respondent answers at school A1 through a QR poster's web form, then asks to be
    // contacted from the thank-you page.
    let survey_id = stack
        .publish(kaiku_domain::fixtures::nps_survey(&["school-a1"]))
        .await?;
    let web = stack.start_web_form(&[]).await?;
    let token = web.sign(&kaiku_links::LinkContext {
        survey_id: survey_id.clone(),
        unit_id: "school-a1".into(),
        channel: "qr".into(),
        respondent_role: "client".into(),
        professional_group: String::new(),
        age_band: String::new(),
        language: "fi".into(),
    })?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form_url = format!("{}/f/{token}", web.url);
    let form = browser.get(&form_url).send().await?.text().await?;
    let submission_id = form
        .split("name=\"submission_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no submission id on the form")?
        .to_owned();
    let answered = post_form(
        &browser,
        &form_url,
        &[("submission_id", &submission_id), ("a.nps", "3")],
    )
    .await?;
    assert_eq!(answered.0, 303, "{}", answered.1);
    let thanks = browser
        .get(format!("{form_url}/thanks?lang=fi"))
        .send()
        .await?
        .text()
        .await?;
    let offer = format!("/f/{token}/feedback?lang=fi&amp;after=answer");
    assert!(
        thanks.contains(&offer),
        "no contact offer on the thank-you page:\n{thanks}"
    );
    let feedback_url = format!("{form_url}/feedback");
    let page = browser
        .get(format!("{feedback_url}?lang=fi&after=answer"))
        .send()
        .await?
        .text()
        .await?;
    let case_id = page
        .split("name=\"case_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no case id on the feedback page")?
        .to_owned();
    let message = "Odotin vastaanotolla tunnin. Soittakaa minulle.";
    let mut fields = vec![
        ("case_id", case_id.as_str()),
        ("lang", "fi"),
        ("after", "answer"),
        ("kind", "complaint"),
        ("message", message),
        ("contact_requested", "yes"),
        ("name", "Maija"),
        ("email", "maija@example"),
        ("phone", "+358 40 123 4567"),
    ];
    // A mistyped address comes back with the field named and the rest kept; nothing opens.
    let (status, refused) = post_form(&browser, &feedback_url, &fields).await?;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("Tarkista sähköpostiosoite") && refused.contains("+358 40 123 4567"));
    assert!(listed_cases(&mut anna).await?.is_empty());
    fields[7] = ("email", "maija@example.fi");
    let (status, _) = post_form(&browser, &feedback_url, &fields).await?;
    assert_eq!(status, 303);
    // Sent twice (a double click): one case.
    let (status, _) = post_form(&browser, &feedback_url, &fields).await?;
    assert_eq!(status, 303);
    // Sent again with a changed message (the first answer was lost on the way): the page says
    // the feedback is in and the changes are not; still one case, with the first message.
    fields[4] = ("message", "Muutettu viesti");
    let changed = browser
        .post(&feedback_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish(),
        )
        .send()
        .await?;
    assert_eq!(changed.status().as_u16(), 303);
    let location = changed
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or("no location")?
        .to_owned();
    assert!(
        location.ends_with("/feedback/sent?lang=fi&earlier=1"),
        "{location}"
    );
    fields[4] = ("message", message);
    let sent_again = browser
        .get(format!("{}{location}", web.url))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        sent_again.contains("muutokset eivät tallentuneet"),
        "{sent_again}"
    );
    let cases = listed_cases(&mut anna).await?;
    assert_eq!(cases.len(), 1, "{cases:#?}");
    let opened = cases.into_iter().next().ok_or("no case")?;
    assert_eq!(opened.case_id, case_id);
    assert_eq!(opened.origin(), CaseOrigin::ContactRequest);
    assert_eq!(opened.kind(), FeedbackKind::Complaint);
    assert_eq!(opened.channel, "qr");
    let case_id = opened.case_id.clone();
    assert_eq!(opened.state(), CaseState::Received);
    assert_eq!(opened.unit_id, "school-a1");
    assert!(opened.contact_requested);
    assert!(
        opened.content.is_none(),
        "the adapter's answer carries no content"
    );
    // Due in five Finnish working days from the day it came.
    let today = helsinki_date(chrono::Utc::now());
    assert_eq!(opened.reply_due_on, deadline(today, 5).to_string());
    assert_eq!(opened.promise, "5 working days");
    // The unit's handlers hear of it, without the feedback or the contact details.
    let notice = mail
        .wait_for("rehtori.a1@example.fi", &case_id, Duration::from_secs(10))
        .await?;
    for secret in ["Odotin", "Maija", "maija@example.fi", "123 4567"] {
        assert!(
            !notice.text.contains(secret),
            "{secret:?} in the notice:\n{}",
            notice.text
        );
    }
    assert!(
        notice
            .text
            .contains(&format!("https://kaiku.example.fi/cases/{case_id}"))
    );

    // Another area's manager cannot see it; the adapter cannot work it.
    let get = |id: &str| GetCaseRequest { case_id: id.into() };
    assert_eq!(
        code(ben.get_case(get(&case_id)).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(adapter.get_case(get(&case_id)).await),
        Code::PermissionDenied
    );
    // Every handling call is on record with the case it was about, the service's own refusals
    // too (the adapter's was refused by the auth layer, before the request was read: its
    // record names the method and caller only).
    let audit_store = admin_store(&stack).await?;
    let audited: Vec<(String, String, String)> = audit_store
        .read_all(
            kaiku_eventstore::AUDIT_STREAM,
            "kaiku.audit.feedback-handling",
        )
        .await?
        .iter()
        .map(|stored| AuditEvent::decode(stored.payload.as_ref()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|audit| audit.object == format!("case:{case_id}"))
        .map(|audit| (method_name(&audit.method), audit.reason, audit.code))
        .collect();
    for expected in [
        ("OpenCase", "handling", "Ok"),
        ("GetCase", "denied", "PermissionDenied"),
    ] {
        let expected = (
            expected.0.to_owned(),
            expected.1.to_owned(),
            expected.2.to_owned(),
        );
        assert!(
            audited.contains(&expected),
            "{expected:?} not in {audited:?}"
        );
    }
    assert_eq!(
        audited
            .iter()
            .filter(|(_, _, code)| code == "PermissionDenied")
            .count(),
        1,
        "{audited:?}"
    );

    // The manager of area A reads it (content decrypted for her) and takes it.
    let seen = case_of(anna.get_case(get(&case_id)).await?)?;
    let content = seen.content.clone().unwrap_or_default();
    assert_eq!(
        content.message,
        "Odotin vastaanotolla tunnin. Soittakaa minulle."
    );
    assert_eq!(
        content.contact.unwrap_or_default().email,
        "maija@example.fi"
    );
    let assigned = case_of(
        anna.assign_case(AssignCaseRequest {
            case_id: case_id.clone(),
            assignee: "anna".into(),
            unit_id: String::new(),
            expected_revision: seen.revision,
        })
        .await?,
    )?;
    assert_eq!(
        (assigned.state(), assigned.assignee.as_str()),
        (CaseState::Assigned, "anna")
    );
    mail.wait_for("anna@example.fi", &case_id, Duration::from_secs(10))
        .await?;
    // A save based on an old revision is refused, not merged.
    let stale = anna
        .add_note(AddNoteRequest {
            case_id: case_id.clone(),
            text: "vanha".into(),
            expected_revision: seen.revision,
        })
        .await;
    assert_eq!(code(stale), Code::Aborted);

    // It concerns school B1 after all: reassigned there, it leaves area A's hands.
    let moved = case_of(
        anna.assign_case(AssignCaseRequest {
            case_id: case_id.clone(),
            assignee: String::new(),
            unit_id: "school-b1".into(),
            expected_revision: assigned.revision,
        })
        .await?,
    )?;
    assert_eq!(
        (moved.state(), moved.unit_id.as_str()),
        (CaseState::Received, "school-b1")
    );
    mail.wait_for("alue.b@example.fi", &case_id, Duration::from_secs(10))
        .await?;
    assert_eq!(
        code(anna.get_case(get(&case_id)).await),
        Code::PermissionDenied
    );
    // Replaying the opening does not let her read it either; the adapter that opened it learns
    // only its id and due day, not what has happened since.
    let replay = OpenCaseRequest {
        case_id: case_id.clone(),
        origin: CaseOrigin::ContactRequest as i32,
        ..contact_request(
            "school-a1",
            message,
            ContactDetails {
                name: "Maija".into(),
                email: "maija@example.fi".into(),
                phone: "+358 40 123 4567".into(),
            },
        )
    };
    assert_eq!(
        code(anna.open_case(replay.clone()).await),
        Code::PermissionDenied
    );
    let receipt = case_of(adapter.open_case(replay.clone()).await?)?;
    assert_eq!(receipt.case_id, case_id);
    assert!(receipt.history.is_empty() && receipt.assignee.is_empty() && receipt.content.is_none());
    // The same id with other content is refused, not merged.
    let other = OpenCaseRequest {
        message: "Toinen viesti".into(),
        ..replay
    };
    assert_eq!(code(adapter.open_case(other).await), Code::AlreadyExists);

    // Ben works it: takes it, starts, notes, replies, records what it led to, closes.
    let step = |case: Case| case.revision;
    let mut revision = step(moved);
    revision = step(case_of(
        ben.assign_case(AssignCaseRequest {
            case_id: case_id.clone(),
            assignee: "ben".into(),
            unit_id: String::new(),
            expected_revision: revision,
        })
        .await?,
    )?);
    revision = step(case_of(
        ben.start_case(StartCaseRequest {
            case_id: case_id.clone(),
            expected_revision: revision,
        })
        .await?,
    )?);
    revision = step(case_of(
        ben.add_note(AddNoteRequest {
            case_id: case_id.clone(),
            text: "Selvitetty ajanvarauksen kanssa.".into(),
            expected_revision: revision,
        })
        .await?,
    )?);
    // The respondent asked for contact: no closing before the reply.
    let early = close_case(&mut ben, &case_id, revision)
        .await
        .expect_err("closed before the reply");
    assert_eq!(early.code(), Code::FailedPrecondition);
    // With a code the console says it by (ErrorInfo reason).
    assert_eq!(error_reason(&early), "REPLY_REQUIRED");
    // A reply without text or with an unknown method names both fields; nothing is stored.
    let bad_reply = ben
        .record_reply(RecordReplyRequest {
            case_id: case_id.clone(),
            text: " ".into(),
            method: "pigeon".into(),
            expected_revision: revision,
        })
        .await
        .err()
        .ok_or("an empty reply was accepted")?;
    assert_eq!(bad_reply.code(), Code::InvalidArgument);
    let fields: Vec<String> = bad_reply_fields(&bad_reply);
    assert_eq!(fields, ["text", "method"]);
    revision = step(case_of(
        ben.record_reply(RecordReplyRequest {
            case_id: case_id.clone(),
            text: "Soitin ja pahoittelin odotusta.".into(),
            method: "phone".into(),
            expected_revision: revision,
        })
        .await?,
    )?);
    revision = step(case_of(
        ben.record_action(RecordActionRequest {
            case_id: case_id.clone(),
            text: "Vastaanoton aikataulua väljennetään.".into(),
            expected_revision: revision,
        })
        .await?,
    )?);
    let closed = case_of(
        ben.close_case(CloseCaseRequest {
            case_id: case_id.clone(),
            resolution: "Vastattu ja korjattu".into(),
            expected_revision: revision,
        })
        .await?,
    )?;
    assert_eq!(closed.state(), CaseState::Closed);
    assert!(closed.replied_at.is_some() && closed.closed_at.is_some());
    assert!(!closed.overdue);
    let history: Vec<(&str, &str)> = closed
        .history
        .iter()
        .map(|h| (h.what.as_str(), h.recorded_by.as_str()))
        .collect();
    assert_eq!(
        history,
        [
            ("opened", "api-key:channel-adapter"),
            ("assigned", "api-key:anna"),
            ("assigned", "api-key:anna"),
            ("assigned", "api-key:ben"),
            ("started", "api-key:ben"),
            ("note", "api-key:ben"),
            ("replied", "api-key:ben"),
            ("action", "api-key:ben"),
            ("closed", "api-key:ben"),
        ]
    );
    let after_close = ben
        .add_note(AddNoteRequest {
            case_id: case_id.clone(),
            text: "myöhässä".into(),
            expected_revision: 0,
        })
        .await
        .expect_err("a note on a closed case");
    assert_eq!(after_close.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&after_close), "CLOSED");

    // A phone call from before Easter 2026: Wednesday 1 April, Good Friday and Easter Monday do
    // not count, so five working days end on Friday 10 April. A channel adapter may not enter
    // phone cases.
    let call = OpenCaseRequest {
        unit_id: "school-a1".into(),
        kind: FeedbackKind::Question as i32,
        origin: CaseOrigin::Phone as i32,
        channel: "phone".into(),
        language: "sv".into(),
        message: "Frågade om tider.".into(),
        contact_requested: true,
        contact: Some(ContactDetails {
            phone: "040 765 4321".into(),
            ..ContactDetails::default()
        }),
        received_at: Some(to_timestamp(
            chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00+03:00")?.to_utc(),
        )),
        ..OpenCaseRequest::default()
    };
    assert_eq!(
        code(adapter.open_case(call.clone()).await),
        Code::PermissionDenied
    );
    let late = case_of(anna.open_case(call).await?)?;
    assert_eq!(late.reply_due_on, "2026-04-10");
    assert!(late.overdue, "a case due in April is late in November");
    // The sweeper escalates it to the manager of area A (the unit above school A1), once, and
    // tells area A's handlers.
    let escalated = wait_for_case(&mut anna, &late.case_id, "escalated", |c| c.escalated).await?;
    assert_eq!(escalated.escalated_to_unit_id, "area-a");
    let escalations: Vec<_> = escalated
        .history
        .iter()
        .filter(|h| h.what == "escalated")
        .collect();
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0].recorded_by, "kaiku-handling");
    let notice = mail
        .wait_for("alue.a@example.fi", "myöhässä", Duration::from_secs(10))
        .await?;
    assert!(notice.text.contains(&late.case_id) && notice.text.contains("2026-04-10"));
    assert!(!notice.text.contains("Frågade") && !notice.text.contains("765 4321"));
    // The manager's overview: her open and late cases.
    let overdue = anna
        .list_cases(ListCasesRequest {
            overdue_only: true,
            open_only: true,
            ..ListCasesRequest::default()
        })
        .await?
        .into_inner()
        .cases;
    assert_eq!(
        overdue
            .iter()
            .map(|c| c.case_id.as_str())
            .collect::<Vec<_>>(),
        [late.case_id.as_str()]
    );
    assert!(
        overdue.iter().all(|c| c.content.is_none()),
        "lists carry no content"
    );

    // Praise through the web form's feedback page, no contact wanted: handled by closing it.
    let praise = case_of(
        adapter
            .open_case(OpenCaseRequest {
                unit_id: "school-a1".into(),
                kind: FeedbackKind::Praise as i32,
                origin: CaseOrigin::FreeForm as i32,
                channel: "web_link".into(),
                language: "en".into(),
                message: "Lovely staff.".into(),
                ..OpenCaseRequest::default()
            })
            .await?,
    )?;
    let praise = case_of(
        anna.close_case(CloseCaseRequest {
            case_id: praise.case_id.clone(),
            resolution: "Shared with the team".into(),
            expected_revision: praise.revision,
        })
        .await?,
    )?;

    // The report from the read model, once it holds every change above.
    let last = [escalated.revision, praise.revision, closed.revision]
        .into_iter()
        .max()
        .unwrap_or_default();
    let mut analytics = stack.analytics().await?;
    let rows = analytics
        .get_handling_report(GetHandlingReportRequest {
            min_sequence: last,
            ..GetHandlingReportRequest::default()
        })
        .await?
        .into_inner()
        .rows;
    let complaint = row(&rows, "school-b1", "complaint")?;
    assert_eq!(
        (
            complaint.received,
            complaint.replied,
            complaint.closed,
            complaint.open,
            complaint.overdue
        ),
        (1, 1, 1, 0, 0)
    );
    assert_eq!(
        (complaint.handled_on_time, complaint.on_time_share),
        (1, Some(1.0))
    );
    let hours = complaint.median_hours_to_handle.ok_or("no handling time")?;
    assert!(
        (0.0..0.1).contains(&hours),
        "handled within minutes, got {hours} h"
    );
    let question = row(&rows, "school-a1", "question")?;
    assert_eq!(
        (
            question.received,
            question.open,
            question.overdue,
            question.escalated
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (question.handled_on_time, question.on_time_share),
        (0, Some(0.0))
    );
    assert_eq!(question.median_hours_to_handle, None);
    let praise_row = row(&rows, "school-a1", "praise")?;
    assert_eq!((praise_row.closed, praise_row.handled_on_time), (1, 1));
    let school_a1 = row(&rows, "school-a1", "")?;
    assert_eq!((school_a1.received, school_a1.handled_on_time), (2, 1));
    let total = row(&rows, "", "")?;
    assert_eq!(
        (
            total.received,
            total.replied,
            total.closed,
            total.open,
            total.overdue
        ),
        (3, 1, 2, 1, 1)
    );
    let share = total.on_time_share.ok_or("no share")?;
    assert!(
        (share - 2.0 / 3.0).abs() < 1e-9,
        "2 of 3 on time, got {share}"
    );
    // Area A's manager sees only her area's cases in the report.
    let mut anna_analytics = kaiku_proto::analytics::v1::analytics_client::AnalyticsClient::new(
        stack.channel_as("analytics", &anna_token).await?,
    );
    let rows = anna_analytics
        .get_handling_report(GetHandlingReportRequest {
            min_sequence: last,
            ..GetHandlingReportRequest::default()
        })
        .await?
        .into_inner()
        .rows;
    assert!(rows.iter().all(|r| r.unit_id != "school-b1"), "{rows:#?}");
    assert_eq!(row(&rows, "", "")?.received, 2);
    let foreign = anna_analytics
        .get_handling_report(GetHandlingReportRequest {
            unit_id: "area-b".into(),
            ..GetHandlingReportRequest::default()
        })
        .await;
    assert_eq!(code(foreign), Code::PermissionDenied);
    Ok(())
}

/// The cases the manager of area A sees.
async fn listed_cases(anna: &mut Handling) -> TestResult<Vec<Case>> {
    Ok(anna
        .list_cases(ListCasesRequest::default())
        .await?
        .into_inner()
        .cases)
}

fn bad_reply_fields(status: &tonic::Status) -> Vec<String> {
    bad_request_fields(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cases_are_refused_field_by_field_and_nothing_is_stored() -> TestResult {
    let mail = MailSink::start().await?;
    let Handlers {
        stack,
        mut adapter,
        mut anna,
        mut qr_adapter,
        ..
    } = start(&[], &mail).await?;
    let admin = admin_store(&stack).await?;
    let before = admin.last_sequence(HANDLING_STREAM).await?;
    let refusals: Vec<(OpenCaseRequest, Vec<&str>)> = vec![
        (
            OpenCaseRequest {
                unit_id: "no such unit".into(),
                channel: "pigeon".into(),
                ..contact_request("school-a1", "x", ContactDetails::default())
            },
            vec!["unit_id", "channel", "contact"],
        ),
        (
            OpenCaseRequest {
                contact_requested: false,
                origin: CaseOrigin::FreeForm as i32,
                ..contact_request(
                    "school-a1",
                    "kiitos",
                    ContactDetails {
                        email: "a@example.fi".into(),
                        ..ContactDetails::default()
                    },
                )
            },
            vec!["contact"],
        ),
        (
            OpenCaseRequest {
                kind: 0,
                language: "de".into(),
                ..contact_request(
                    "school-a1",
                    "",
                    ContactDetails {
                        email: "not an address".into(),
                        ..ContactDetails::default()
                    },
                )
            },
            vec!["kind", "language", "contact.email"],
        ),
        (
            contact_request(
                "closed-or-missing",
                "x",
                ContactDetails {
                    email: "a@example.fi".into(),
                    ..ContactDetails::default()
                },
            ),
            vec!["unit_id"],
        ),
    ];
    for (request, expected) in refusals {
        let status = adapter
            .open_case(request.clone())
            .await
            .err()
            .ok_or_else(|| format!("accepted: {request:?}"))?;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(bad_reply_fields(&status), expected, "{request:?}");
    }
    // A case id that is not a UUID, on every command.
    let status = anna
        .get_case(GetCaseRequest {
            case_id: "42".into(),
        })
        .await
        .err()
        .ok_or("a bad case id was accepted")?;
    assert_eq!(bad_reply_fields(&status), ["case_id"]);
    let missing = anna
        .get_case(GetCaseRequest {
            case_id: uuid::Uuid::new_v4().to_string(),
        })
        .await;
    assert_eq!(code(missing), Code::NotFound);
    // A QR-only adapter may not open a case as coming from a kiosk.
    let kiosk = OpenCaseRequest {
        channel: "kiosk".into(),
        ..contact_request(
            "school-a1",
            "x",
            ContactDetails {
                email: "a@example.fi".into(),
                ..ContactDetails::default()
            },
        )
    };
    assert_eq!(
        code(qr_adapter.open_case(kiosk).await),
        Code::PermissionDenied
    );
    // A command with a case id that is not a UUID names the field.
    let note = anna
        .add_note(AddNoteRequest {
            case_id: "not-a-case".into(),
            text: "x".into(),
            expected_revision: 0,
        })
        .await
        .err()
        .ok_or("a bad case id was accepted")?;
    assert_eq!(bad_reply_fields(&note), ["case_id"]);
    // Listing another area's unit is refused.
    let foreign = anna
        .list_cases(ListCasesRequest {
            unit_id: "area-b".into(),
            ..ListCasesRequest::default()
        })
        .await;
    assert_eq!(code(foreign), Code::PermissionDenied);
    // A report with a malformed or reversed range names the fields.
    let mut analytics = stack.analytics().await?;
    for (from, to, fields) in [
        ("2026-13-01", "", vec!["received_from"]),
        ("2026-05-02", "2026-05-01", vec!["received_to"]),
    ] {
        let status = analytics
            .get_handling_report(GetHandlingReportRequest {
                received_from: from.into(),
                received_to: to.into(),
                ..GetHandlingReportRequest::default()
            })
            .await
            .err()
            .ok_or("a bad range was accepted")?;
        assert_eq!(bad_reply_fields(&status), fields);
    }
    assert_eq!(admin.last_sequence(HANDLING_STREAM).await?, before);

    // Moving a case: not to a unit that does not exist, nor to another county.
    let mut surveys = stack.surveys().await?;
    for request in [
        unit("county-2", "", UnitLevel::County, "Toinen maakunta"),
        unit("clinic-2", "county-2", UnitLevel::Unit, "Klinikka"),
    ] {
        surveys.create_unit(request).await?;
    }
    let case = case_of(
        anna.open_case(OpenCaseRequest {
            origin: CaseOrigin::Phone as i32,
            channel: "phone".into(),
            ..contact_request(
                "school-a1",
                "x",
                ContactDetails {
                    phone: "040 111 2222".into(),
                    ..ContactDetails::default()
                },
            )
        })
        .await?,
    )?;
    let after_open = admin.last_sequence(HANDLING_STREAM).await?;
    for unit_id in ["nowhere", "clinic-2"] {
        let status = anna
            .assign_case(AssignCaseRequest {
                case_id: case.case_id.clone(),
                assignee: String::new(),
                unit_id: unit_id.into(),
                expected_revision: case.revision,
            })
            .await
            .err()
            .ok_or_else(|| format!("moved to {unit_id}"))?;
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{unit_id}: {status:?}"
        );
        assert_eq!(bad_reply_fields(&status), ["unit_id"]);
    }
    assert_eq!(admin.last_sequence(HANDLING_STREAM).await?, after_open);
    Ok(())
}

async fn admin_store(stack: &Stack) -> TestResult<EventStore> {
    let login = kaiku_eventstore::NatsLogin {
        user: "admin".into(),
        password: stack.nats.password("admin").unwrap_or_default().to_owned(),
    };
    Ok(EventStore::connect_as(&stack.nats.address(), "test", Some(&login)).await?)
}

/// On the working day before the promised day the sweeper reminds whoever has the case (here
/// the unit's addresses, as nobody is assigned), once, with a notice that names the case and
/// the day but not the feedback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_due_on_the_next_working_day_is_reminded_once() -> TestResult {
    let mail = MailSink::start().await?;
    // One working day: a case received today is due on the next working day, so today (or, on a
    // weekend or holiday, the working day before it, already past) is the reminder day.
    let Handlers {
        stack: _stack,
        mut anna,
        ..
    } = start(&[("KAIKU_HANDLING_PROMISE", "1wd".to_owned())], &mail).await?;
    let message = "Kysyi iltavastaanotosta";
    let day_before_opening = helsinki_date(chrono::Utc::now());
    let opened = case_of(
        anna.open_case(OpenCaseRequest {
            unit_id: "school-a1".into(),
            kind: FeedbackKind::Question as i32,
            origin: CaseOrigin::Phone as i32,
            channel: "phone".into(),
            language: "fi".into(),
            message: message.into(),
            received_at: Some(to_timestamp(chrono::Utc::now())),
            ..OpenCaseRequest::default()
        })
        .await?,
    )?;
    // Both ends of the call, so that a run across midnight in Helsinki does not fail.
    let day_after_opening = helsinki_date(chrono::Utc::now());
    assert!(
        [day_before_opening, day_after_opening]
            .iter()
            .any(|day| opened.reply_due_on == deadline(*day, 1).to_string()),
        "due {} for a case received on {day_before_opening}",
        opened.reply_due_on
    );
    let reminded = wait_for_case(&mut anna, &opened.case_id, "reminded", |c| {
        c.history.iter().any(|h| h.what == "reminded")
    })
    .await?;
    let notice = mail
        .wait_for(
            "rehtori.a1@example.fi",
            "Reply due: unit school-a1",
            Duration::from_secs(10),
        )
        .await?;
    assert!(
        notice.text.contains(&opened.case_id) && notice.text.contains(&opened.reply_due_on),
        "{}",
        notice.text
    );
    assert!(!notice.text.contains(message), "the feedback in a notice");
    assert!(!reminded.overdue && !reminded.escalated);
    // Later sweeps (every 300 ms) do not remind again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = read_case(&mut anna, &opened.case_id).await?;
    let reminders: Vec<_> = later
        .history
        .iter()
        .filter(|h| h.what == "reminded")
        .collect();
    assert_eq!(reminders.len(), 1, "{:?}", later.history);
    assert_eq!(reminders[0].recorded_by, "kaiku-handling");
    let notices = mail
        .received()
        .into_iter()
        .filter(|m| m.text.contains("Reply due: unit"))
        .count();
    assert_eq!(notices, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_details_stay_out_of_responses_and_statistics_and_are_erased_after_retention()
-> TestResult {
    let mail = MailSink::start().await?;
    let Handlers {
        stack,
        mut adapter,
        mut anna,
        ..
    } = start(&[("KAIKU_HANDLING_RETENTION", "1s".to_owned())], &mail).await?;
    // An answer beside the contact request, as the web form sends both.
    let survey_id = stack.publish_nps_survey(&["clinic-x"]).await?;
    stack
        .submit_batch(vec![nps_answer(
            &survey_id,
            "clinic-x",
            kaiku_proto::survey::v1::RespondentRole::Client,
            9,
        )])
        .await?;
    let email = "maija.meikalainen.7731@example.fi";
    let phone = "+358 40 7731 123";
    let message = "Soittakaa minulle numeroon 7731";
    let opened = case_of(
        adapter
            .open_case(contact_request(
                "school-a1",
                message,
                ContactDetails {
                    name: "Maija Meikäläinen".into(),
                    email: email.into(),
                    phone: phone.into(),
                },
            ))
            .await?,
    )?;
    let case_id = opened.case_id.clone();
    let admin = admin_store(&stack).await?;
    // The sealed content as stored: ciphertext only.
    let events = admin
        .read_all(HANDLING_STREAM, &case_subject(&case_id))
        .await?;
    let mut ciphertext = Vec::new();
    for stored in &events {
        let text = String::from_utf8_lossy(&stored.payload);
        for secret in [email, phone, message, "Meikäläinen"] {
            assert!(
                !text.contains(secret),
                "{secret:?} in plain text on KAIKU_HANDLING"
            );
        }
        if let Some(Kind::ContentSealed(sealed)) = CaseEvent::decode(stored.payload.as_ref())?.kind
        {
            ciphertext = sealed.sealed.unwrap_or_default().ciphertext;
        }
    }
    assert!(ciphertext.len() > 16, "the case has sealed content");
    // Nothing of it in the response stream.
    for stored in admin.read_all(RESPONSES_STREAM, "kaiku.response.*").await? {
        let text = String::from_utf8_lossy(&stored.payload);
        for secret in [email, phone, message, "7731"] {
            assert!(!text.contains(secret), "{secret:?} on KAIKU_RESPONSES");
        }
    }
    // The statistics hold the case (the report counts it) but none of its content.
    let mut analytics = stack.analytics().await?;
    let report = analytics
        .get_handling_report(GetHandlingReportRequest {
            min_sequence: opened.revision,
            ..GetHandlingReportRequest::default()
        })
        .await?
        .into_inner();
    assert_eq!(row(&report.rows, "", "")?.received, 1);
    let database = database_text(&stack.database_url).await?;
    for secret in [email, phone, message, "Meikäläinen", "7731"] {
        assert!(!database.contains(secret), "{secret:?} in the read models");
    }

    // The handlers' texts are about the person too: sealed with the case's own key, opened for
    // the handler, absent from lists.
    let note = "Maija Meikäläinen kertoi yövuorosta";
    let reply = "Soitettu Maijalle, pahoiteltu";
    case_of(
        anna.add_note(AddNoteRequest {
            case_id: case_id.clone(),
            text: note.into(),
            expected_revision: 0,
        })
        .await?,
    )?;
    let replied = case_of(
        anna.record_reply(RecordReplyRequest {
            case_id: case_id.clone(),
            text: reply.into(),
            method: "phone".into(),
            expected_revision: 0,
        })
        .await?,
    )?;
    let texts = |case: &Case| -> Vec<String> {
        case.history
            .iter()
            .filter(|h| !h.text.is_empty())
            .map(|h| h.text.clone())
            .collect()
    };
    assert_eq!(texts(&replied), [note, reply]);
    let got = read_case(&mut anna, &case_id).await?;
    assert_eq!(texts(&got), [note, reply]);
    let content = got.content.clone().unwrap_or_default();
    assert_eq!(content.message, message);
    assert!(
        content.text_key.is_empty(),
        "the text key is never answered"
    );
    let listed = anna
        .list_cases(ListCasesRequest::default())
        .await?
        .into_inner()
        .cases;
    let listed = listed
        .iter()
        .find(|c| c.case_id == case_id)
        .ok_or("the case is listed")?;
    assert!(
        texts(listed).is_empty(),
        "texts in a list: {:?}",
        texts(listed)
    );
    let mut sealed_texts = Vec::new();
    for stored in admin
        .read_all(HANDLING_STREAM, &case_subject(&case_id))
        .await?
    {
        let text = String::from_utf8_lossy(&stored.payload);
        for secret in [note, reply, "Maija", "yövuoro"] {
            assert!(
                !text.contains(secret),
                "{secret:?} in plain text on KAIKU_HANDLING"
            );
        }
        match CaseEvent::decode(stored.payload.as_ref())?.kind {
            Some(Kind::NoteAdded(n)) => sealed_texts.push(n.sealed_text.is_some()),
            Some(Kind::Replied(r)) => sealed_texts.push(r.sealed_text.is_some()),
            _ => {}
        }
    }
    assert_eq!(
        sealed_texts,
        [true, true],
        "the note and the reply are sealed"
    );

    // Replied and closed: a second later the content is erased from the stream and its file.
    let mut store_bytes = Vec::new();
    files_bytes(stack.nats.store_dir(), &mut store_bytes)?;
    assert!(
        store_bytes
            .windows(ciphertext.len())
            .any(|w| w == ciphertext.as_slice()),
        "the sealed content is in the NATS store before erasure"
    );
    case_of(close_case(&mut anna, &case_id, replied.revision).await?)?;
    let erased = wait_for_case(&mut anna, &case_id, "erased", |c| c.content_erased).await?;
    assert!(erased.content.is_none(), "no content after erasure");
    // The texts went with the key; what was done, by whom and when stays.
    assert!(
        texts(&erased).is_empty(),
        "texts after erasure: {:?}",
        texts(&erased)
    );
    assert_eq!(
        erased
            .history
            .iter()
            .filter(|h| ["note", "replied", "closed"].contains(&h.what.as_str()))
            .count(),
        3
    );
    assert_eq!(
        erased.history.last().map(|h| h.what.as_str()),
        Some("erased")
    );
    for stored in admin
        .read_all(HANDLING_STREAM, &case_subject(&case_id))
        .await?
    {
        let event = CaseEvent::decode(stored.payload.as_ref())?;
        assert!(
            !matches!(event.kind, Some(Kind::ContentSealed(_))),
            "the sealed content is still on the stream"
        );
    }
    let mut store_bytes = Vec::new();
    files_bytes(stack.nats.store_dir(), &mut store_bytes)?;
    assert!(
        !store_bytes
            .windows(ciphertext.len())
            .any(|w| w == ciphertext.as_slice()),
        "the sealed content is still in the NATS store files"
    );
    // The read model records the erasure; the case still counts in the report.
    analytics
        .get_handling_report(GetHandlingReportRequest {
            min_sequence: erased.revision,
            ..GetHandlingReportRequest::default()
        })
        .await?;
    let pool = stack.database().await?;
    let (erased_in_model,): (bool,) =
        sqlx::query_as("select content_erased from handling_case where case_id = $1::uuid")
            .bind(&case_id)
            .fetch_one(&pool)
            .await?;
    assert!(erased_in_model);
    Ok(())
}

/// The opening is two appends (the content alone is erased later), and the sweeper's erasure is
/// a delete and then an append. Each second step can fail after the first: here the first steps
/// are written as the service writes them and the second left undone. A case without its
/// message refuses a quick close, takes the respondent's retry (the unit hears of it then), and
/// once its message is lost for good may be closed without the reply; an erased content whose
/// erasure was not recorded is recorded by the next sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_done_opening_or_erasure_is_finished_later() -> TestResult {
    let mail = MailSink::start().await?;
    let Handlers {
        stack,
        mut adapter,
        mut anna,
        ..
    } = start(&[("KAIKU_HANDLING_RETENTION", "2s".to_owned())], &mail).await?;
    let admin = admin_store(&stack).await?;
    let promise = kaiku_domain::handling::Promise::WorkingDays(5);
    // Only the opening of `request`, received at `received`, as the service appends it.
    let open_without_content =
        |request: OpenCaseRequest, received: chrono::DateTime<chrono::Utc>| {
            let admin = &admin;
            async move {
                let (case_id, opened, _) =
                    kaiku_domain::handling::decide_open(&request, promise, received)?;
                let event = kaiku_domain::handling::case_envelope(
                    &case_id,
                    "web-form",
                    Kind::Opened(opened),
                    received,
                );
                admin
                    .append(kaiku_eventstore::NewEvent {
                        subject: case_subject(&case_id),
                        message_id: event.event_id.clone(),
                        event_type: "CaseOpened",
                        payload: event.encode_to_vec().into(),
                        expected_last_subject_sequence: Some(0),
                    })
                    .await?;
                TestResult::Ok(case_id)
            }
        };

    // A contact request whose message did not get saved.
    let message = "Soittakaa minulle kuljetuksesta";
    let contact = ContactDetails {
        email: "liisa@example.fi".into(),
        ..ContactDetails::default()
    };
    let mut request = contact_request("school-a1", message, contact);
    request.case_id = uuid::Uuid::new_v4().to_string();
    let case_id = open_without_content(request.clone(), chrono::Utc::now()).await?;
    let missing = read_case(&mut anna, &case_id).await?;
    assert!(missing.content.is_none() && !missing.content_erased);
    let refused = close_case(&mut anna, &case_id, missing.revision)
        .await
        .expect_err("closed before the message could arrive");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&refused), "CONTENT_NOT_ARRIVED");
    assert!(
        refused.message().contains("have not arrived yet"),
        "{}",
        refused.message()
    );
    let refused = anna
        .add_note(AddNoteRequest {
            case_id: case_id.clone(),
            text: "Odottaa viestiä".into(),
            expected_revision: missing.revision,
        })
        .await
        .expect_err("a note stored before the case's text key");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&refused), "CONTENT_NOT_SAVED");
    assert!(mail.received().is_empty(), "a notice before the message");
    // The respondent sends again (the same case id): the message is saved, the unit told.
    adapter.open_case(request).await?;
    let arrived = read_case(&mut anna, &case_id).await?;
    assert_eq!(
        arrived.content.as_ref().map(|c| c.message.as_str()),
        Some(message)
    );
    mail.wait_for("rehtori.a1@example.fi", &case_id, Duration::from_secs(10))
        .await?;

    // A phone call entered an hour after it came, whose message never got saved: once the
    // grace has passed it may be closed without the reply nobody can give.
    let phone = OpenCaseRequest {
        case_id: uuid::Uuid::new_v4().to_string(),
        unit_id: "school-a1".into(),
        kind: FeedbackKind::Question as i32,
        origin: CaseOrigin::Phone as i32,
        channel: "phone".into(),
        language: "fi".into(),
        message: "Kysyi kuljetuksesta".into(),
        contact_requested: true,
        contact: Some(ContactDetails {
            phone: "040 765 4321".into(),
            ..ContactDetails::default()
        }),
        received_at: Some(to_timestamp(
            chrono::Utc::now() - chrono::Duration::minutes(61),
        )),
    };
    let lost_id = open_without_content(phone, chrono::Utc::now()).await?;
    let lost = read_case(&mut anna, &lost_id).await?;
    let closed = case_of(close_case(&mut anna, &lost_id, lost.revision).await?)?;
    assert_eq!(closed.state(), CaseState::Closed);
    assert!(closed.replied_at.is_none());

    // The first case replied and closed; its content erased out of turn, as a sweep that
    // stopped after the delete leaves it. The next sweep records the erasure.
    let replied = case_of(
        anna.record_reply(RecordReplyRequest {
            case_id: case_id.clone(),
            text: "Soitin".into(),
            method: "phone".into(),
            expected_revision: arrived.revision,
        })
        .await?,
    )?;
    case_of(close_case(&mut anna, &case_id, replied.revision).await?)?;
    let mut content_sequence = None;
    for stored in admin
        .read_all(HANDLING_STREAM, &case_subject(&case_id))
        .await?
    {
        if let Some(Kind::ContentSealed(_)) = CaseEvent::decode(stored.payload.as_ref())?.kind {
            content_sequence = Some(stored.stream_sequence);
        }
    }
    let content_sequence = content_sequence.ok_or("no sealed content on the stream")?;
    admin.erase(HANDLING_STREAM, content_sequence).await?;
    // Erasing what is gone says so (two replicas erasing at once): not found, not a failure.
    assert!(matches!(
        admin.erase(HANDLING_STREAM, content_sequence).await,
        Err(kaiku_eventstore::EventStoreError::NotFound { .. })
    ));
    let erased = wait_for_case(&mut anna, &case_id, "recorded as erased", |c| {
        c.content_erased
    })
    .await?;
    let erasures: Vec<_> = erased
        .history
        .iter()
        .filter(|h| h.what == "erased")
        .map(|h| h.recorded_by.as_str())
        .collect();
    assert_eq!(erasures, ["kaiku-handling"], "{:?}", erased.history);
    Ok(())
}
