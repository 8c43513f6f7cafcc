//! Bearer JWTs from the county's identity provider, verified against its public keys (PEM,
//! RSA or P-256), with issuer, audience, expiry and not-before checked. Only RS256 and ES256
//! are accepted: never `none`, and never an HMAC algorithm, which would let a public key be
//! used as a shared secret.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::AuthError;
use crate::grants::{Principal, Scope};

/// Accepted clock difference between the identity provider and us.
const LEEWAY_SECONDS: u64 = 30;

pub struct JwtVerifier {
    keys: Vec<(Algorithm, DecodingKey)>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The claims Kaiku reads.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    /// Space-separated, e.g. "kaiku.analytics-read kaiku.export".
    #[serde(default)]
    scope: String,
    #[serde(default)]
    kaiku_units: Vec<String>,
    #[serde(default)]
    kaiku_surveys: Vec<String>,
    #[serde(default)]
    kaiku_channels: Vec<String>,
}

impl JwtVerifier {
    /// `pems`: the identity provider's public keys (several while it rotates keys).
    pub fn new(pems: &[String], issuer: &str, audience: &str) -> Result<JwtVerifier, AuthError> {
        if issuer.trim().is_empty() || audience.trim().is_empty() {
            return Err(AuthError::Config(
                "JWT issuer and audience are required".into(),
            ));
        }
        let mut keys = Vec::new();
        for (i, pem) in pems.iter().enumerate() {
            let key = if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                (Algorithm::RS256, key)
            } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                (Algorithm::ES256, key)
            } else {
                return Err(AuthError::Config(format!(
                    "JWT key {} is not an RSA or P-256 public key in PEM",
                    i + 1
                )));
            };
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(AuthError::Config("no JWT public keys".into()));
        }
        Ok(JwtVerifier {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let mut last = AuthError::BadSignature;
        for (algorithm, key) in self.keys.iter().filter(|(a, _)| *a == header.alg) {
            let mut validation = Validation::new(*algorithm);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_nbf = true;
            validation.set_issuer(&[&self.issuer]);
            validation.set_audience(&[&self.audience]);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return principal(data.claims),
                // Another key may have signed it.
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                    last = AuthError::BadSignature
                }
                Err(e) => return Err(classify(e.kind())),
            }
        }
        Err(last)
    }
}

fn classify(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
        _ => AuthError::Malformed,
    }
}

fn principal(claims: Claims) -> Result<Principal, AuthError> {
    let subject = claims
        .sub
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::MissingClaim("sub".into()))?;
    Ok(Principal {
        subject,
        // Unknown scopes are ignored: the identity provider may carry other systems' scopes.
        scopes: claims
            .scope
            .split_whitespace()
            .filter_map(Scope::from_claim)
            .collect(),
        surveys: claims.kaiku_surveys,
        channels: claims.kaiku_channels,
        unit_subtrees: claims.kaiku_units,
    })
}
