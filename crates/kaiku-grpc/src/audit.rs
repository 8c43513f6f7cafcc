//! The audit record: one `kaiku.events.v1.AuditEvent` in the append-only KAIKU_AUDIT stream for
//! every admin action (a method whose policy asks for the survey-admin scope), every export, and
//! every call refused as UNAUTHENTICATED or PERMISSION_DENIED, whether by the auth layer or by
//! a service's own grant check. It says who, what, when and how it ended, never what was sent;
//! a service may name the object the call was about (`audit_object`), e.g. which feedback case,
//! and an erasure its reason code and responses (`audit_erasure`). Erasures no one called for
//! (the retention sweep) are recorded with `record_sweep`.
//!
//! Recorded once the call's response head is known; the reply waits for JetStream's
//! acknowledgement of the audit event. The call and its record run in their own task, so a
//! client that hangs up or times out cannot stop either halfway (an erasure still erases, and
//! is still recorded). When the record cannot be written (NATS away, or KAIKU_AUDIT full), the
//! call is not failed after the fact: the event goes to the log at error level.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use kaiku_auth::{Access, MethodPolicy, Scope};
use kaiku_eventstore::{EventStore, NewEvent, audit_subject};
use kaiku_proto::events::v1::AuditEvent;
use prost::Message;

const AUDIT_EVENT: &str = "AuditEvent";

/// What a handler adds to its call's record: the object it is about and, for an erasure, why
/// and which responses.
#[derive(Default)]
struct Details {
    object: Option<String>,
    erasure: Option<Erasure>,
}

/// An erasure of open texts, as the record keeps it: a code and sequences, never text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub reason: kaiku_proto::intake::v1::ErasureReason,
    pub response_sequences: Vec<u64>,
}

/// The details of a call, filled in by its handler and read when the call is recorded.
#[derive(Clone, Default)]
struct AuditObject(Arc<Mutex<Details>>);

impl AuditObject {
    fn take(&self) -> Details {
        self.0
            .lock()
            .map(|mut details| std::mem::take(&mut *details))
            .unwrap_or_default()
    }
}

/// Names what the call acts on in its audit record (`case:<id>`), if the call is audited: set
/// it before any check that may refuse the call, so refusals name it too.
pub fn audit_object<T>(request: &tonic::Request<T>, object: impl Into<String>) {
    if let Some(slot) = request.extensions().get::<AuditObject>()
        && let Ok(mut slot) = slot.0.lock()
    {
        slot.object = Some(object.into());
    }
}

/// Records in the call's audit record that it erases open texts: of which survey's responses
/// and why. Set before the checks that may refuse it, like `audit_object`.
pub fn audit_erasure<T>(request: &tonic::Request<T>, survey_id: &str, erasure: Erasure) {
    if let Some(slot) = request.extensions().get::<AuditObject>()
        && let Ok(mut slot) = slot.0.lock()
    {
        slot.object = Some(format!("survey:{survey_id}"));
        slot.erasure = Some(erasure);
    }
}

/// The record of erasures no one called for (response-intake's retention sweep): one event per
/// survey and pass, appended like a call's. Nothing in it comes from a request.
pub async fn record_sweep(
    store: &EventStore,
    service: &'static str,
    action: &str,
    survey_id: &str,
    erasure: Erasure,
) -> Result<(), kaiku_eventstore::EventStoreError> {
    let event = audit_event(
        service,
        action,
        format!("service:{service}"),
        "retention",
        tonic::Code::Ok,
        Details {
            object: Some(format!("survey:{survey_id}")),
            erasure: Some(erasure),
        },
    );
    store
        .append(NewEvent {
            subject: audit_subject(service),
            message_id: uuid::Uuid::new_v4().to_string(),
            event_type: AUDIT_EVENT,
            payload: Bytes::from(event.encode_to_vec()),
            expected_last_subject_sequence: None,
        })
        .await
        .map(|_| ())
}

/// Where a service's audit events go, and which of its methods are admin actions or exports.
#[derive(Clone)]
pub struct Audit {
    store: EventStore,
    service: &'static str,
    policy: MethodPolicy,
}

impl Audit {
    pub fn new(store: EventStore, service: &'static str, policy: MethodPolicy) -> Self {
        Self {
            store,
            service,
            policy,
        }
    }

    /// Why a call is audited, if it is.
    pub fn reason(&self, method: &str, code: tonic::Code) -> Option<&'static str> {
        if matches!(
            code,
            tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
        ) {
            return Some("denied");
        }
        match (self.policy)(method) {
            Access::AnyOf(scopes) if scopes.contains(&Scope::Export) => Some("export"),
            Access::AnyOf(scopes) if scopes.contains(&Scope::SurveyAdmin) => Some("admin"),
            // Feedback cases carry a person's contact details: every access is on record.
            Access::AnyOf(scopes) if scopes.contains(&Scope::Handle) => Some("handling"),
            _ => None,
        }
    }

    async fn record(&self, event: AuditEvent) {
        let appended = self
            .store
            .append(NewEvent {
                subject: audit_subject(self.service),
                message_id: uuid::Uuid::new_v4().to_string(),
                event_type: AUDIT_EVENT,
                payload: Bytes::from(event.encode_to_vec()),
                expected_last_subject_sequence: None,
            })
            .await;
        if let Err(error) = appended {
            tracing::error!(
                %error,
                method = event.method,
                caller = event.caller,
                reason = event.reason,
                code = event.code,
                "audit event not stored"
            );
        }
    }

    pub fn layer(&self) -> AuditLayer {
        AuditLayer {
            audit: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuditLayer {
    audit: Audit,
}

impl<S> tower::Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditService {
            inner,
            audit: self.audit.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuditService<S> {
    inner: S,
    audit: Audit,
}

/// Longest method path, caller or object kept: all come from the request, and a refused
/// caller chooses them.
const MAX_FIELD_CHARS: usize = 128;

fn bounded(value: String) -> String {
    if value.chars().count() <= MAX_FIELD_CHARS {
        value
    } else {
        value.chars().take(MAX_FIELD_CHARS).collect::<String>() + "..."
    }
}

/// A field taken from the request as the record keeps it: identity codes, phone numbers and
/// e-mail addresses replaced (KAIKU_AUDIT is append-only and never erased, and a refused
/// caller can put anything in a method path; a handler passes on the case id it was sent
/// before checking it), then bounded. Redacted first, so no cut leaves half a code behind.
fn recorded(value: &str) -> String {
    bounded(kaiku_domain::redaction::redact(value).text)
}

/// The record of one call. The caller is kept as claimed, not redacted: naming the person is
/// what the record is for, and a county on Entra ID names its staff by their e-mail address
/// (ADR 0012).
fn audit_event(
    service: &str,
    method: &str,
    caller: String,
    reason: &str,
    code: tonic::Code,
    details: Details,
) -> AuditEvent {
    let (erasure_reason, response_sequences) = details
        .erasure
        .map(|e| (e.reason as i32, e.response_sequences))
        .unwrap_or_default();
    AuditEvent {
        occurred_at: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
        service: service.to_owned(),
        method: recorded(method),
        caller,
        reason: reason.to_owned(),
        code: format!("{code:?}"),
        trace_id: kaiku_telemetry::current_trace_id().unwrap_or_default(),
        object: details
            .object
            .map(|object| recorded(&object))
            .unwrap_or_default(),
        erasure_reason,
        response_sequences,
    }
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for AuditService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let object = AuditObject::default();
        request.extensions_mut().insert(object.clone());
        let method = request.uri().path().to_owned();
        let caller = bounded(kaiku_auth::claimed_caller(
            request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok()),
        ));
        let audit = self.audit.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            // Spawned from the first poll, where the request's span (which tonic enters around
            // this future, not around `call`) is current: the handler's spans stay in its trace.
            let span = tracing::Span::current();
            let call = tokio::spawn(tracing::Instrument::instrument(
                async move {
                    let response = response.await;
                    let code = match &response {
                        Ok(response) => crate::metrics::status_code(response.headers()),
                        Err(_) => tonic::Code::Unknown,
                    };
                    if let Some(reason) = audit.reason(&method, code) {
                        audit
                            .record(audit_event(
                                audit.service,
                                &method,
                                caller,
                                reason,
                                code,
                                object.take(),
                            ))
                            .await;
                    }
                    response
                },
                span,
            ));
            match call.await {
                Ok(response) => response,
                // The call panicked: let the panic go on as it would have without this layer.
                Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(object: &str) -> Details {
        Details {
            object: Some(object.into()),
            erasure: None,
        }
    }

    #[test]
    fn an_erasure_is_recorded_by_its_code_and_sequences() {
        use kaiku_proto::intake::v1::ErasureReason;
        let event = audit_event(
            "response-intake",
            "retention-sweep",
            "service:response-intake".into(),
            "retention",
            tonic::Code::Ok,
            Details {
                object: Some("survey:01a216af-505a-7707-8f3f-9098a19acebe".into()),
                erasure: Some(Erasure {
                    reason: ErasureReason::Retention,
                    response_sequences: vec![3, 7],
                }),
            },
        );
        assert_eq!(event.erasure_reason, ErasureReason::Retention as i32);
        assert_eq!(event.response_sequences, vec![3, 7]);
        assert_eq!(event.object, "survey:01a216af-505a-7707-8f3f-9098a19acebe");
        // Any other call's record says nothing of erasures.
        let other = audit_event(
            "survey-definition",
            "/kaiku.survey.v1.SurveyDefinition/CreateUnit",
            "api-key:admin".into(),
            "admin",
            tonic::Code::Ok,
            Details::default(),
        );
        assert_eq!(other.erasure_reason, 0);
        assert!(other.response_sequences.is_empty() && other.object.is_empty());
    }

    #[test]
    fn an_identity_code_in_an_audited_field_is_not_stored() {
        let event = audit_event(
            "feedback-handling",
            "/kaiku.handling.v1.FeedbackHandling/GetCase/131052-308T",
            "jwt:anna.virtanen@county.example.fi".into(),
            "denied",
            tonic::Code::PermissionDenied,
            object("case:131052-308T soita 040 123 4567"),
        );
        let stored = String::from_utf8_lossy(&event.encode_to_vec()).into_owned();
        assert!(!stored.contains("131052"), "{stored}");
        assert!(!stored.contains("4567"), "{stored}");
        assert_eq!(
            event.method,
            "/kaiku.handling.v1.FeedbackHandling/GetCase/[henkilötunnus]"
        );
        assert_eq!(event.object, "case:[henkilötunnus] soita [puhelinnumero]");
        // The caller is who the record names.
        assert_eq!(event.caller, "jwt:anna.virtanen@county.example.fi");
    }

    #[test]
    fn methods_and_case_ids_are_recorded_as_they_are() {
        // A UUIDv7 whose first segments are all digits still names its case.
        let case = "case:01973456-7890-7123-8123-0123456789ab";
        let event = audit_event(
            "feedback-handling",
            "/kaiku.handling.v1.FeedbackHandling/GetCase",
            "api-key:console".into(),
            "handling",
            tonic::Code::Ok,
            object(case),
        );
        assert_eq!(event.method, "/kaiku.handling.v1.FeedbackHandling/GetCase");
        assert_eq!(event.object, case);
        assert_eq!(event.code, "Ok");
    }

    #[test]
    fn a_long_field_is_redacted_before_it_is_cut() {
        // Cut first, the field would end "x 13105" and keep half the code.
        let object = format!("{} 131052-308T", "x".repeat(MAX_FIELD_CHARS - 7));
        let recorded = recorded(&object);
        assert!(!recorded.contains("13105"), "{recorded}");
        assert!(recorded.ends_with("..."), "{recorded}");
    }
}
