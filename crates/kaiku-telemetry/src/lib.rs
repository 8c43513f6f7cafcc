//! Logs and traces for every Kaiku process, and the W3C trace context that ties one answer's
//! journey together: from a channel adapter's gRPC metadata, through the intake, into the NATS
//! headers of the stored event, and out again in the projection.
//!
//! The OpenTelemetry layer is always installed, exporter or not, so that a service without an
//! exporter still passes the caller's trace context on; spans are only exported when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

mod propagation;

use std::str::FromStr;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use propagation::{
    TracePropagation, current_trace_id, grpc_server_span, inject_into_nats_headers,
    parent_from_nats_headers, set_parent_from_nats_headers,
};

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event, for people at a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("log format {0:?} is not one of: text, json")]
pub struct UnknownLogFormat(String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(UnknownLogFormat(value.to_owned())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub service_name: String,
    pub log_format: LogFormat,
    /// EnvFilter directives such as `info` or `warn,projection=debug`; they filter logs only.
    pub log_filter: String,
    /// OTLP/gRPC collector, e.g. `http://otel-collector:4317`; None = no export.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("log filter {filter:?} is invalid: {source}")]
    LogFilter {
        filter: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("OTLP exporter for {endpoint:?} could not be built: {source}")]
    Exporter {
        endpoint: String,
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    #[error("a global tracing subscriber is already installed: {0}")]
    AlreadyInitialised(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the tracer provider alive; call [`TelemetryGuard::shutdown`] before the runtime ends so
/// buffered spans are flushed.
#[must_use = "dropping the guard without shutdown() loses buffered spans"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    pub fn shutdown(self) {
        // With no collector listening this fails after a couple of seconds; losing the last
        // spans must not turn a clean stop into a failure.
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry: flushing spans at shutdown failed: {error}");
        }
    }
}

/// Installs the global subscriber and propagator. Call once, inside the tokio runtime (the
/// tonic exporter needs it).
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let provider = tracer_provider(config)?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());

    // The filter sits on the log layer only: a global filter would also starve the
    // OpenTelemetry layer, and trace ids would come out as zeros.
    let log_filter =
        EnvFilter::try_new(&config.log_filter).map_err(|source| TelemetryError::LogFilter {
            filter: config.log_filter.clone(),
            source,
        })?;
    let log_layer = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_target(true).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    }
    .with_filter(log_filter);
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("kaiku"))
        .with_filter(EnvFilter::new("info"));

    tracing_subscriber::registry()
        .with(log_layer)
        .with(otel_layer)
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

fn tracer_provider(config: &TelemetryConfig) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = &config.otlp_endpoint else {
        return Ok(builder.build());
    };
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.clone())
        .build()
        .map_err(|source| TelemetryError::Exporter {
            endpoint: endpoint.clone(),
            source,
        })?;
    Ok(builder.with_batch_exporter(exporter).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_parses_both_names_in_any_case() {
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert_eq!("JSON".parse(), Ok(LogFormat::Json));
        assert_eq!(
            "yaml".parse::<LogFormat>(),
            Err(UnknownLogFormat("yaml".into()))
        );
    }

    #[tokio::test]
    async fn an_invalid_log_filter_is_reported_with_the_filter() {
        let config = TelemetryConfig {
            service_name: "test".into(),
            log_format: LogFormat::Text,
            log_filter: "info,=[".into(),
            otlp_endpoint: None,
        };
        match init(&config) {
            Err(TelemetryError::LogFilter { filter, .. }) => assert_eq!(filter, "info,=["),
            Err(other) => panic!("expected a log filter error, got {other}"),
            Ok(_) => panic!("expected a log filter error"),
        }
    }
}
