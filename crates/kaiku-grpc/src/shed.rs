//! Load shedding: at most `limit` calls are handled at once; one more is answered at once with
//! RESOURCE_EXHAUSTED instead of waiting in an unbounded queue, so a burst degrades into quick,
//! retryable refusals (clients retry with the same submission id) rather than into timeouts for
//! everyone. Health and reflection are never shed: probes must see a busy service as alive.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tokio::sync::Semaphore;
use tower::{Layer, Service};

#[derive(Clone)]
pub struct LoadShedLayer {
    permits: Arc<Semaphore>,
}

impl LoadShedLayer {
    pub fn new(limit: usize) -> Self {
        LoadShedLayer {
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            permits: self.permits.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LoadShed<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, B, ResBody> Service<Request<B>> for LoadShed<S>
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

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if kaiku_auth::is_probe(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let future = self.inner.call(request);
                Box::pin(async move {
                    let response = future.await;
                    drop(permit);
                    response
                })
            }
            Err(_) => {
                tracing::warn!(
                    path = request.uri().path(),
                    "call shed: the service is at its concurrency limit"
                );
                let status = tonic::Status::resource_exhausted(
                    "the service is at its concurrency limit; retry shortly (with the same submission id)",
                );
                let response = kaiku_auth::status_response(status);
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tokio::sync::Notify;

    use super::*;

    /// A service that holds every call until released.
    #[derive(Clone)]
    struct Held(Arc<Notify>);

    impl Service<Request<()>> for Held {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Response<String>, Infallible>> + Send>,
        >;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<()>) -> Self::Future {
            let release = self.0.clone();
            Box::pin(async move {
                release.notified().await;
                Ok(Response::new("handled".to_owned()))
            })
        }
    }

    fn call(path: &str) -> Request<()> {
        Request::builder().uri(path).body(()).unwrap_or_default()
    }

    fn grpc_status(response: &Response<String>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn a_call_over_the_limit_is_refused_at_once_and_probes_always_pass() {
        let release = Arc::new(Notify::new());
        let mut service = LoadShedLayer::new(1).layer(Held(release.clone()));
        let first =
            tokio::spawn(service.call(call("/kaiku.intake.v1.ResponseIntake/SubmitResponse")));
        tokio::task::yield_now().await;
        // The limit is taken: the next call is refused without waiting.
        let refused = service
            .call(call("/kaiku.intake.v1.ResponseIntake/SubmitResponse"))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(grpc_status(&refused), Some("8"), "RESOURCE_EXHAUSTED");
        // A health check is not shed (it is held like any handled call, so release it too).
        let probe = tokio::spawn(service.call(call("/grpc.health.v1.Health/Check")));
        tokio::task::yield_now().await;
        release.notify_waiters();
        let handled = first.await.ok().map(|r| r.unwrap_or_else(|e| match e {}));
        assert_eq!(handled.map(|r| r.into_body()), Some("handled".to_owned()));
        let probed = probe.await.ok().map(|r| r.unwrap_or_else(|e| match e {}));
        assert_eq!(probed.map(|r| r.into_body()), Some("handled".to_owned()));
        // The permit is back: the next call is handled.
        let next =
            tokio::spawn(service.call(call("/kaiku.intake.v1.ResponseIntake/SubmitResponse")));
        tokio::task::yield_now().await;
        release.notify_waiters();
        let next = next.await.ok().map(|r| r.unwrap_or_else(|e| match e {}));
        assert_eq!(next.map(|r| r.into_body()), Some("handled".to_owned()));
    }
}
