//! W3C trace context (`traceparent`, `tracestate`) into and out of gRPC metadata and NATS
//! message headers. Kaiku always speaks W3C trace context, so the propagator is fixed here
//! rather than looked up globally: the same code works in tests and in every service.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

fn propagator() -> TraceContextPropagator {
    TraceContextPropagator::new()
}

/// The span tonic opens for each incoming request, continuing the caller's trace when its
/// metadata carries one.
pub fn grpc_server_span(request: &http::Request<()>) -> Span {
    let path = request.uri().path();
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent = propagator().extract(&HttpHeaders(request.headers()));
    set_parent(&span, parent);
    span
}

/// A tonic client interceptor that sends the current span's trace context with each call.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracePropagation;

impl tonic::service::Interceptor for TracePropagation {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let context = Span::current().context();
        propagator().inject_context(&context, &mut GrpcMetadata(request.metadata_mut()));
        Ok(request)
    }
}

/// Writes the current span's trace context into headers of a message about to be published.
pub fn inject_into_nats_headers(headers: &mut async_nats::HeaderMap) {
    let context = Span::current().context();
    propagator().inject_context(&context, &mut NatsHeaders(headers));
}

/// The trace context a stored message was published under (empty if it carries none).
pub fn parent_from_nats_headers(headers: Option<&async_nats::HeaderMap>) -> Context {
    match headers {
        Some(headers) => propagator().extract(&NatsHeadersRef(headers)),
        None => Context::new(),
    }
}

/// Continues, in `span`, the trace a stored message was published under.
pub fn set_parent_from_nats_headers(span: &Span, headers: Option<&async_nats::HeaderMap>) {
    set_parent(span, parent_from_nats_headers(headers));
}

/// The current trace id in hex, for log lines and error replies; None outside a sampled trace.
pub fn current_trace_id() -> Option<String> {
    let context = Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

fn set_parent(span: &Span, parent: Context) {
    if !parent.span().span_context().is_valid() {
        return;
    }
    // Fails only when the span is disabled (filtered out), and then there is nothing to link.
    if let Err(error) = span.set_parent(parent) {
        tracing::trace!(%error, "span not linked to its remote parent");
    }
}

struct HttpHeaders<'a>(&'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct GrpcMetadata<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for GrpcMetadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        let key = tonic::metadata::MetadataKey::from_bytes(key.as_bytes());
        let value = tonic::metadata::MetadataValue::try_from(value.as_str());
        if let (Ok(key), Ok(value)) = (key, value) {
            self.0.insert(key, value);
        }
    }
}

struct NatsHeaders<'a>(&'a mut async_nats::HeaderMap);

impl Injector for NatsHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value);
    }
}

struct NatsHeadersRef<'a>(&'a async_nats::HeaderMap);

impl Extractor for NatsHeadersRef<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(async_nats::HeaderValue::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tonic::service::Interceptor as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn with_tracing<T>(body: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, body)
    }

    #[test]
    fn a_grpc_request_continues_the_callers_trace() {
        with_tracing(|| {
            let request = http::Request::builder()
                .uri("/kaiku.intake.v1.ResponseIntake/SubmitResponse")
                .header("traceparent", TRACEPARENT)
                .body(())
                .expect("valid request");
            let span = grpc_server_span(&request);
            let _entered = span.enter();
            assert_eq!(current_trace_id().as_deref(), Some(TRACE_ID));
        });
    }

    #[test]
    fn a_grpc_request_without_context_starts_a_new_trace() {
        with_tracing(|| {
            let request = http::Request::builder()
                .uri("/kaiku.intake.v1.ResponseIntake/SubmitResponse")
                .body(())
                .expect("valid request");
            let span = grpc_server_span(&request);
            let _entered = span.enter();
            let trace_id = current_trace_id().expect("a new trace");
            assert_ne!(trace_id, TRACE_ID);
        });
    }

    #[test]
    fn trace_context_travels_through_nats_headers() {
        with_tracing(|| {
            let request = http::Request::builder()
                .uri("/a.B/C")
                .header("traceparent", TRACEPARENT)
                .body(())
                .expect("valid request");
            let mut headers = async_nats::HeaderMap::new();
            {
                let span = grpc_server_span(&request);
                let _entered = span.enter();
                inject_into_nats_headers(&mut headers);
            }
            let consumer = tracing::info_span!("projection.batch");
            set_parent_from_nats_headers(&consumer, Some(&headers));
            let _entered = consumer.enter();
            assert_eq!(current_trace_id().as_deref(), Some(TRACE_ID));
        });
    }

    #[test]
    fn the_client_interceptor_sends_the_current_trace() {
        with_tracing(|| {
            let request = http::Request::builder()
                .uri("/a.B/C")
                .header("traceparent", TRACEPARENT)
                .body(())
                .expect("valid request");
            let span = grpc_server_span(&request);
            let _entered = span.enter();
            let outgoing = TracePropagation
                .call(tonic::Request::new(()))
                .expect("interceptor never refuses");
            let sent = outgoing
                .metadata()
                .get("traceparent")
                .and_then(|value| value.to_str().ok())
                .expect("traceparent sent");
            assert!(sent.contains(TRACE_ID), "{sent}");
        });
    }

    #[test]
    fn a_message_without_headers_has_no_parent() {
        let context = parent_from_nats_headers(None);
        assert!(!context.span().span_context().is_valid());
    }
}
