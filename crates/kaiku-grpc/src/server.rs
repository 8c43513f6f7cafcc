use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::Server;

use crate::Shutdown;

/// tonic sets none of these by default; every Kaiku server sets all of them deliberately.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub max_request_bytes: usize,
    pub shutdown_grace: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    pub max_concurrent_streams_per_connection: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 512,
            max_request_bytes: 1024 * 1024,
            shutdown_grace: Duration::from_secs(20),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            max_concurrent_streams_per_connection: 128,
        }
    }
}

/// Health (grpc.health.v1) and reflection (v1 and v1alpha: grpcurl and Python speak only
/// v1alpha) for every Kaiku contract, to which a service adds its own.
pub fn standard_routes<H>(health: H) -> Result<Routes, tonic_reflection::server::Error>
where
    H: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    H::Future: Send + 'static,
{
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(kaiku_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok(Routes::new(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?))
}

/// A bound gRPC listener; binding first lets callers (and tests, with port 0) learn the address
/// before serving.
pub struct GrpcServer {
    listener: TcpListener,
    limits: ServerLimits,
    auth: kaiku_auth::AuthLayer,
    metrics: crate::Metrics,
    /// Where `GET /metrics` is served, when asked for.
    metrics_listener: Option<TcpListener>,
    audit: Option<crate::Audit>,
}

/// Why a server could not be set up: its address, or its authentication settings.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Auth(String),
}

impl GrpcServer {
    /// `auth` decides every call before it reaches a service (health and reflection stay open
    /// by the service's policy).
    pub async fn bind(
        addr: SocketAddr,
        limits: ServerLimits,
        auth: kaiku_auth::AuthLayer,
        metrics_addr: Option<SocketAddr>,
    ) -> Result<Self, BindError> {
        let listen = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| BindError::Listen { addr, source })
        };
        let listener = listen(addr).await?;
        let metrics_listener = match metrics_addr {
            Some(addr) => Some(listen(addr).await?),
            None => None,
        };
        Ok(Self {
            listener,
            limits,
            auth,
            metrics: crate::Metrics::new(),
            metrics_listener,
            audit: None,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Records admin actions, exports and refused calls in KAIKU_AUDIT (crate::Audit).
    pub fn with_audit(mut self, audit: crate::Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The registry this server's call metrics go to; a service registers its own there too.
    pub fn metrics(&self) -> crate::Metrics {
        self.metrics.clone()
    }

    /// Serves until `shutdown` triggers, then stops accepting and lets in-flight requests finish
    /// within the grace period.
    pub async fn serve(
        self,
        routes: Routes,
        shutdown: Shutdown,
    ) -> Result<(), tonic::transport::Error> {
        let limits = self.limits;
        let auth = self.auth;
        let drained = shutdown.clone();
        if let Some(listener) = self.metrics_listener {
            tokio::spawn(self.metrics.clone().serve(listener, shutdown.clone()));
        }
        // Server::tcp_nodelay only applies to listeners tonic opens itself. Without it a small
        // reply waits for the client's delayed ACK: measured 40-50 ms per call on loopback.
        let incoming = TcpListenerStream::new(self.listener).map(|connection| {
            let connection = connection?;
            connection.set_nodelay(true)?;
            Ok::<_, std::io::Error>(connection)
        });
        let server = Server::builder()
            .timeout(limits.request_timeout)
            .http2_keepalive_interval(Some(limits.keepalive_interval))
            .http2_keepalive_timeout(Some(limits.keepalive_timeout))
            .max_concurrent_streams(Some(limits.max_concurrent_streams_per_connection))
            .trace_fn(kaiku_telemetry::grpc_server_span)
            // Outermost, so calls refused by load shedding or authentication are counted too.
            .layer(self.metrics.layer())
            .layer(crate::shed::LoadShedLayer::new(
                limits.max_concurrent_requests,
            ))
            // Inside the concurrency limit, so refused calls cannot be audited faster than the
            // limit lets calls through; outside auth, so its refusals are audited.
            .layer(tower::util::option_layer(
                self.audit.map(|audit| audit.layer()),
            ))
            .layer(auth)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, async move { drained.wait().await });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => result,
            () = async {
                shutdown.wait().await;
                tokio::time::sleep(limits.shutdown_grace).await;
            } => {
                tracing::warn!(grace = ?limits.shutdown_grace, "in-flight requests did not finish within the grace period");
                Ok(())
            }
        }
    }
}
