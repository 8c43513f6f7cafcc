//! Every way a token can be wrong is refused with its own reason; the right ones become a
//! caller with exactly the grants they carry. Keys in testdata/ are test-only, made with openssl.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use kaiku_auth::{
    Access, ApiKeys, AuthError, Authenticator, JwtVerifier, Principal, Scope, new_api_key,
};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.hyvinvointialue.example";
const AUDIENCE: &str = "kaiku";

fn testdata(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "manager-17",
        "exp": now() + 600,
        "nbf": now() - 10,
        "scope": "openid kaiku.analytics-read kaiku.export",
        "kaiku_units": ["area-a"],
    })
}

fn signed(claims: &Value, key: &str, algorithm: Algorithm) -> String {
    let key = match algorithm {
        Algorithm::ES256 => EncodingKey::from_ec_pem(testdata(key).as_bytes()),
        _ => EncodingKey::from_rsa_pem(testdata(key).as_bytes()),
    }
    .expect("test key");
    encode(&Header::new(algorithm), claims, &key).expect("signs")
}

fn authenticator() -> Authenticator {
    let jwt = JwtVerifier::new(
        &[testdata("idp-rsa.pub"), testdata("other-ec.pub")],
        ISSUER,
        AUDIENCE,
    )
    .expect("verifier");
    Authenticator::new(Some(jwt), ApiKeys::default()).expect("authenticator")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_valid_token_is_the_caller_with_its_grants() {
    let principal = authenticator()
        .authenticate(Some(&bearer(&signed(
            &claims(),
            "idp-rsa.key",
            Algorithm::RS256,
        ))))
        .expect("valid");
    assert_eq!(
        principal,
        Principal {
            subject: "manager-17".into(),
            scopes: vec![Scope::AnalyticsRead, Scope::Export],
            surveys: vec![],
            channels: vec![],
            unit_subtrees: vec!["area-a".into()],
        }
    );
    // The second configured key (P-256) verifies too: key rotation.
    assert!(
        authenticator()
            .authenticate(Some(&bearer(&signed(
                &claims(),
                "other-ec.key",
                Algorithm::ES256
            ))))
            .is_ok()
    );
}

#[test]
fn each_wrong_token_is_refused_with_its_reason() {
    let with = |field: &str, value: Value| {
        let mut c = claims();
        c[field] = value;
        signed(&c, "idp-rsa.key", Algorithm::RS256)
    };
    let without = |field: &str| {
        let mut c = claims();
        c.as_object_mut().map(|o| o.remove(field));
        signed(&c, "idp-rsa.key", Algorithm::RS256)
    };
    let unsigned = |header: Value| {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            engine.encode(header.to_string()),
            engine.encode(claims().to_string())
        )
    };
    // HS256 with the identity provider's public key as the shared secret: the classic
    // algorithm confusion attack.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(testdata("idp-rsa.pub").as_bytes()),
    )
    .expect("signs");
    let cases: Vec<(&str, Option<String>, AuthError)> = vec![
        ("no header", None, AuthError::Missing),
        (
            "not bearer",
            Some("Basic dXNlcjpwdw==".into()),
            AuthError::Missing,
        ),
        ("empty bearer", Some("Bearer ".into()), AuthError::Missing),
        ("garbage", Some(bearer("not.a.jwt")), AuthError::Malformed),
        (
            "expired",
            Some(bearer(&with("exp", json!(now() - 3600)))),
            AuthError::Expired,
        ),
        (
            "not yet valid",
            Some(bearer(&with("nbf", json!(now() + 3600)))),
            AuthError::NotYetValid,
        ),
        (
            "wrong audience",
            Some(bearer(&with("aud", json!("other-system")))),
            AuthError::WrongAudience,
        ),
        (
            "wrong issuer",
            Some(bearer(&with("iss", json!("https://evil.example")))),
            AuthError::WrongIssuer,
        ),
        (
            "no subject",
            Some(bearer(&without("sub"))),
            AuthError::MissingClaim("sub".into()),
        ),
        (
            "no expiry",
            Some(bearer(&without("exp"))),
            AuthError::MissingClaim("exp".into()),
        ),
        (
            "wrongly signed",
            Some(bearer(&signed(
                &claims(),
                "attacker-rsa.key",
                Algorithm::RS256,
            ))),
            AuthError::BadSignature,
        ),
        (
            "alg none",
            Some(bearer(&unsigned(json!({"alg": "none", "typ": "JWT"})))),
            AuthError::Malformed,
        ),
        (
            "alg HS256 with the public key",
            Some(bearer(&confused)),
            AuthError::Algorithm("HS256".into()),
        ),
    ];
    let auth = authenticator();
    for (name, header, expected) in cases {
        assert_eq!(
            auth.authenticate(header.as_deref()),
            Err(expected),
            "{name}"
        );
    }
}

#[test]
fn api_keys_are_checked_against_their_hashes() {
    let (key, entry) = new_api_key("web-form", vec![Scope::Submit]);
    assert!(
        !serde_json::to_string(&entry)
            .expect("json")
            .contains(&key[20..]),
        "only the hash is stored"
    );
    let keys =
        ApiKeys::parse(&serde_json::to_string(&vec![entry.clone()]).expect("json")).expect("keys");
    let auth = Authenticator::new(None, keys).expect("authenticator");
    let principal = auth.authenticate(Some(&bearer(&key))).expect("valid key");
    assert_eq!(
        (principal.subject.as_str(), principal.scopes.as_slice()),
        ("api-key:web-form", &[Scope::Submit][..])
    );

    let mut altered = key.clone();
    altered.pop();
    altered.push(if key.ends_with('0') { '1' } else { '0' });
    assert_eq!(
        auth.authenticate(Some(&bearer(&altered))),
        Err(AuthError::UnknownApiKey)
    );
    assert_eq!(
        auth.authenticate(Some(&bearer("kaiku_nosuchid_secret"))),
        Err(AuthError::UnknownApiKey)
    );
    assert_eq!(
        auth.authenticate(Some(&bearer("kaiku_"))),
        Err(AuthError::Malformed)
    );
    // Without a JWT verifier, a JWT is not a credential at all.
    assert_eq!(
        auth.authenticate(Some(&bearer("a.b.c"))),
        Err(AuthError::Malformed)
    );
}

#[test]
fn bad_configuration_is_refused_at_start() {
    assert!(matches!(
        Authenticator::new(None, ApiKeys::default()),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        JwtVerifier::new(&["not a key".into()], ISSUER, AUDIENCE),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        JwtVerifier::new(&[testdata("idp-rsa.pub")], "", AUDIENCE),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        ApiKeys::parse(r#"[{"id": "a_b", "name": "x", "sha256": "00", "scopes": []}]"#),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        ApiKeys::parse(r#"[{"id": "a", "name": "x", "sha256": "00", "scopes": ["root"]}]"#),
        Err(AuthError::Config(_))
    ));
}

fn policy(path: &str) -> Access {
    match path {
        "/grpc.health.v1.Health/Check" => Access::Open,
        "/kaiku.analytics.v1.Analytics/GetNps" => Access::AnyOf(&[Scope::AnalyticsRead]),
        _ => Access::AnyOf(&[Scope::SurveyAdmin]),
    }
}

#[test]
fn the_layer_decision_opens_probes_and_checks_scopes() {
    let auth = authenticator();
    let token = bearer(&signed(&claims(), "idp-rsa.key", Algorithm::RS256));
    let decide =
        |path: &str, header: Option<&str>| kaiku_auth::layer_decision(&auth, policy, path, header);
    assert!(matches!(
        decide("/grpc.health.v1.Health/Check", None),
        Ok(None)
    ));
    let status = decide("/kaiku.analytics.v1.Analytics/GetNps", None).expect_err("no token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(decide("/kaiku.analytics.v1.Analytics/GetNps", Some(&token)).is_ok());
    let status = decide(
        "/kaiku.survey.v1.SurveyDefinition/PublishVersion",
        Some(&token),
    )
    .expect_err("reader");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert!(status.message().contains("kaiku.survey-admin"));
}
