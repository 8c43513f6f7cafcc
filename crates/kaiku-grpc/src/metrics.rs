//! Prometheus metrics: one registry per process, served as text on `KAIKU_METRICS_ADDR`
//! (`GET /metrics`), with every gRPC call's duration and status recorded by one tower layer.
//! Services register their own metrics (intake's submissions, the projection's batches and
//! lag) on the same registry.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use tokio::net::TcpListener;

use crate::Shutdown;

/// Latency buckets from 0.5 ms to about 16 s, doubling.
pub fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The process's metrics. Cheap to clone; every clone registers into the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    rpc_duration: Family<RpcLabels, Histogram>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    method: String,
    code: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry whose names all start with `kaiku_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kaiku");
        let rpc_duration =
            Family::<RpcLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "rpc_server_duration_seconds",
            "gRPC calls handled, by method and status code (refusals by load shedding and \
             authentication included), and how long each took",
            rpc_duration.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            rpc_duration,
        }
    }

    /// Adds a metric; `name` without the `kaiku_` prefix (and without `_total` for counters).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        match self.registry.lock() {
            Ok(mut registry) => registry.register(name, help, metric),
            Err(poisoned) => poisoned.into_inner().register(name, help, metric),
        }
    }

    /// Everything in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = match self.registry.lock() {
            Ok(registry) => registry,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }

    /// The tower layer recording each call into `kaiku_rpc_server_duration_seconds`.
    pub fn layer(&self) -> RpcMetricsLayer {
        RpcMetricsLayer {
            duration: self.rpc_duration.clone(),
        }
    }

    /// Serves `GET /metrics` until shutdown.
    pub async fn serve(self, listener: TcpListener, shutdown: Shutdown) {
        let metrics = self;
        let router = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.encode(),
                    )
                }
            }),
        );
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "metrics endpoint stopped");
        }
    }
}

/// See [`Metrics::layer`].
#[derive(Clone)]
pub struct RpcMetricsLayer {
    duration: Family<RpcLabels, Histogram>,
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            duration: self.duration.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    duration: Family<RpcLabels, Histogram>,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for RpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
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
        let method = method_label(request.uri().path());
        let started = Instant::now();
        let duration = self.duration.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            // A refusal or error before any message is sent comes as a trailers-only response
            // with grpc-status in its headers; a call that streamed replies ends with the
            // status in trailers, which a layer does not wait for: it is counted as OK.
            let code = match &response {
                Ok(response) => status_code(response.headers()),
                Err(_) => tonic::Code::Unknown,
            };
            duration
                .get_or_create(&RpcLabels {
                    method,
                    code: format!("{code:?}"),
                })
                .observe(started.elapsed().as_secs_f64());
            response
        })
    }
}

/// A method path as a label: Kaiku's own and the standard gRPC services' methods as they are,
/// anything else (a client's invention, refused anyway) as `unknown`, so refused garbage cannot
/// grow the number of series without bound.
fn method_label(path: &str) -> String {
    let known = (path.starts_with("/kaiku.") || path.starts_with("/grpc."))
        && path.len() <= 96
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_'));
    if known {
        path.to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// The status of a response whose head carries it (a trailers-only response: a refusal or an
/// error before any message); OK otherwise.
pub(crate) fn status_code(headers: &http::HeaderMap) -> tonic::Code {
    headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from_i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[test]
    fn unknown_paths_share_one_label() {
        assert_eq!(
            method_label("/kaiku.intake.v1.ResponseIntake/SubmitResponse"),
            "/kaiku.intake.v1.ResponseIntake/SubmitResponse"
        );
        assert_eq!(
            method_label("/grpc.health.v1.Health/Check"),
            "/grpc.health.v1.Health/Check"
        );
        assert_eq!(method_label("/made.up/Thing"), "unknown");
        assert_eq!(method_label("/kaiku.x/\u{1}"), "unknown");
        assert_eq!(
            method_label(&format!("/kaiku.{}", "a".repeat(200))),
            "unknown"
        );
    }

    #[test]
    fn registered_metrics_are_encoded_with_the_prefix() {
        let metrics = Metrics::new();
        let counter = Counter::<u64>::default();
        metrics.register("things", "Things seen", counter.clone());
        counter.inc_by(3);
        metrics
            .rpc_duration
            .get_or_create(&RpcLabels {
                method: "/a.B/C".into(),
                code: "Ok".into(),
            })
            .observe(0.01);
        let text = metrics.encode();
        assert!(text.contains("kaiku_things_total 3"), "{text}");
        assert!(
            text.contains(
                r#"kaiku_rpc_server_duration_seconds_count{method="/a.B/C",code="Ok"} 1"#
            ),
            "{text}"
        );
    }
}
