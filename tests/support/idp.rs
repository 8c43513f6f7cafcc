//! A small OpenID Connect provider for the console's sign-in tests: discovery, an authorization
//! endpoint that signs in whoever the test says (no login form), a token endpoint that checks
//! the client's secret, the code, its redirect URI and the PKCE verifier, and a JWKS. ID tokens
//! are RS256 with the test-only key in crates/kaiku-auth/testdata.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::TestResult;

pub const IDP_CLIENT_ID: &str = "kaiku-console";
pub const IDP_CLIENT_SECRET: &str = "test-client-secret";

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    claims: Value,
}

struct Idp {
    issuer: String,
    /// The claims of whoever signs in next (sub, name, kaiku_role, kaiku_units...).
    person: Mutex<Value>,
    /// Sign ID tokens with this key instead (a forger's), when set.
    forge_with: Mutex<Option<String>>,
    codes: Mutex<HashMap<String, Grant>>,
}

pub struct TestIdp {
    pub issuer: String,
    idp: Arc<Idp>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn testdata(name: &str) -> String {
    format!(
        "{}/../crates/kaiku-auth/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl TestIdp {
    pub async fn start() -> TestResult<TestIdp> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let issuer = format!("http://{}", listener.local_addr()?);
        let idp = Arc::new(Idp {
            issuer: issuer.clone(),
            person: Mutex::new(json!({})),
            forge_with: Mutex::new(None),
            codes: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&idp));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TestIdp { issuer, idp, task })
    }

    /// Whoever authorizes next is this person (their ID token's claims besides iss, aud, exp,
    /// iat and nonce).
    pub fn sign_in_as(&self, claims: Value) {
        *lock(&self.idp.person) = claims;
    }

    /// ID tokens are signed with `key` (a file in kaiku-auth's testdata) from now on.
    pub fn forge_with(&self, key: &str) {
        *lock(&self.idp.forge_with) = Some(key.to_owned());
    }

    /// What the console needs to trust this provider.
    pub fn console_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KAIKU_CONSOLE_OIDC_ISSUER", self.issuer.clone()),
            ("KAIKU_CONSOLE_OIDC_CLIENT_ID", IDP_CLIENT_ID.to_owned()),
            (
                "KAIKU_CONSOLE_OIDC_CLIENT_SECRET",
                IDP_CLIENT_SECRET.to_owned(),
            ),
        ]
    }
}

async fn discovery(State(idp): State<Arc<Idp>>) -> Response {
    axum::Json(json!({
        "issuer": idp.issuer,
        "authorization_endpoint": format!("{}/authorize", idp.issuer),
        "token_endpoint": format!("{}/token", idp.issuer),
        "jwks_uri": format!("{}/jwks", idp.issuer),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

async fn authorize(
    State(idp): State<Arc<Idp>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    if field("client_id") != IDP_CLIENT_ID
        || field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || field("code_challenge").is_empty()
        || field("state").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "invalid authorization request").into_response();
    }
    let code = uuid::Uuid::new_v4().to_string();
    lock(&idp.codes).insert(
        code.clone(),
        Grant {
            nonce: field("nonce"),
            challenge: field("code_challenge"),
            redirect_uri: field("redirect_uri"),
            claims: lock(&idp.person).clone(),
        },
    );
    let back = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &field("state"))
        .finish();
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            format!("{}?{back}", field("redirect_uri")),
        )],
    )
        .into_response()
}

async fn token(State(idp): State<Arc<Idp>>, headers: HeaderMap, body: Bytes) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{IDP_CLIENT_ID}:{IDP_CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return (StatusCode::UNAUTHORIZED, "invalid_client").into_response();
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let Some(grant) = lock(&idp.codes).remove(&field("code")) else {
        return (StatusCode::BAD_REQUEST, "invalid_grant").into_response();
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        <sha2::Sha256 as sha2::Digest>::digest(field("code_verifier").as_bytes()),
    );
    if field("grant_type") != "authorization_code"
        || field("redirect_uri") != grant.redirect_uri
        || challenge != grant.challenge
    {
        return (StatusCode::BAD_REQUEST, "invalid_grant").into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = grant.claims;
    if let Value::Object(map) = &mut claims {
        map.insert("iss".into(), json!(idp.issuer));
        map.insert("aud".into(), json!(IDP_CLIENT_ID));
        map.insert("iat".into(), json!(now));
        map.insert("exp".into(), json!(now + 300));
        map.insert("nonce".into(), json!(grant.nonce));
    }
    let key_file = lock(&idp.forge_with)
        .clone()
        .unwrap_or_else(|| "idp-rsa.key".into());
    let signed = std::fs::read(testdata(&key_file))
        .map_err(|e| e.to_string())
        .and_then(|pem| EncodingKey::from_rsa_pem(&pem).map_err(|e| e.to_string()))
        .and_then(|key| {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some("test-idp".into());
            jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())
        });
    match signed {
        Ok(id_token) => axum::Json(
            json!({ "access_token": "unused", "token_type": "Bearer", "id_token": id_token }),
        )
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

async fn jwks() -> Response {
    match std::fs::read_to_string(testdata("idp-rsa.jwks.json")) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
