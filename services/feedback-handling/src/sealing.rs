//! Sealing a case's content (the respondent's message and contact details) with AES-256-GCM, so
//! the event log and its backups hold only ciphertext. Keys come from a file of `<key id>
//! <base64 of 32 bytes>` lines; the first seals, every one opens, so a key is rotated by putting
//! a new one first and dropping the old one once no unerased case needs it.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use kaiku_proto::handling::v1::{CaseContent, SealedContent};
use prost::Message;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error("content keys file {path}: {reason}")]
    Keys { path: String, reason: String },
    #[error("the case content was sealed with key {0:?}, which is not in the content keys file")]
    UnknownKey(String),
    #[error("the case content does not open with key {0:?} (altered, or another case's)")]
    Tampered(String),
    #[error("no random nonce available")]
    Random,
}

pub struct ContentKeys {
    current: String,
    keys: BTreeMap<String, LessSafeKey>,
    random: SystemRandom,
}

impl std::fmt::Debug for ContentKeys {
    // Key material never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ContentKeys {
    pub fn from_file(path: &Path) -> Result<Self, SealingError> {
        let text = std::fs::read_to_string(path).map_err(|e| SealingError::Keys {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|reason| SealingError::Keys {
            path: path.display().to_string(),
            reason,
        })
    }

    /// `<key id> <base64 key>` per line; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut current = None;
        let mut keys = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, encoded) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("line {}: write `<key id> <base64 key>`", number + 1))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| format!("line {}: the key is not base64", number + 1))?;
            let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| {
                format!(
                    "line {}: a key is 32 random bytes (openssl rand -base64 32), got {}",
                    number + 1,
                    bytes.len()
                )
            })?;
            if keys.insert(id.to_owned(), LessSafeKey::new(key)).is_some() {
                return Err(format!("line {}: key id {id:?} appears twice", number + 1));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or("no key: add a line `<key id> <base64 key>`")?;
        Ok(Self {
            current,
            keys,
            random: SystemRandom::new(),
        })
    }

    /// Seals `content` for `case_id` (associated data: a sealed content cannot be moved to
    /// another case).
    pub fn seal(
        &self,
        case_id: &str,
        content: &CaseContent,
    ) -> Result<SealedContent, SealingError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| SealingError::UnknownKey(self.current.clone()))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealingError::Random)?;
        let mut in_out = content.encode_to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(case_id.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| SealingError::Random)?;
        Ok(SealedContent {
            key_id: self.current.clone(),
            nonce: nonce.to_vec(),
            ciphertext: in_out,
        })
    }

    pub fn open(&self, case_id: &str, sealed: &SealedContent) -> Result<CaseContent, SealingError> {
        let key = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| SealingError::UnknownKey(sealed.key_id.clone()))?;
        let tampered = || SealingError::Tampered(sealed.key_id.clone());
        let nonce = Nonce::try_assume_unique_for_key(&sealed.nonce).map_err(|_| tampered())?;
        let mut in_out = sealed.ciphertext.clone();
        let plain = key
            .open_in_place(nonce, Aad::from(case_id.as_bytes()), &mut in_out)
            .map_err(|_| tampered())?;
        CaseContent::decode(&plain[..]).map_err(|_| tampered())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaiku_proto::handling::v1::ContactDetails;

    const KEYS: &str = "# rotated 2026-11\nk2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nk1 HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=\n";

    fn content() -> CaseContent {
        CaseContent {
            message: "Soittakaa minulle".into(),
            contact: Some(ContactDetails {
                name: "Maija".into(),
                email: "maija@example.fi".into(),
                phone: String::new(),
            }),
        }
    }

    #[test]
    fn sealed_content_opens_only_for_its_case_and_hides_the_text() {
        let keys = ContentKeys::parse(KEYS).expect("keys");
        let sealed = keys.seal("case-1", &content()).expect("seals");
        assert_eq!(sealed.key_id, "k2");
        let bytes = String::from_utf8_lossy(&sealed.ciphertext).into_owned();
        assert!(!bytes.contains("maija") && !bytes.contains("Soittakaa"));
        assert_eq!(keys.open("case-1", &sealed).expect("opens"), content());
        assert!(matches!(
            keys.open("case-2", &sealed),
            Err(SealingError::Tampered(_))
        ));
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(keys.open("case-1", &altered).is_err());
        // Two seals of the same content differ (fresh nonce).
        assert_ne!(
            keys.seal("case-1", &content()).expect("seals").ciphertext,
            sealed.ciphertext
        );
    }

    #[test]
    fn an_older_key_still_opens_and_a_missing_one_is_named() {
        let old =
            ContentKeys::parse("k1 HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=").expect("keys");
        let sealed = old.seal("c", &content()).expect("seals");
        let rotated = ContentKeys::parse(KEYS).expect("keys");
        assert_eq!(rotated.open("c", &sealed).expect("opens"), content());
        let only_new =
            ContentKeys::parse("k3 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("keys");
        assert!(
            matches!(only_new.open("c", &sealed), Err(SealingError::UnknownKey(id)) if id == "k1")
        );
    }

    #[test]
    fn bad_key_files_are_refused_with_the_line() {
        for (text, expected) in [
            ("", "no key"),
            ("k1", "line 1"),
            ("k1 not-base64!", "not base64"),
            ("k1 AAEC", "32 random bytes"),
            (
                "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nk1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                "twice",
            ),
        ] {
            let error = ContentKeys::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
