//! Sign-in through the county's OpenID Connect provider: the authorization code flow with PKCE
//! (RFC 7636), state and nonce. The ID token is verified against the provider's JWKS (RS256 or
//! ES256 only), its issuer, audience (our client id), expiry and nonce. The person's role and
//! unit subtrees come from two claims the county configures at its provider (defaults
//! `kaiku_role` and `kaiku_units`); without a known role nobody is signed in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::roles::StaffRole;
use crate::session::{Staff, random_token};

/// How long a person may take at the provider's sign-in page.
pub const PENDING_LIFETIME: Duration = Duration::from_secs(600);
/// Most sign-ins waiting for the provider at once; more are refused (unauthenticated requests
/// must not grow the map without bound).
const MAX_PENDING: usize = 10_000;

#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL, e.g. https://tunnistus.example.fi/realms/county.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends the person back: <public url>/login/oidc/callback.
    pub redirect_uri: String,
    /// The claim that names the person in Kaiku (case assignments, "assigned to me", audit).
    pub subject_claim: String,
    pub role_claim: String,
    pub units_claim: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider {0} is not https (only a loopback address may use http)")]
    NotHttps(String),
    #[error("the identity provider did not answer usefully: {0}")]
    Provider(String),
    #[error("the sign-in has expired or was not started in this browser; start again")]
    UnknownState,
    #[error("too many sign-ins are under way; try again in a moment")]
    Busy,
    #[error("the identity provider's token does not verify: {0}")]
    Token(String),
    #[error(
        "your account has no Kaiku role ({claim} is {value:?}); ask the county's administrator"
    )]
    NoRole { claim: String, value: String },
    #[error("your account has no {claim} for Kaiku to know you by; ask the county's administrator")]
    NoSubject { claim: String },
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

struct Pending {
    nonce: String,
    verifier: String,
    next: String,
    started: Instant,
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// How long one call to the provider may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Oidc {
    settings: OidcSettings,
    http: HttpsClient,
    /// Fetched on first use, so the console starts while the provider is unreachable.
    discovery: RwLock<Option<Discovery>>,
    pending: Mutex<HashMap<String, Pending>>,
}

/// https, or http to this machine only (tests, a provider on the same host).
fn is_secure_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(host)) => {
            // `authority` also holds any user info: only a bare loopback host counts.
            let bare = uri.authority().is_some_and(|a| !a.as_str().contains('@'));
            bare && matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        }
        _ => false,
    }
}

/// The PKCE challenge of a verifier: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[derive(Debug, Deserialize)]
struct TokenReply {
    id_token: String,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Oidc, OidcError> {
        for url in [&settings.issuer, &settings.redirect_uri] {
            if !is_secure_url(url) {
                return Err(OidcError::NotHttps(url.clone()));
            }
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|e| OidcError::Provider(format!("no trusted root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new()).build(https);
        Ok(Oidc {
            settings,
            http,
            discovery: RwLock::new(None),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// One call to the provider: its JSON answer, or what went wrong.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<T, OidcError> {
        let url = request.uri().to_string();
        let fail = |e: &dyn std::fmt::Display| OidcError::Provider(format!("{url}: {e}"));
        let reply = tokio::time::timeout(CALL_TIMEOUT, self.http.request(request))
            .await
            .map_err(|e| fail(&e))?
            .map_err(|e| fail(&e))?;
        let status = reply.status();
        let body = tokio::time::timeout(CALL_TIMEOUT, reply.into_body().collect())
            .await
            .map_err(|e| fail(&e))?
            .map_err(|e| fail(&e))?
            .to_bytes();
        if !status.is_success() {
            return Err(fail(&format!("HTTP {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| fail(&e))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let request = http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| OidcError::Provider(format!("{url}: {e}")))?;
        self.call(request).await
    }

    async fn discovery(&self) -> Result<Discovery, OidcError> {
        if let Some(found) = self.discovery.read().await.clone() {
            return Ok(found);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let found: Discovery = self.get_json(&url).await?;
        if found.issuer.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/') {
            return Err(OidcError::Provider(format!(
                "the discovery document names issuer {:?}, not {:?}",
                found.issuer, self.settings.issuer
            )));
        }
        for endpoint in [
            &found.authorization_endpoint,
            &found.token_endpoint,
            &found.jwks_uri,
        ] {
            if !is_secure_url(endpoint) {
                return Err(OidcError::NotHttps(endpoint.clone()));
            }
        }
        *self.discovery.write().await = Some(found.clone());
        Ok(found)
    }

    /// Where to send the person to sign in, and the state to keep in their browser (a cookie
    /// the callback must bring back, so nobody can finish a sign-in they did not start);
    /// `next` is where they return to afterwards.
    pub async fn begin(&self, next: &str) -> Result<(String, String), OidcError> {
        let discovery = self.discovery().await?;
        let state = random_token();
        let pending = Pending {
            nonce: random_token(),
            verifier: random_token(),
            next: next.to_owned(),
            started: Instant::now(),
        };
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &pkce_challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256");
        let mut all = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, p| p.started.elapsed() < PENDING_LIFETIME);
        if all.len() >= MAX_PENDING {
            return Err(OidcError::Busy);
        }
        all.insert(state.clone(), pending);
        let separator = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{separator}{}",
            discovery.authorization_endpoint,
            query.finish()
        );
        Ok((url, state))
    }

    /// The person the provider vouches for after it sent them back with `code` and `state`,
    /// and where they were going.
    /// `browser_state` is the state the browser kept in its cookie; it must be the callback's.
    pub async fn complete(
        &self,
        code: &str,
        state: &str,
        browser_state: Option<&str>,
    ) -> Result<(Staff, String), OidcError> {
        if !browser_state.is_some_and(|kept| crate::session::same_token(kept, state)) {
            return Err(OidcError::UnknownState);
        }
        let pending = {
            let mut all = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            all.remove(state)
                .filter(|p| p.started.elapsed() < PENDING_LIFETIME)
                .ok_or(OidcError::UnknownState)?
        };
        let discovery = self.discovery().await?;
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("code_verifier", &pending.verifier)
            .finish();
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_urlencoded::byte_serialize(self.settings.client_id.as_bytes()).collect::<String>(),
            form_urlencoded::byte_serialize(self.settings.client_secret.as_bytes())
                .collect::<String>()
        ));
        let request = http::Request::post(&discovery.token_endpoint)
            .header("authorization", format!("Basic {credentials}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?;
        let tokens: TokenReply = self.call(request).await?;
        let keys: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        let claims = self.verify(&tokens.id_token, &keys, &pending.nonce)?;
        Ok((self.staff(&claims)?, pending.next))
    }

    fn verify(
        &self,
        id_token: &str,
        keys: &JwkSet,
        nonce: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
        let token_error = |e: &dyn std::fmt::Display| OidcError::Token(e.to_string());
        let header = jsonwebtoken::decode_header(id_token).map_err(|e| token_error(&e))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(OidcError::Token(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let jwk = match &header.kid {
            Some(kid) => keys.find(kid),
            None => keys.keys.first(),
        }
        .ok_or_else(|| OidcError::Token("no key of the provider's JWKS signed it".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| token_error(&e))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = 30;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            id_token,
            &key,
            &validation,
        )
        .map_err(|e| token_error(&e))?;
        let token_nonce = data.claims.get("nonce").and_then(|n| n.as_str());
        if token_nonce != Some(nonce) {
            return Err(OidcError::Token("the nonce is not this sign-in's".into()));
        }
        Ok(data.claims)
    }

    fn staff(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Staff, OidcError> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        let role_value = text(&self.settings.role_claim);
        let role = StaffRole::from_claim(role_value).ok_or_else(|| OidcError::NoRole {
            claim: self.settings.role_claim.clone(),
            value: role_value.to_owned(),
        })?;
        let units: Vec<String> = match claims.get(&self.settings.units_claim) {
            Some(serde_json::Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        // A unit manager without units would read the whole county: refuse instead.
        if role == StaffRole::UnitManager && units.is_empty() {
            return Err(OidcError::NoRole {
                claim: self.settings.units_claim.clone(),
                value: String::new(),
            });
        }
        let subject = text(&self.settings.subject_claim).to_owned();
        if subject.is_empty() {
            return Err(OidcError::NoSubject {
                claim: self.settings.subject_claim.clone(),
            });
        }
        let name = [text("name"), text("preferred_username"), subject.as_str()]
            .into_iter()
            .find(|n| !n.is_empty())
            .unwrap_or_default()
            .to_owned();
        Ok(Staff {
            subject,
            name,
            role,
            units,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_provider_must_be_https_unless_on_this_machine() {
        let settings = |issuer: &str| OidcSettings {
            issuer: issuer.into(),
            client_id: "kaiku".into(),
            client_secret: "s".into(),
            redirect_uri: "https://kaiku.example.fi/login/oidc/callback".into(),
            subject_claim: "sub".into(),
            role_claim: "kaiku_role".into(),
            units_claim: "kaiku_units".into(),
        };
        assert!(matches!(
            Oidc::new(settings("http://idp.example.fi")),
            Err(OidcError::NotHttps(_))
        ));
        assert!(Oidc::new(settings("https://idp.example.fi")).is_ok());
        assert!(Oidc::new(settings("http://127.0.0.1:8443")).is_ok());
    }

    fn provider_on_this_machine(subject_claim: &str) -> Oidc {
        let settings = OidcSettings {
            issuer: "http://127.0.0.1:8443".into(),
            client_id: "kaiku".into(),
            client_secret: "s".into(),
            redirect_uri: "http://127.0.0.1:8090/login/oidc/callback".into(),
            subject_claim: subject_claim.into(),
            role_claim: "kaiku_role".into(),
            units_claim: "kaiku_units".into(),
        };
        match Oidc::new(settings) {
            Ok(oidc) => oidc,
            Err(e) => panic!("a loopback provider is accepted: {e}"),
        }
    }

    fn claims(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        match json {
            serde_json::Value::Object(map) => map,
            other => panic!("claims are an object, not {other}"),
        }
    }

    #[test]
    fn the_person_is_named_by_the_configured_claim() {
        // Entra ID's `sub` is opaque and differs per application; its user name is what a
        // handler types when assigning a case.
        let token = claims(serde_json::json!({
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "preferred_username": "maija.manninen@hyvinvointialue.fi",
            "name": "Maija Manninen",
            "kaiku_role": "county-staff",
        }));

        let by_sub = provider_on_this_machine("sub").staff(&token);
        let by_user_name = provider_on_this_machine("preferred_username").staff(&token);

        assert!(matches!(&by_sub, Ok(staff)
            if staff.subject == "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
                && staff.name == "Maija Manninen"));
        assert!(matches!(&by_user_name, Ok(staff)
            if staff.subject == "maija.manninen@hyvinvointialue.fi"
                && staff.name == "Maija Manninen"));
    }

    #[test]
    fn a_token_without_the_configured_claim_signs_nobody_in() {
        let token = claims(serde_json::json!({
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "preferred_username": "",
            "kaiku_role": "county-staff",
        }));

        for claim in ["preferred_username", "email"] {
            let refused = provider_on_this_machine(claim).staff(&token);
            assert!(
                matches!(&refused, Err(OidcError::NoSubject { claim: named }) if named == claim),
                "{claim}: {refused:?}"
            );
        }
        let message = OidcError::NoSubject {
            claim: "email".into(),
        }
        .to_string();
        assert!(message.contains("email"), "{message}");
    }
}
