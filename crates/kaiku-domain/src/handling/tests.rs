use super::*;
use chrono::TimeZone;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn request() -> OpenCaseRequest {
    OpenCaseRequest {
        case_id: String::new(),
        unit_id: "school-a1".into(),
        kind: FeedbackKind::Complaint as i32,
        origin: CaseOrigin::ContactRequest as i32,
        channel: "qr".into(),
        language: "fi".into(),
        message: "  Odotin kauan.  ".into(),
        contact_requested: true,
        contact: Some(ContactDetails {
            name: "Maija".into(),
            email: "maija@example.fi".into(),
            phone: String::new(),
        }),
        received_at: None,
    }
}

fn opened_case(now: DateTime<Utc>) -> CaseFile {
    let (case_id, opened, _) =
        decide_open(&request(), Promise::WorkingDays(5), now).expect("valid request");
    let event = case_envelope(&case_id, "web-form", Kind::Opened(opened), now);
    evolve(None, &event, 1).expect("opens")
}

fn apply(case: CaseFile, kinds: Vec<Kind>, by: &str, now: DateTime<Utc>) -> CaseFile {
    kinds.into_iter().fold(case, |case, kind| {
        let sequence = case.revision + 1;
        let event = case_envelope(&case.case_id.clone(), by, kind, now);
        evolve(Some(case), &event, sequence).expect("folds")
    })
}

fn fields(error: CaseError) -> Vec<String> {
    match error {
        CaseError::Invalid(v) => v.fields().into_iter().map(str::to_owned).collect(),
        other => vec![format!("not invalid: {other}")],
    }
}

#[test]
fn a_promise_reads_back_from_what_it_says() {
    for promise in [
        Promise::WorkingDays(5),
        Promise::Days(14),
        Promise::WorkingDays(1),
    ] {
        assert_eq!(Promise::from_display(&promise.to_string()), Some(promise));
    }
    for text in ["", "5", "five working days", "5 weeks", "5wd"] {
        assert_eq!(Promise::from_display(text), None, "{text:?}");
    }
}

#[test]
fn promises_parse_and_say_what_they_are() {
    assert_eq!(Promise::parse("5wd"), Ok(Promise::WorkingDays(5)));
    assert_eq!(Promise::parse("14d"), Ok(Promise::Days(14)));
    assert_eq!(Promise::WorkingDays(5).to_string(), "5 working days");
    for bad in ["", "5", "0wd", "61d", "xwd", "5 weeks"] {
        assert!(Promise::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn the_deadline_skips_easter_and_calendar_days_move_off_holidays() {
    // Wednesday 1 April 2026: Good Friday (3rd) and Easter Monday (6th) do not count.
    assert_eq!(
        Promise::WorkingDays(5).due_on(day(2026, 4, 1)),
        day(2026, 4, 10)
    );
    // 14 days from 20 December 2026 is Sunday 3 January: moves to Monday 4 January.
    assert_eq!(Promise::Days(14).due_on(day(2026, 12, 20)), day(2027, 1, 4));
    // ... and 14 days from 23 December is 6 January, Epiphany: Thursday 7 January.
    assert_eq!(Promise::Days(14).due_on(day(2026, 12, 23)), day(2027, 1, 7));
}

#[test]
fn an_open_request_becomes_an_opening_and_sealed_content() {
    let now = at(2026, 4, 1, 9);
    let (case_id, opened, content) =
        decide_open(&request(), Promise::WorkingDays(5), now).expect("valid");
    assert!(Uuid::parse_str(&case_id).is_ok());
    assert_eq!(opened.reply_due_on, "2026-04-10");
    assert_eq!(opened.promise, "5 working days");
    assert_eq!(content.message, "Odotin kauan.");
    assert_eq!(
        content.contact.map(|c| c.email),
        Some("maija@example.fi".to_owned())
    );
}

#[test]
fn every_bad_field_of_an_opening_is_named() {
    let now = at(2026, 4, 1, 9);
    let bad = OpenCaseRequest {
        case_id: "nope".into(),
        unit_id: "bad unit".into(),
        kind: 0,
        origin: 9,
        channel: "pigeon".into(),
        language: "de".into(),
        message: "x".repeat(MAX_MESSAGE_CHARS + 1),
        contact_requested: true,
        contact: Some(ContactDetails {
            name: String::new(),
            email: "not-an-address".into(),
            phone: "12ab".into(),
        }),
        received_at: Some(to_timestamp(now)),
    };
    let error = decide_open(&bad, Promise::WorkingDays(5), now).expect_err("invalid");
    assert_eq!(
        fields(error),
        [
            "case_id",
            "unit_id",
            "kind",
            "origin",
            "channel",
            "language",
            "message",
            "contact.email",
            "contact.phone",
            "received_at"
        ]
    );
}

#[test]
fn contact_details_are_refused_without_a_request_and_required_with_one() {
    let now = at(2026, 4, 1, 9);
    let mut without = request();
    without.origin = CaseOrigin::FreeForm as i32;
    without.contact_requested = false;
    assert_eq!(
        fields(decide_open(&without, Promise::WorkingDays(5), now).expect_err("contact kept")),
        ["contact"]
    );
    let mut empty = request();
    empty.contact = Some(ContactDetails::default());
    assert_eq!(
        fields(decide_open(&empty, Promise::WorkingDays(5), now).expect_err("no way to reply")),
        ["contact"]
    );
    let mut not_asked = request();
    not_asked.contact_requested = false;
    not_asked.contact = None;
    assert_eq!(
        fields(decide_open(&not_asked, Promise::WorkingDays(5), now).expect_err("no request")),
        ["contact_requested"]
    );
}

#[test]
fn a_phone_case_may_be_backdated_but_not_into_the_future_or_over_a_year() {
    let now = at(2026, 11, 26, 12);
    let mut phone = request();
    phone.origin = CaseOrigin::Phone as i32;
    phone.channel = "phone".into();
    phone.received_at = Some(to_timestamp(at(2026, 4, 1, 9)));
    let (_, opened, _) = decide_open(&phone, Promise::WorkingDays(5), now).expect("backdated");
    assert_eq!(opened.reply_due_on, "2026-04-10");
    phone.received_at = Some(to_timestamp(now + Duration::hours(2)));
    assert_eq!(
        fields(decide_open(&phone, Promise::WorkingDays(5), now).expect_err("future")),
        ["received_at"]
    );
    phone.received_at = Some(to_timestamp(now - Duration::days(400)));
    assert_eq!(
        fields(decide_open(&phone, Promise::WorkingDays(5), now).expect_err("too old")),
        ["received_at"]
    );
}

#[test]
fn a_case_walks_from_received_to_closed() {
    let now = at(2026, 4, 1, 9);
    let today = day(2026, 4, 1);
    let retention = Duration::days(30);
    let case = opened_case(now);
    assert_eq!(case.state, CaseState::Received);
    let step = |case: CaseFile, command: CaseCommand| {
        let kinds = decide(&case, command, today, now, retention).expect("allowed");
        apply(case, kinds, "anna", now)
    };
    let case = step(
        case,
        CaseCommand::Assign {
            assignee: "anna".into(),
            unit_id: String::new(),
        },
    );
    assert_eq!(
        (case.state, case.assignee.as_str()),
        (CaseState::Assigned, "anna")
    );
    // Reassigned to another unit without a handler: back to received there.
    let case = step(
        case,
        CaseCommand::Assign {
            assignee: String::new(),
            unit_id: "school-a2".into(),
        },
    );
    assert_eq!(
        (case.state, case.unit_id.as_str()),
        (CaseState::Received, "school-a2")
    );
    let case = step(case, CaseCommand::Start);
    assert_eq!(
        (case.state, case.assignee.as_str()),
        (CaseState::InProgress, "anna")
    );
    // The promise says to reply before closing.
    let refused = decide(
        &case,
        CaseCommand::Close {
            resolution: String::new(),
        },
        today,
        now,
        retention,
    );
    assert!(
        matches!(refused, Err(CaseError::NotNow { .. })),
        "{refused:?}"
    );
    let case = step(
        case,
        CaseCommand::Reply {
            text: "Soitin ja pahoittelin.".into(),
            method: "phone".into(),
        },
    );
    assert_eq!(case.state, CaseState::Replied);
    assert_eq!(case.handled_at(), Some(now));
    let case = step(
        case,
        CaseCommand::RecordAction {
            text: "Ajanvaraus lisää aikoja.".into(),
        },
    );
    let case = step(
        case,
        CaseCommand::Close {
            resolution: "Hoidettu".into(),
        },
    );
    assert!(case.is_closed());
    let whats: Vec<&str> = case.history.iter().map(|h| h.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "opened", "assigned", "assigned", "started", "replied", "action", "closed"
        ]
    );
    let refused = decide(&case, CaseCommand::Start, today, now, retention);
    assert!(
        matches!(refused, Err(CaseError::Closed { .. })),
        "{refused:?}"
    );
}

#[test]
fn handler_texts_are_checked() {
    let now = at(2026, 4, 1, 9);
    let case = opened_case(now);
    let retention = Duration::days(30);
    let today = day(2026, 4, 1);
    let reply = CaseCommand::Reply {
        text: " ".into(),
        method: "pigeon".into(),
    };
    assert_eq!(
        fields(decide(&case, reply, today, now, retention).expect_err("bad reply")),
        ["text", "method"]
    );
    let note = CaseCommand::AddNote {
        text: "x".repeat(MAX_HANDLER_TEXT_CHARS + 1),
    };
    assert_eq!(
        fields(decide(&case, note, today, now, retention).expect_err("long note")),
        ["text"]
    );
    let nobody = CaseCommand::Assign {
        assignee: String::new(),
        unit_id: String::new(),
    };
    assert_eq!(
        fields(decide(&case, nobody, today, now, retention).expect_err("nobody")),
        ["assignee"]
    );
}

#[test]
fn the_sweeper_reminds_escalates_once_and_erases_after_retention() {
    let opened_at = at(2026, 4, 1, 9);
    let retention = Duration::days(30);
    let case = opened_case(opened_at);
    assert_eq!(case.reply_due_on, day(2026, 4, 10));
    // Nothing before the day before the promised day (Thursday 9 April).
    assert!(due_commands(&case, day(2026, 4, 8), opened_at, retention, Some("area-a")).is_empty());
    assert_eq!(
        due_commands(&case, day(2026, 4, 9), opened_at, retention, Some("area-a")),
        [CaseCommand::Remind]
    );
    let case = apply(
        case,
        vec![Kind::Reminded(CaseReminded {
            reply_due_on: "2026-04-10".into(),
        })],
        SYSTEM_ACTOR,
        opened_at,
    );
    assert!(
        due_commands(
            &case,
            day(2026, 4, 10),
            opened_at,
            retention,
            Some("area-a")
        )
        .is_empty()
    );
    // Saturday 11 April: late, raised to the area.
    let late = due_commands(
        &case,
        day(2026, 4, 11),
        opened_at,
        retention,
        Some("area-a"),
    );
    assert_eq!(
        late,
        [CaseCommand::Escalate {
            to_unit_id: "area-a".into()
        }]
    );
    let kinds = decide(
        &case,
        late[0].clone(),
        day(2026, 4, 11),
        opened_at,
        retention,
    )
    .expect("escalates");
    let case = apply(case, kinds, SYSTEM_ACTOR, opened_at);
    assert!(case.is_overdue(day(2026, 4, 11)));
    assert!(
        due_commands(
            &case,
            day(2026, 4, 12),
            opened_at,
            retention,
            Some("area-a")
        )
        .is_empty()
    );
    // Sealed, replied, closed: the content goes once the retention has passed, not before.
    let case = apply(
        case,
        vec![Kind::ContentSealed(
            kaiku_proto::handling::v1::CaseContentSealed { sealed: None },
        )],
        "web-form",
        opened_at,
    );
    let sealed = case.revision;
    let closed_at = at(2026, 4, 14, 9);
    let case = apply(
        case,
        vec![
            Kind::Replied(CaseReplied {
                text: "Vastattu".into(),
                method: "email".into(),
                hours_since_received: 312.0,
                sealed_text: None,
            }),
            Kind::Closed(CaseClosed {
                resolution: "Ajanvaraus korjattu".into(),
                hours_since_received: 312.0,
                sealed_resolution: None,
            }),
        ],
        "anna",
        closed_at,
    );
    assert!(!case.is_overdue(day(2026, 4, 20)));
    assert!(
        due_commands(
            &case,
            day(2026, 5, 1),
            closed_at + Duration::days(29),
            retention,
            None
        )
        .is_empty()
    );
    let now = closed_at + Duration::days(30);
    let erase = due_commands(&case, day(2026, 5, 14), now, retention, None);
    assert_eq!(erase, [CaseCommand::EraseContent { sequence: sealed }]);
    let kinds = decide(&case, erase[0].clone(), day(2026, 5, 14), now, retention).expect("erases");
    let texts = |case: &CaseFile| -> Vec<String> {
        case.history
            .iter()
            .filter(|h| !h.text.is_empty())
            .map(|h| h.text.clone())
            .collect()
    };
    assert_eq!(texts(&case), ["Vastattu", "Ajanvaraus korjattu"]);
    let case = apply(case, kinds, SYSTEM_ACTOR, now);
    assert!(case.content_erased && case.sealed_at.is_none());
    // The handlers' texts go with the content; the history of what happened stays.
    assert!(texts(&case).is_empty(), "{:?}", texts(&case));
    assert_eq!(
        case.history
            .iter()
            .map(|h| h.what.as_str())
            .collect::<Vec<_>>(),
        [
            "opened",
            "reminded",
            "escalated",
            "replied",
            "closed",
            "erased"
        ]
    );
    assert!(due_commands(&case, day(2026, 5, 15), now, retention, None).is_empty());
}

#[test]
fn a_case_must_open_before_anything_else_happens_to_it() {
    let now = at(2026, 4, 1, 9);
    let event = case_envelope("c", "anna", Kind::Started(CaseStarted {}), now);
    assert!(evolve(None, &event, 1).is_err());
    let case = opened_case(now);
    let (_, opened, _) = decide_open(&request(), Promise::WorkingDays(5), now).expect("valid");
    let again = case_envelope(&case.case_id.clone(), "web-form", Kind::Opened(opened), now);
    assert!(evolve(Some(case), &again, 2).is_err());
}

#[test]
fn moving_a_replied_case_keeps_it_replied_and_a_started_one_starts_over() {
    let now = at(2026, 4, 1, 9);
    let today = day(2026, 4, 1);
    let retention = Duration::days(30);
    let step = |case: CaseFile, command: CaseCommand| {
        let kinds = decide(&case, command, today, now, retention).expect("allowed");
        apply(case, kinds, "anna", now)
    };
    let move_to = |unit: &str| CaseCommand::Assign {
        assignee: String::new(),
        unit_id: unit.into(),
    };
    let started = step(opened_case(now), CaseCommand::Start);
    assert_eq!(started.state, CaseState::InProgress);
    let moved = step(started, move_to("school-a2"));
    assert_eq!(moved.state, CaseState::Received);
    let replied = step(
        moved,
        CaseCommand::Reply {
            text: "Vastattu".into(),
            method: "email".into(),
        },
    );
    let moved_again = step(replied, move_to("school-a1"));
    assert_eq!(moved_again.state, CaseState::Replied);
}

#[test]
fn handling_hours_are_rounded_to_a_tenth_and_never_negative() {
    let from = at(2026, 4, 1, 9);
    assert_eq!(hours_between(from, from + Duration::minutes(94)), 1.6);
    assert_eq!(hours_between(from, from - Duration::hours(1)), 0.0);
    let case = opened_case(from);
    let kinds = decide(
        &case,
        CaseCommand::Reply {
            text: "ok".into(),
            method: "phone".into(),
        },
        day(2026, 4, 3),
        from + Duration::hours(50),
        Duration::days(30),
    )
    .expect("replies");
    assert!(matches!(&kinds[..], [Kind::Replied(r)] if r.hours_since_received == 50.0));
}

#[test]
fn a_case_whose_message_never_arrived_may_be_closed_without_a_reply_after_the_grace() {
    let received = at(2026, 4, 1, 9);
    let today = day(2026, 4, 1);
    let retention = Duration::days(30);
    let close = CaseCommand::Close {
        resolution: String::new(),
    };
    // The opening alone: its content's append failed.
    let case = opened_case(received);
    assert!(case.content_missing());
    let soon = received + Duration::minutes(CONTENT_GRACE_MINUTES - 1);
    match decide(&case, close.clone(), today, soon, retention) {
        Err(CaseError::NotNow { why, .. }) => assert_eq!(why, NotNow::ContentNotArrived),
        other => panic!("closed within the grace: {other:?}"),
    }
    let later = received + Duration::minutes(CONTENT_GRACE_MINUTES);
    let kinds = decide(&case, close.clone(), today, later, retention).expect("closes");
    let closed = apply(case.clone(), kinds, "anna", later);
    assert!(closed.is_closed() && closed.replied_at.is_none());

    // With its content saved, the reply the respondent asked for is owed however late it is.
    let sealed = apply(
        case,
        vec![Kind::ContentSealed(
            kaiku_proto::handling::v1::CaseContentSealed::default(),
        )],
        "web-form",
        received,
    );
    assert!(!sealed.content_missing());
    let much_later = received + Duration::days(60);
    match decide(&sealed, close, today, much_later, retention) {
        Err(CaseError::NotNow { why, .. }) => assert_eq!(why, NotNow::ReplyRequired),
        other => panic!("closed without the reply: {other:?}"),
    }
}
