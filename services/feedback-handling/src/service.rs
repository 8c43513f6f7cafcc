//! The gRPC face of feedback handling: every command loads the case, checks the caller may
//! handle its unit, decides, appends, and answers with the case as it now is.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kaiku_auth::{Denied, Principal, Scope};
use kaiku_domain::handling::{
    CaseCommand, CaseError, CaseFile, NotNow, decide, decide_open, same_opening,
};
use kaiku_domain::redaction::redact;
use kaiku_domain::time::helsinki_date;
use kaiku_domain::unit::UnitTree;
use kaiku_proto::handling::v1::{
    AddNoteRequest, AssignCaseRequest, CaseContent, CaseContentSealed, CaseOrigin, CaseResponse,
    CloseCaseRequest, GetCaseRequest, ListCasesRequest, ListCasesResponse, OpenCaseRequest,
    RecordActionRequest, RecordReplyRequest, StartCaseRequest, case_event::Kind,
    feedback_handling_server::FeedbackHandling,
};
use tonic::{Request, Response, Status};

use crate::cases::LoadedCase;
use crate::sealing::handler_text;
use crate::{Handling, Occasion, ServiceError, load_units};

/// How long an answer waits for the case index to show the caller's own change.
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// How many times an opening tries to save the respondent's message (100, 200, 400 ms apart).
const CONTENT_SAVE_ATTEMPTS: u32 = 4;

pub struct FeedbackHandlingService {
    handling: Arc<Handling>,
}

/// The caller the auth layer put on the request.
fn caller<T>(request: &Request<T>) -> Result<&Principal, ServiceError> {
    kaiku_auth::principal(request).ok_or_else(|| {
        ServiceError::Startup("the auth layer let a call through without a caller".into())
    })
}

/// The unit exists, is open, and lies in the caller's grant.
fn check_unit(caller: &Principal, tree: &UnitTree, unit_id: &str) -> Result<(), ServiceError> {
    match tree.get(unit_id) {
        Some(unit) if !unit.closed => {
            caller.may_read_unit(unit_id, &tree.lineage(unit_id))?;
            Ok(())
        }
        _ => Err(ServiceError::UnknownUnit(unit_id.to_owned())),
    }
}

fn answer(case: &CaseFile) -> Response<CaseResponse> {
    Response::new(CaseResponse {
        case: Some(case.to_proto(helsinki_date(Utc::now()))),
    })
}

/// What a channel adapter learns of the case it opened: its id, state and due day, not who
/// handles it or what happened since.
fn receipt(case: &CaseFile) -> Response<CaseResponse> {
    let full = case.to_proto(helsinki_date(Utc::now()));
    Response::new(CaseResponse {
        case: Some(kaiku_proto::handling::v1::Case {
            case_id: full.case_id,
            unit_id: full.unit_id,
            kind: full.kind,
            origin: full.origin,
            channel: full.channel,
            language: full.language,
            state: full.state,
            received_at: full.received_at,
            reply_due_on: full.reply_due_on,
            promise: full.promise,
            contact_requested: full.contact_requested,
            revision: full.revision,
            ..kaiku_proto::handling::v1::Case::default()
        }),
    })
}

/// Every handling call is audited (kaiku-grpc's audit layer); this names its case in the record.
fn audit_case<T>(request: &Request<T>, case_id: &str) {
    kaiku_grpc::audit_object(request, format!("case:{case_id}"));
}

/// A case as lists show it: its history without the handlers' texts, which only GetCase opens
/// (the index keeps them sealed; cases from before texts were sealed would otherwise show them).
fn listed(mut case: kaiku_proto::handling::v1::Case) -> kaiku_proto::handling::v1::Case {
    for entry in &mut case.history {
        entry.text.clear();
    }
    case
}

/// The respondent's message as it is kept: identity codes, phone numbers and e-mail addresses
/// replaced as in survey answers. Contact details come in their own fields and are kept for the
/// reply; one written into the message is not needed for it, and without a contact request
/// none may be kept at all (ADR 0013). Names stay: the handler must know who wrote.
fn redacted_content(mut content: CaseContent) -> CaseContent {
    content.message = redact(&content.message).text;
    content
}

/// Replaces identity codes, phone numbers and e-mail addresses in the handlers' texts of events
/// about to be appended, before they are sealed: a note or a reply is about the respondent
/// (ADR 0014), and what the case needs to reach them is in its contact details.
fn redact_texts(kinds: &mut [Kind]) {
    for kind in kinds {
        if let Some((text, _)) = handler_text(kind)
            && !text.is_empty()
        {
            *text = redact(text).text;
        }
    }
}

/// Seals the handlers' texts of events about to be appended with the case's text key. A case
/// from before texts were sealed keeps writing them plain; one whose content was not saved yet
/// (the opening is being retried) takes no text until it is, rather than keep it unsealed.
fn seal_texts(loaded: &LoadedCase, kinds: &mut [Kind]) -> Result<(), ServiceError> {
    match &loaded.text_key {
        Some(key) => Ok(key.seal_texts(kinds)?),
        None if loaded.content.is_some() => Ok(()),
        None => {
            let has_text = kinds
                .iter_mut()
                .any(|kind| handler_text(kind).is_some_and(|(text, _)| !text.is_empty()));
            if has_text {
                return Err(CaseError::NotNow {
                    case_id: loaded.case.case_id.clone(),
                    why: NotNow::ContentNotSaved,
                }
                .into());
            }
            Ok(())
        }
    }
}

impl FeedbackHandlingService {
    pub fn new(handling: Arc<Handling>) -> Self {
        Self { handling }
    }

    async fn open(
        &self,
        request: Request<OpenCaseRequest>,
    ) -> Result<Response<CaseResponse>, ServiceError> {
        let caller = caller(&request)?.clone();
        let open = request.get_ref();
        if !open.case_id.is_empty() {
            audit_case(&request, &open.case_id);
        }
        let now = Utc::now();
        let tree = load_units(&self.handling.store).await?;
        let promise = self
            .handling
            .promises
            .for_unit(&tree, &open.unit_id, self.handling.promise);
        let (case_id, opened, content) = decide_open(open, promise, now)?;
        // Redacted before anything is compared or stored, so a retry compares like with like.
        let mut content = redacted_content(content);
        audit_case(&request, &case_id);
        if caller.has(Scope::Handle) {
            check_unit(&caller, &tree, &opened.unit_id)?;
        } else {
            // A channel adapter passes on what a respondent gave; a phone case is staff's.
            if open.origin == CaseOrigin::Phone as i32 {
                return Err(Denied::MissingScope(Scope::Handle).into());
            }
            if !caller.channels.is_empty() && !caller.channels.contains(&opened.channel) {
                return Err(Denied::Channel(opened.channel.clone()).into());
            }
            if tree.get(&opened.unit_id).is_none_or(|unit| unit.closed) {
                return Err(ServiceError::UnknownUnit(opened.unit_id.clone()));
            }
        }
        let (sequence, content_saved) = match self
            .handling
            .cases
            .load_opened(&case_id, &self.handling.keys)
            .await?
        {
            None => {
                content.text_key = self.handling.keys.new_text_key()?;
                let sealed = self.handling.keys.seal(&case_id, &content)?;
                let opened_at = self
                    .handling
                    .cases
                    .append(&case_id, 0, &caller.subject, vec![Kind::Opened(opened)])
                    .await?;
                let sequence = self
                    .save_content(&case_id, opened_at, &caller.subject, sealed)
                    .await?;
                (sequence, true)
            }
            Some(existing) => {
                self.retried(&caller, &tree, existing, &opened, content)
                    .await?
            }
        };
        self.handling.index.caught_up_to(sequence, INDEX_WAIT).await;
        let case = self.load(&case_id).await?.case;
        // The unit hears of a case once its message is there to read: on the first call, or
        // on the retry that saved the message the first call could not.
        if content_saved {
            self.handling.metrics.action("opened");
            self.handling
                .notifier
                .notify(&tree, &case, Occasion::Received);
        }
        Ok(if caller.has(Scope::Handle) {
            answer(&case)
        } else {
            receipt(&case)
        })
    }

    /// Appends the sealed content after the case's opening at `revision`. The two are separate
    /// events (the content alone is erased later), so a failure between them is retried here
    /// a few times before the caller is told: a case without its message cannot be answered.
    /// Each try expects the case's current revision; one that finds the content already saved
    /// (an earlier try whose acknowledgement was lost, or the caller's own retry) is done.
    async fn save_content(
        &self,
        case_id: &str,
        revision: u64,
        recorded_by: &str,
        sealed: kaiku_proto::handling::v1::SealedContent,
    ) -> Result<u64, ServiceError> {
        let mut revision = revision;
        let mut pause = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            let appended = self
                .handling
                .cases
                .append(
                    case_id,
                    revision,
                    recorded_by,
                    vec![Kind::ContentSealed(CaseContentSealed {
                        sealed: Some(sealed.clone()),
                    })],
                )
                .await;
            let error = match appended {
                Ok(sequence) => return Ok(sequence),
                Err(error) if attempt >= CONTENT_SAVE_ATTEMPTS => return Err(error),
                Err(error) => error,
            };
            tracing::warn!(%case_id, attempt, %error, "saving a case's content failed; trying again");
            tokio::time::sleep(pause).await;
            pause *= 2;
            if let Ok(Some(loaded)) = self.handling.cases.load(case_id).await {
                if loaded.case.sealed_at.is_some() {
                    return Ok(loaded.case.revision);
                }
                revision = loaded.case.revision;
            }
            attempt += 1;
        }
    }

    /// The same case id again. A retry of the same opening is answered as the first was, and
    /// writes the sealed content if the first attempt stopped before it (then says so, so the
    /// unit is told now); other content under the id is refused, and a handler who may not
    /// see the case's unit now is told nothing.
    async fn retried(
        &self,
        caller: &Principal,
        tree: &UnitTree,
        existing: crate::cases::LoadedCase,
        opened: &kaiku_proto::handling::v1::CaseOpened,
        mut content: kaiku_proto::handling::v1::CaseContent,
    ) -> Result<(u64, bool), ServiceError> {
        let case = existing.case;
        if caller.has(Scope::Handle) {
            caller.may_read_unit(&case.unit_id, &tree.lineage(&case.unit_id))?;
        }
        let same_content = match &existing.content {
            // The text key is the service's own, not part of what the caller sent.
            Some(stored) => stored.message == content.message && stored.contact == content.contact,
            // Erased, or never saved: nothing to compare with; the opening alone decides.
            None => true,
        };
        if !same_opening(&case.opened, opened) || !same_content {
            return Err(CaseError::AlreadyExists(case.case_id).into());
        }
        if case.content_missing() {
            content.text_key = self.handling.keys.new_text_key()?;
            let sealed = self.handling.keys.seal(&case.case_id, &content)?;
            let sequence = self
                .save_content(&case.case_id, case.revision, &caller.subject, sealed)
                .await?;
            return Ok((sequence, true));
        }
        Ok((case.revision, false))
    }

    async fn load(&self, case_id: &str) -> Result<crate::cases::LoadedCase, ServiceError> {
        if uuid::Uuid::parse_str(case_id).is_err() {
            return Err(CaseError::Invalid(kaiku_domain::Violations::single(
                "case_id",
                format!("must be a UUID, got {case_id:?}"),
            ))
            .into());
        }
        self.handling
            .cases
            .load_opened(case_id, &self.handling.keys)
            .await?
            .ok_or_else(|| CaseError::NotFound(case_id.to_owned()).into())
    }

    /// Load, check the caller may handle the case's unit, decide, append.
    async fn execute<T>(
        &self,
        request: &Request<T>,
        case_id: &str,
        expected_revision: u64,
        command: CaseCommand,
    ) -> Result<Response<CaseResponse>, ServiceError> {
        let caller = caller(request)?;
        let loaded = self.load(case_id).await?;
        let tree = load_units(&self.handling.store).await?;
        caller.may_read_unit(&loaded.case.unit_id, &tree.lineage(&loaded.case.unit_id))?;
        if let CaseCommand::Assign { unit_id, .. } = &command
            && !unit_id.is_empty()
        {
            // Routing to another unit: any open unit of the same organisation (the case may
            // concern a unit the handler does not see; the caller then no longer sees it), never
            // to another county, which is another controller of the person's data.
            if tree.get(unit_id).is_none_or(|unit| unit.closed) {
                return Err(ServiceError::UnknownUnit(unit_id.clone()));
            }
            let organisation = |unit: &str| tree.lineage(unit).last().map(|u| (*u).to_owned());
            if organisation(unit_id) != organisation(&loaded.case.unit_id) {
                return Err(CaseError::Invalid(kaiku_domain::Violations::single(
                    "unit_id",
                    format!("{unit_id:?} belongs to another organisation"),
                ))
                .into());
            }
        }
        let case = &loaded.case;
        if expected_revision != 0 && expected_revision != case.revision {
            return Err(CaseError::StaleRevision {
                case_id: case.case_id.clone(),
                expected: expected_revision,
                actual: case.revision,
            }
            .into());
        }
        let now = Utc::now();
        let mut kinds = decide(
            case,
            command,
            helsinki_date(now),
            now,
            self.handling.retention,
        )?;
        if kinds.is_empty() {
            return Ok(answer(case));
        }
        redact_texts(&mut kinds);
        seal_texts(&loaded, &mut kinds)?;
        let occasion = match kinds.first() {
            Some(Kind::Assigned(assigned)) if assigned.unit_id != case.unit_id => {
                Some(Occasion::Received)
            }
            Some(Kind::Assigned(assigned)) if !assigned.assignee.is_empty() => {
                Some(Occasion::Assigned)
            }
            _ => None,
        };
        let sequence = self
            .handling
            .cases
            .append(case_id, case.revision, &caller.subject, kinds)
            .await?;
        self.handling.index.caught_up_to(sequence, INDEX_WAIT).await;
        let case = self.load(case_id).await?.case;
        if let Some(occasion) = occasion {
            self.handling.notifier.notify(&tree, &case, occasion);
        }
        Ok(answer(&case))
    }

    async fn get(
        &self,
        request: Request<GetCaseRequest>,
    ) -> Result<Response<CaseResponse>, ServiceError> {
        let caller = caller(&request)?;
        let loaded = self.load(&request.get_ref().case_id).await?;
        let tree = load_units(&self.handling.store).await?;
        caller.may_read_unit(&loaded.case.unit_id, &tree.lineage(&loaded.case.unit_id))?;
        let mut case = loaded.case.to_proto(helsinki_date(Utc::now()));
        case.content = loaded.content.map(|content| CaseContent {
            text_key: Vec::new(),
            ..content
        });
        Ok(Response::new(CaseResponse { case: Some(case) }))
    }

    async fn list(
        &self,
        request: Request<ListCasesRequest>,
    ) -> Result<Response<ListCasesResponse>, ServiceError> {
        let caller = caller(&request)?;
        let filter = request.get_ref();
        let tree = load_units(&self.handling.store).await?;
        if !filter.unit_id.is_empty() {
            check_unit(caller, &tree, &filter.unit_id)?;
        }
        let today = helsinki_date(Utc::now());
        let mut cases: Vec<CaseFile> = self
            .handling
            .index
            .snapshot()
            .await
            .into_iter()
            .filter(|case| {
                let lineage = tree.lineage(&case.unit_id);
                caller.may_read_unit(&case.unit_id, &lineage).is_ok()
                    && (filter.unit_id.is_empty() || lineage.contains(&filter.unit_id.as_str()))
                    && (!filter.open_only || !case.is_closed())
                    && (!filter.overdue_only || case.is_overdue(today))
                    && (filter.assignee.is_empty() || case.assignee == filter.assignee)
            })
            .collect();
        cases.sort_by_key(|case| std::cmp::Reverse(case.received_at));
        Ok(Response::new(ListCasesResponse {
            cases: cases
                .iter()
                .map(|case| listed(case.to_proto(today)))
                .collect(),
        }))
    }
}

#[tonic::async_trait]
impl FeedbackHandling for FeedbackHandlingService {
    #[tracing::instrument(skip_all)]
    async fn open_case(
        &self,
        request: Request<OpenCaseRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        Ok(self.open(request).await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn assign_case(
        &self,
        request: Request<AssignCaseRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        let command = CaseCommand::Assign {
            assignee: r.assignee.clone(),
            unit_id: r.unit_id.clone(),
        };
        Ok(self
            .execute(&request, &r.case_id, r.expected_revision, command)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn start_case(
        &self,
        request: Request<StartCaseRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        Ok(self
            .execute(
                &request,
                &r.case_id,
                r.expected_revision,
                CaseCommand::Start,
            )
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn add_note(
        &self,
        request: Request<AddNoteRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        let command = CaseCommand::AddNote {
            text: r.text.clone(),
        };
        Ok(self
            .execute(&request, &r.case_id, r.expected_revision, command)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_reply(
        &self,
        request: Request<RecordReplyRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        let command = CaseCommand::Reply {
            text: r.text.clone(),
            method: r.method.clone(),
        };
        Ok(self
            .execute(&request, &r.case_id, r.expected_revision, command)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_action(
        &self,
        request: Request<RecordActionRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        let command = CaseCommand::RecordAction {
            text: r.text.clone(),
        };
        Ok(self
            .execute(&request, &r.case_id, r.expected_revision, command)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn close_case(
        &self,
        request: Request<CloseCaseRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        let r = request.get_ref();
        audit_case(&request, &r.case_id);
        let command = CaseCommand::Close {
            resolution: r.resolution.clone(),
        };
        Ok(self
            .execute(&request, &r.case_id, r.expected_revision, command)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn get_case(
        &self,
        request: Request<GetCaseRequest>,
    ) -> Result<Response<CaseResponse>, Status> {
        audit_case(&request, &request.get_ref().case_id);
        Ok(self.get(request).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn list_cases(
        &self,
        request: Request<ListCasesRequest>,
    ) -> Result<Response<ListCasesResponse>, Status> {
        Ok(self.list(request).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_domain::handling::{case_envelope, evolve};
    use kaiku_proto::handling::v1::{CaseNoteAdded, CaseOpened, CaseStarted};

    fn loaded(content: Option<CaseContent>) -> LoadedCase {
        let now = Utc::now();
        let opened = Kind::Opened(CaseOpened {
            unit_id: "clinic-x".into(),
            received_at: Some(kaiku_domain::time::to_timestamp(now)),
            reply_due_on: "2026-12-01".into(),
            ..CaseOpened::default()
        });
        let case = evolve(None, &case_envelope("c", "web-form", opened, now), 1).expect("folds");
        let text_key = content
            .as_ref()
            .and_then(|content| crate::sealing::TextKey::of_case("c", content).expect("key"));
        LoadedCase {
            case,
            content,
            text_key,
        }
    }

    fn note(text: &str) -> Vec<Kind> {
        vec![Kind::NoteAdded(CaseNoteAdded {
            text: text.into(),
            sealed_text: None,
        })]
    }

    #[test]
    fn an_identity_code_in_the_respondents_message_is_not_stored() {
        let content = redacted_content(CaseContent {
            message: "Hetuni on 131052-308T, soittakaa 040 123 4567".into(),
            contact: Some(kaiku_proto::handling::v1::ContactDetails {
                name: "Maija".into(),
                email: String::new(),
                phone: "040 123 4567".into(),
            }),
            text_key: Vec::new(),
        });
        assert_eq!(
            content.message,
            "Hetuni on [henkilötunnus], soittakaa [puhelinnumero]"
        );
        // The contact details are for the reply, and stay.
        assert_eq!(
            content.contact.map(|contact| contact.phone).as_deref(),
            Some("040 123 4567")
        );
    }

    #[test]
    fn an_identity_code_in_a_handlers_text_is_not_stored() {
        let keys = crate::ContentKeys::parse("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .expect("keys");
        let content = CaseContent {
            message: "Soittakaa".into(),
            text_key: keys.new_text_key().expect("key"),
            ..CaseContent::default()
        };
        let loaded = loaded(Some(content));
        let code = "131052-308T";
        let mut kinds = vec![
            note(&format!("Asiakkaan hetu {code}")).remove(0),
            Kind::Replied(kaiku_proto::handling::v1::CaseReplied {
                text: format!("Soitin, hetu {code}"),
                method: "phone".into(),
                ..Default::default()
            }),
            Kind::ActionRecorded(kaiku_proto::handling::v1::CaseActionRecorded {
                text: format!("Kirjattu {code} potilastietoihin"),
                sealed_text: None,
            }),
            Kind::Closed(kaiku_proto::handling::v1::CaseClosed {
                resolution: format!("Hoidettu ({code})"),
                ..Default::default()
            }),
        ];
        redact_texts(&mut kinds);
        seal_texts(&loaded, &mut kinds).expect("sealed");
        let key = loaded.text_key.as_ref().expect("a new case has a key");
        for kind in &mut kinds {
            key.open_text(kind).expect("opens");
            let Some((text, _)) = handler_text(kind) else {
                panic!("no text in {kind:?}");
            };
            assert!(!text.contains("131052"), "{text}");
            assert!(text.contains("[henkilötunnus]"), "{text}");
        }
    }

    #[test]
    fn texts_are_sealed_kept_plain_only_for_old_cases_and_refused_before_the_content_is_saved() {
        let keys = crate::ContentKeys::parse("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .expect("keys");
        let content = CaseContent {
            message: "Soittakaa".into(),
            text_key: keys.new_text_key().expect("key"),
            ..CaseContent::default()
        };
        let mut kinds = note("Soitin");
        seal_texts(&loaded(Some(content)), &mut kinds).expect("sealed");
        assert!(
            matches!(&kinds[0], Kind::NoteAdded(n) if n.text.is_empty() && n.sealed_text.is_some())
        );

        // A case from before texts were sealed: content without a key.
        let mut kinds = note("Soitin");
        seal_texts(&loaded(Some(CaseContent::default())), &mut kinds).expect("plain");
        assert!(
            matches!(&kinds[0], Kind::NoteAdded(n) if n.text == "Soitin" && n.sealed_text.is_none())
        );

        // Content not saved yet: a text is refused, a command without one goes through.
        let mut kinds = note("Soitin");
        let refused = seal_texts(&loaded(None), &mut kinds).expect_err("refused");
        assert!(
            matches!(
                &refused,
                ServiceError::Case(CaseError::NotNow {
                    why: NotNow::ContentNotSaved,
                    ..
                })
            ),
            "{refused}"
        );
        assert_eq!(
            tonic::Status::from(refused).code(),
            tonic::Code::FailedPrecondition
        );
        let mut started = vec![Kind::Started(CaseStarted {})];
        seal_texts(&loaded(None), &mut started).expect("no text to seal");
    }
}
