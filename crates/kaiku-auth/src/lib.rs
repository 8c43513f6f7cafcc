#![doc = include_str!("../README.md")]

mod api_keys;
mod grants;
mod jwt;
mod layer;

pub use api_keys::{ApiKeyEntry, ApiKeys, new_api_key};
pub use grants::{Denied, Principal, Scope};
pub use jwt::JwtVerifier;
pub use layer::{
    Access, AuthLayer, AuthService, MethodPolicy, decide as layer_decision, is_probe,
    status_response,
};

/// Why a caller is not authenticated (UNAUTHENTICATED), or the configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm {0} is not accepted (RS256, ES256)")]
    Algorithm(String),
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token lacks the claim {0}")]
    MissingClaim(String),
    #[error("unknown API key")]
    UnknownApiKey,
    #[error("auth configuration: {0}")]
    Config(String),
}

/// Everything that can vouch for a caller: the identity provider's JWTs and the API keys.
#[derive(Debug, Default)]
pub struct Authenticator {
    jwt: Option<JwtVerifier>,
    api_keys: ApiKeys,
}

impl Authenticator {
    pub fn new(jwt: Option<JwtVerifier>, api_keys: ApiKeys) -> Result<Authenticator, AuthError> {
        if jwt.is_none() && api_keys.is_empty() {
            return Err(AuthError::Config(
                "neither JWT keys nor API keys are configured: nobody could call this service"
                    .into(),
            ));
        }
        Ok(Authenticator { jwt, api_keys })
    }

    /// The caller behind an `authorization` header value.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let token = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if token.starts_with("kaiku_") {
            return self.api_keys.verify(token);
        }
        match &self.jwt {
            Some(jwt) => jwt.verify(token),
            None => Err(AuthError::Malformed),
        }
    }
}

impl From<&AuthError> for tonic::Status {
    fn from(e: &AuthError) -> Self {
        tonic::Status::unauthenticated(e.to_string())
    }
}

impl From<&Denied> for tonic::Status {
    fn from(d: &Denied) -> Self {
        tonic::Status::permission_denied(d.to_string())
    }
}

/// Who a request says it comes from, for the audit record, without verifying anything and
/// without any secret: `api-key:<id>` for a service API key, `jwt:<sub>` for a JWT (its claimed
/// subject), `anonymous` with no token, `unreadable` for anything else.
pub fn claimed_caller(authorization: Option<&str>) -> String {
    let Some(token) = authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return "anonymous".to_owned();
    };
    if let Some(rest) = token.strip_prefix("kaiku_") {
        return match rest.split_once('_') {
            Some((id, _secret)) if !id.is_empty() => format!("api-key:{id}"),
            _ => "unreadable".to_owned(),
        };
    }
    #[derive(serde::Deserialize)]
    struct Subject {
        sub: String,
    }
    match jsonwebtoken::dangerous::insecure_decode_claims::<Subject>(token) {
        Ok(claims) => format!("jwt:{}", claims.sub),
        Err(_) => "unreadable".to_owned(),
    }
}

/// The caller of a request the layer let through.
pub fn principal<T>(request: &tonic::Request<T>) -> Option<&Principal> {
    request.extensions().get::<Principal>()
}
