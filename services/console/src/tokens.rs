//! The console calls survey-definition and analytics as the signed-in person, not as itself:
//! for each session it signs short-lived JWTs carrying exactly that person's scopes and units,
//! and the services verify them like any identity provider's (KAIKU_AUTH_JWT_PUBLIC_KEYS with
//! the console's public key, KAIKU_AUTH_JWT_ISSUER = its issuer). So analytics itself enforces
//! the unit scope, and the audit record names the person (ADR 0012).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::session::Staff;

/// How long a service token lives: a few calls' worth; a new one is signed per page.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(120);

pub struct TokenSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    scope: String,
    kaiku_units: &'a [String],
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("KAIKU_CONSOLE_SIGNING_KEY is not an RSA or P-256 private key in PEM (PKCS#8)")]
    Key,
    #[error("cannot sign a service token: {0}")]
    Sign(String),
}

impl TokenSigner {
    pub fn new(
        private_pem: &[u8],
        issuer: &str,
        audience: &str,
    ) -> Result<TokenSigner, TokenError> {
        let (key, algorithm) = if let Ok(key) = EncodingKey::from_ec_pem(private_pem) {
            (key, Algorithm::ES256)
        } else if let Ok(key) = EncodingKey::from_rsa_pem(private_pem) {
            (key, Algorithm::RS256)
        } else {
            return Err(TokenError::Key);
        };
        Ok(TokenSigner {
            key,
            algorithm,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// A token for `staff`'s calls during the next two minutes.
    pub fn sign(&self, staff: &Staff) -> Result<String, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| TokenError::Sign(e.to_string()))?
            .as_secs();
        let claims = Claims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: &staff.subject,
            iat: now,
            nbf: now,
            exp: now + TOKEN_LIFETIME.as_secs(),
            scope: staff.role.scopes().join(" "),
            kaiku_units: &staff.units,
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .map_err(|e| TokenError::Sign(e.to_string()))
    }
}
