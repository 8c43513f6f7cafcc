//! The audit record: one `kaiku.events.v1.AuditEvent` in the append-only KAIKU_AUDIT stream for
//! every admin action (a method whose policy asks for the survey-admin scope), every export, and
//! every call refused as UNAUTHENTICATED or PERMISSION_DENIED, whether by the auth layer or by
//! a service's own grant check. It says who, what, when and how it ended, never what was sent.
//!
//! Recorded by the outermost layer once the call's response head is known; the reply waits for
//! JetStream's acknowledgement of the audit event. When the record cannot be written (NATS
//! away), the call is not failed after the fact: the event goes to the log at error level.

use std::task::{Context, Poll};

use bytes::Bytes;
use kaiku_auth::{Access, MethodPolicy, Scope};
use kaiku_eventstore::{EventStore, NewEvent, audit_subject};
use kaiku_proto::events::v1::AuditEvent;
use prost::Message;

const AUDIT_EVENT: &str = "AuditEvent";

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

impl<S, B, ResBody> tower::Service<http::Request<B>> for AuditService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send,
    ResBody: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let caller = kaiku_auth::claimed_caller(
            request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok()),
        );
        let audit = self.audit.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            let code = match &response {
                Ok(response) => crate::metrics::status_code(response.headers()),
                Err(_) => tonic::Code::Unknown,
            };
            if let Some(reason) = audit.reason(&method, code) {
                audit
                    .record(AuditEvent {
                        occurred_at: Some(prost_types::Timestamp::from(
                            std::time::SystemTime::now(),
                        )),
                        service: audit.service.to_owned(),
                        method,
                        caller,
                        reason: reason.to_owned(),
                        code: format!("{code:?}"),
                        trace_id: kaiku_telemetry::current_trace_id().unwrap_or_default(),
                    })
                    .await;
            }
            response
        })
    }
}
