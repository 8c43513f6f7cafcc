//! One answer, one trace: a channel adapter's call carries a W3C `traceparent`; intake continues
//! it, publishes to JetStream with the context in the message headers, and the projection
//! continues it again when it applies the event and writes it to PostgreSQL. The services
//! export by OTLP (configured only by the standard OTEL_* variables) to a real OTLP/gRPC
//! receiver built from the opentelemetry-proto definitions, running in this test.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kaiku_proto::survey::v1::RespondentRole;
use kaiku_system_tests::{Stack, TestResult, nps_answer};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;

/// The channel adapter's own trace and span, as it would send them.
const TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";
const ADAPTER_SPAN_ID: &str = "eee19b7ec3c1b174";

#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

/// Keeps every span exported to it.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(name)) => Some(name.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for span in resource_spans
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
            {
                received.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                });
            }
        }
        self.spans
            .lock()
            .map_err(|_| tonic::Status::internal("poisoned"))?
            .extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn start_receiver() -> TestResult<(Receiver, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let receiver = Receiver::default();
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(receiver.clone()))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    tokio::spawn(server);
    Ok((receiver, address))
}

#[tokio::test]
async fn one_submission_is_one_trace_from_the_adapter_to_the_database_write() -> TestResult {
    let (receiver, address) = start_receiver().await?;
    let stack = Stack::start_with_env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{address}")),
        // Export within 200 ms instead of the default 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned()),
    ])
    .await?;
    let survey_id = stack.publish_nps_survey(&["school-a"]).await?;

    let mut request = tonic::Request::new(nps_answer(
        &survey_id,
        "school-a",
        RespondentRole::Client,
        9,
    ));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{ADAPTER_SPAN_ID}-01").parse()?,
    );
    stack.intake().await?.submit_response(request).await?;

    // Wait for the projection's database write of this trace to arrive.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let spans = loop {
        let spans: Vec<ReceivedSpan> = receiver
            .spans
            .lock()
            .map_err(|_| "poisoned")?
            .iter()
            .filter(|s| s.trace_id == TRACE_ID)
            .cloned()
            .collect();
        if spans.iter().any(|s| s.name == "postgres.write_batch") {
            break spans;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "no database write span in trace {TRACE_ID}; received: {spans:#?}\n{}",
                stack.logs()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Every span's parent is another span of the trace, up to the adapter's own span.
    let by_id: HashMap<&str, &ReceivedSpan> =
        spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let write = spans
        .iter()
        .find(|s| s.name == "postgres.write_batch")
        .ok_or("no write span")?;
    let mut chain = vec![write];
    let mut current = write;
    while current.parent_span_id != ADAPTER_SPAN_ID {
        current = by_id
            .get(current.parent_span_id.as_str())
            .ok_or_else(|| format!("{current:?} has a parent not in the trace: {spans:#?}"))?;
        chain.push(current);
    }
    let path: Vec<(String, String)> = chain
        .iter()
        .rev()
        .map(|s| (s.service.clone(), s.name.clone()))
        .collect();
    let position = |service: &str, name: &str| {
        path.iter()
            .position(|(s, n)| s == service && n == name)
            .ok_or_else(|| format!("no {service} span {name} in the chain {path:#?}"))
    };
    // Adapter -> intake's gRPC server span -> ... -> JetStream publish -> projection -> write.
    let server = position(
        "response-intake",
        "/kaiku.intake.v1.ResponseIntake/SubmitResponse",
    )?;
    let publish = position("response-intake", "eventstore.append")?;
    let apply = position("projection", "projection.apply")?;
    let written = position("projection", "postgres.write_batch")?;
    assert_eq!(server, 0, "the intake's server span is the adapter's child");
    assert!(server < publish && publish < apply && apply < written);
    assert_eq!(apply + 1, written);
    assert_eq!(publish + 1, apply, "the projection continues the publish");
    Ok(())
}
