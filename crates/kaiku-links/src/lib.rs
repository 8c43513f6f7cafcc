#![doc = include_str!("../README.md")]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";
/// Shorter secrets are refused: 32 bytes is the HMAC-SHA-256 block-strength guidance.
const MIN_SECRET_BYTES: usize = 32;

/// What a link's form is for. Codes are the read models' codes (`qr`, `client`, `fi`, ...);
/// response-intake validates them against the survey when the answers arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkContext {
    pub survey_id: String,
    pub unit_id: String,
    pub channel: String,
    pub respondent_role: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub professional_group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub age_band: String,
    /// The language the form opens in; the respondent may switch.
    pub language: String,
}

/// Where the web form serves a signed link's pages (web-form's routes), for the people who
/// hand links and printouts out (kaikuctl, the console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLinks {
    /// The respondent's form; none for paper, which is typed in by staff.
    pub form: Option<String>,
    pub qr_svg: Option<String>,
    pub qr_png: Option<String>,
    /// A poster with the QR code for the premises; none for paper.
    pub poster: Option<String>,
    /// The printable paper form (in `language`).
    pub paper_form: String,
    /// Fast entry of returned paper forms; only for the paper channel.
    pub paper_entry: Option<String>,
}

impl ChannelLinks {
    /// The pages of `token` (signed for `channel`) under the web form's `public_url`.
    pub fn new(public_url: &str, token: &str, channel: &str, language: &str) -> ChannelLinks {
        let base = public_url.trim_end_matches('/');
        let paper = channel == "paper";
        let page = |path: &str| (!paper).then(|| format!("{base}/f/{token}{path}"));
        ChannelLinks {
            form: page(""),
            qr_svg: page("/qr.svg"),
            qr_png: page("/qr.png"),
            poster: page("/poster.pdf"),
            paper_form: format!("{base}/f/{token}/paper.pdf?lang={language}"),
            paper_entry: paper.then(|| format!("{base}/paper/{token}")),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("the link is malformed: {0}")]
    Malformed(&'static str),
    #[error("the link was signed with key {0:?}, which this server does not have")]
    UnknownKey(String),
    #[error("the link's signature does not match its content: it was altered or not made by us")]
    BadSignature,
    #[error("the link's context is incomplete: {0} is missing")]
    Incomplete(&'static str),
    #[error("KAIKU_LINK_KEYS: {0}")]
    KeySpec(String),
}

/// Named secrets: the first signs new links, every one verifies.
#[derive(Clone)]
pub struct LinkKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for LinkKeys {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("LinkKeys").field("key_ids", &ids).finish()
    }
}

impl LinkKeys {
    /// Parses `id:<base64 secret>[,id:<base64 secret>...]`.
    pub fn parse(spec: &str) -> Result<LinkKeys, LinkError> {
        let mut keys = Vec::new();
        for (i, entry) in spec.split(',').map(str::trim).enumerate() {
            let Some((id, secret)) = entry.split_once(':') else {
                return Err(LinkError::KeySpec(format!(
                    "entry {} is not id:base64-secret",
                    i + 1
                )));
            };
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(LinkError::KeySpec(format!(
                    "entry {}: the key id must be letters, digits or '-'",
                    i + 1
                )));
            }
            let secret = STANDARD.decode(secret).map_err(|e| {
                LinkError::KeySpec(format!("key {id}: the secret is not base64 ({e})"))
            })?;
            if secret.len() < MIN_SECRET_BYTES {
                return Err(LinkError::KeySpec(format!(
                    "key {id}: the secret has {} bytes, at least {MIN_SECRET_BYTES} are needed",
                    secret.len()
                )));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(LinkError::KeySpec(format!("key {id} is listed twice")));
            }
            keys.push((id.to_owned(), secret));
        }
        if keys.is_empty() {
            return Err(LinkError::KeySpec("no keys".into()));
        }
        Ok(LinkKeys { keys })
    }

    /// The token for `context`, to put in a link or QR code.
    pub fn sign(&self, context: &LinkContext) -> Result<String, LinkError> {
        check(context)?;
        let (id, secret) = &self.keys[0];
        let json = serde_json::to_vec(context)
            .map_err(|_| LinkError::Malformed("context cannot be encoded"))?;
        let signed = format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(json));
        let signature = URL_SAFE_NO_PAD.encode(mac(secret, &signed).finalize().into_bytes());
        Ok(format!("{signed}.{signature}"))
    }

    /// The context of a token this server (or one sharing a key) signed.
    pub fn verify(&self, token: &str) -> Result<LinkContext, LinkError> {
        let mut parts = token.split('.');
        let (Some(version), Some(id), Some(payload), Some(signature), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(LinkError::Malformed(
                "expected version.key.context.signature",
            ));
        };
        if version != VERSION {
            return Err(LinkError::Malformed("unknown version"));
        }
        let Some((_, secret)) = self.keys.iter().find(|(known, _)| known == id) else {
            return Err(LinkError::UnknownKey(id.to_owned()));
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Malformed("the signature is not base64url"))?;
        // Checked before the content is even decoded; verify_slice compares in constant time.
        mac(secret, &format!("{version}.{id}.{payload}"))
            .verify_slice(&signature)
            .map_err(|_| LinkError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| LinkError::Malformed("the context is not base64url"))?;
        let context: LinkContext = serde_json::from_slice(&json)
            .map_err(|_| LinkError::Malformed("the context is not a link context"))?;
        check(&context)?;
        Ok(context)
    }
}

fn mac(secret: &[u8], signed: &str) -> HmacSha256 {
    // HMAC takes a key of any length, so this cannot fail; parse() has checked it is long.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(signed.as_bytes());
    mac
}

fn check(context: &LinkContext) -> Result<(), LinkError> {
    for (value, name) in [
        (&context.survey_id, "survey_id"),
        (&context.unit_id, "unit_id"),
        (&context.channel, "channel"),
        (&context.respondent_role, "respondent_role"),
        (&context.language, "language"),
    ] {
        if value.trim().is_empty() {
            return Err(LinkError::Incomplete(name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    fn keys(spec: &str) -> LinkKeys {
        LinkKeys::parse(spec).expect("valid key spec")
    }

    fn context() -> LinkContext {
        LinkContext {
            survey_id: "0190c1f2-0000-7000-8000-000000000001".into(),
            unit_id: "school-1".into(),
            channel: "qr".into(),
            respondent_role: "client".into(),
            professional_group: "kuraattori".into(),
            age_band: "age_13_17".into(),
            language: "sv".into(),
        }
    }

    #[test]
    fn a_signed_link_gives_back_its_context() {
        let keys = keys(&format!("k1:{}", secret(1)));
        let token = keys.sign(&context()).expect("signed");
        assert!(token.starts_with("v1.k1."));
        assert_eq!(keys.verify(&token), Ok(context()));
    }

    #[test]
    fn an_altered_context_or_signature_is_refused() {
        let keys = keys(&format!("k1:{}", secret(1)));
        let token = keys.sign(&context()).expect("signed");
        let parts: Vec<&str> = token.split('.').collect();
        // Another unit, re-encoded, with the original signature.
        let mut other = context();
        other.unit_id = "school-2".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).expect("json"));
        let forged = format!("v1.k1.{forged_payload}.{}", parts[3]);
        assert_eq!(keys.verify(&forged), Err(LinkError::BadSignature));
        // One signature character changed (not the last, whose low bits are padding).
        let mut signature = parts[3].to_owned();
        let flipped = if signature[5..6] == *"A" { "B" } else { "A" };
        signature.replace_range(5..6, flipped);
        let tampered = format!("v1.k1.{}.{signature}", parts[2]);
        assert_eq!(keys.verify(&tampered), Err(LinkError::BadSignature));
        // Signed with a key this server has under the same id but another secret.
        let stranger = LinkKeys::parse(&format!("k1:{}", secret(2))).expect("valid");
        assert_eq!(
            keys.verify(&stranger.sign(&context()).expect("signed")),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn malformed_and_unknown_links_say_why() {
        let keys = keys(&format!("k1:{}", secret(1)));
        let token = keys.sign(&context()).expect("signed");
        for (bad, expected) in [
            (
                "",
                LinkError::Malformed("expected version.key.context.signature"),
            ),
            (
                "v1.k1.abc",
                LinkError::Malformed("expected version.key.context.signature"),
            ),
            (
                &format!("{token}.extra"),
                LinkError::Malformed("expected version.key.context.signature"),
            ),
            (
                &token.replacen("v1.", "v2.", 1),
                LinkError::Malformed("unknown version"),
            ),
            (
                &token.replacen(".k1.", ".k9.", 1),
                LinkError::UnknownKey("k9".into()),
            ),
            (
                &format!("{}.!!", token.rsplit_once('.').map_or("", |(head, _)| head)),
                LinkError::Malformed("the signature is not base64url"),
            ),
        ] {
            assert_eq!(keys.verify(bad), Err(expected), "{bad:?}");
        }
        let mut incomplete = context();
        incomplete.unit_id = " ".into();
        assert_eq!(
            keys.sign(&incomplete),
            Err(LinkError::Incomplete("unit_id"))
        );
    }

    #[test]
    fn old_links_keep_working_after_a_new_key_is_added_first() {
        let old = keys(&format!("k1:{}", secret(1)));
        let printed = old.sign(&context()).expect("signed");
        let rotated = keys(&format!("k2:{}, k1:{}", secret(3), secret(1)));
        assert_eq!(rotated.verify(&printed), Ok(context()));
        assert!(
            rotated
                .sign(&context())
                .expect("signed")
                .starts_with("v1.k2.")
        );
        // Once k1 is retired, its links stop working, saying which key they need.
        let retired = keys(&format!("k2:{}", secret(3)));
        assert_eq!(
            retired.verify(&printed),
            Err(LinkError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn bad_key_specs_are_refused_naming_the_problem() {
        let cases = [
            ("", "entry 1 is not id:base64-secret"),
            ("k1", "entry 1 is not id:base64-secret"),
            (
                "k 1:abcd",
                "entry 1: the key id must be letters, digits or '-'",
            ),
            ("k1:***", "key k1: the secret is not base64"),
            (
                "k1:c2hvcnQ=",
                "key k1: the secret has 5 bytes, at least 32 are needed",
            ),
        ];
        for (spec, expected) in cases {
            match LinkKeys::parse(spec) {
                Err(LinkError::KeySpec(message)) => {
                    assert!(message.starts_with(expected), "{spec:?}: {message}")
                }
                other => panic!("{spec:?}: {other:?}"),
            }
        }
        let twice = format!("k1:{},k1:{}", secret(1), secret(2));
        assert_eq!(
            LinkKeys::parse(&twice).map(|_| ()),
            Err(LinkError::KeySpec("key k1 is listed twice".into()))
        );
        // Secrets never show in debug output.
        let shown = format!("{:?}", keys(&format!("k1:{}", secret(7))));
        assert!(
            !shown.contains(&secret(7)) && shown.contains("k1"),
            "{shown}"
        );
    }
}
