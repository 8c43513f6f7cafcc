//! One tower layer per service: authenticates every call, checks the scope its method needs,
//! and hands the caller to the handler in the request's extensions. Resource checks (which
//! survey, which units) happen in the handlers, which see the request's content.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::{Layer, Service};

use crate::grants::{Principal, Scope};
use crate::{AuthError, Authenticator};

/// What a gRPC method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Health checks and reflection: probes and tools without credentials.
    Open,
    /// Any authenticated caller (e.g. reading a survey's published form).
    Authenticated,
    /// Callers with any one of these scopes.
    AnyOf(&'static [Scope]),
}

/// A gRPC error as a layer answers it without calling the service: HTTP 200 with the status
/// in the headers and an empty body.
pub fn status_response<ResBody: Default>(status: tonic::Status) -> Response<ResBody> {
    let (parts, ()) = status.into_http::<()>().into_parts();
    Response::from_parts(parts, ResBody::default())
}

/// Health checks and reflection: open on every service, for probes and tools.
pub fn is_probe(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// Maps a gRPC path ("/package.Service/Method") to what it needs. Unknown paths should map to
/// the strictest access the service has.
pub type MethodPolicy = fn(&str) -> Access;

#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Arc<Authenticator>,
    policy: MethodPolicy,
}

impl AuthLayer {
    pub fn new(authenticator: Arc<Authenticator>, policy: MethodPolicy) -> Self {
        AuthLayer {
            authenticator,
            policy,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
            policy: self.policy,
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
    policy: MethodPolicy,
}

/// The decision for one call: the caller to pass on, or the status to answer with.
pub fn decide(
    authenticator: &Authenticator,
    policy: MethodPolicy,
    path: &str,
    authorization: Option<&str>,
) -> Result<Option<Principal>, tonic::Status> {
    let access = policy(path);
    if access == Access::Open {
        return Ok(None);
    }
    let principal = authenticator
        .authenticate(authorization)
        .map_err(|e: AuthError| {
            tracing::info!(path, reason = %e, "unauthenticated call refused");
            tonic::Status::from(&e)
        })?;
    if let Access::AnyOf(scopes) = access
        && !scopes.iter().any(|s| principal.has(*s))
    {
        tracing::info!(path, subject = %principal.subject, "call refused: missing scope");
        let names: Vec<&str> = scopes.iter().map(|s| s.claim()).collect();
        return Err(tonic::Status::permission_denied(format!(
            "{path} needs one of the scopes {}",
            names.join(", ")
        )));
    }
    Ok(Some(principal))
}

impl<S, B, ResBody> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        match decide(
            &self.authenticator,
            self.policy,
            request.uri().path(),
            authorization,
        ) {
            Ok(principal) => {
                if let Some(principal) = principal {
                    request.extensions_mut().insert(principal);
                }
                Box::pin(self.inner.call(request))
            }
            Err(status) => {
                let response = status_response(status);
                Box::pin(async move { Ok(response) })
            }
        }
    }
}
