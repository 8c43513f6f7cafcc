//! Authentication settings every service takes, and the client side: a bearer token on every
//! outgoing call.

use std::path::PathBuf;
use std::sync::Arc;

use kaiku_auth::{ApiKeys, AuthLayer, Authenticator, JwtVerifier, MethodPolicy};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Debug, Clone, clap::Args)]
pub struct AuthSettings {
    /// The identity provider's JWT public keys: PEM files (RSA or P-256), comma-separated.
    #[arg(long, env = "KAIKU_AUTH_JWT_PUBLIC_KEYS", value_delimiter = ',')]
    pub auth_jwt_public_keys: Vec<PathBuf>,

    /// The `iss` JWTs must carry.
    #[arg(long, env = "KAIKU_AUTH_JWT_ISSUER", default_value = "")]
    pub auth_jwt_issuer: String,

    /// The `aud` JWTs must carry.
    #[arg(long, env = "KAIKU_AUTH_JWT_AUDIENCE", default_value = "kaiku")]
    pub auth_jwt_audience: String,

    /// Service API keys: a JSON file of entries with each key's SHA-256 and grants
    /// (`kaikuctl api-key new` makes them).
    #[arg(long, env = "KAIKU_AUTH_API_KEYS")]
    pub auth_api_keys: Option<PathBuf>,
}

impl AuthSettings {
    /// Who may call. At least one of JWT keys or API keys is required: a Kaiku service never
    /// runs open.
    pub fn authenticator(&self) -> Result<Authenticator, String> {
        let jwt = if self.auth_jwt_public_keys.is_empty() {
            None
        } else {
            let pems = self
                .auth_jwt_public_keys
                .iter()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("KAIKU_AUTH_JWT_PUBLIC_KEYS: {}: {e}", path.display()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(
                JwtVerifier::new(&pems, &self.auth_jwt_issuer, &self.auth_jwt_audience)
                    .map_err(|e| e.to_string())?,
            )
        };
        let api_keys = match &self.auth_api_keys {
            Some(path) => {
                let json = std::fs::read_to_string(path)
                    .map_err(|e| format!("KAIKU_AUTH_API_KEYS: {}: {e}", path.display()))?;
                ApiKeys::parse(&json).map_err(|e| format!("KAIKU_AUTH_API_KEYS: {e}"))?
            }
            None => ApiKeys::default(),
        };
        Authenticator::new(jwt, api_keys).map_err(|e| e.to_string())
    }

    pub fn layer(&self, policy: MethodPolicy) -> Result<AuthLayer, String> {
        Ok(AuthLayer::new(Arc::new(self.authenticator()?), policy))
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct BearerToken(Option<MetadataValue<tonic::metadata::Ascii>>);

impl BearerToken {
    /// A token that is not valid header text is sent as no token (and refused by the server).
    pub fn new(token: &str) -> BearerToken {
        BearerToken(format!("Bearer {token}").parse().ok())
    }
}

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry a bearer token; every Kaiku client uses one.
pub type AuthorizedChannel = InterceptedService<Channel, BearerToken>;

pub fn authorized(channel: Channel, token: &str) -> AuthorizedChannel {
    InterceptedService::new(channel, BearerToken::new(token))
}

#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {addr}: {reason}")]
pub struct ConnectError {
    pub addr: String,
    pub reason: String,
}

/// Connects a command-line client (kaikuctl, kaiku-load) to the service at `addr`: fails within
/// 5 s when nothing answers, gives each call 30 s, and carries `token` on every call.
pub async fn connect_client(addr: &str, token: &str) -> Result<AuthorizedChannel, ConnectError> {
    let error = |e: &dyn std::fmt::Display| ConnectError {
        addr: addr.to_owned(),
        reason: e.to_string(),
    };
    let channel = tonic::transport::Endpoint::from_shared(addr.to_owned())
        .map_err(|e| error(&e))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| error(&e))?;
    Ok(authorized(channel, token))
}
