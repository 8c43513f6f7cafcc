//! Sealing a case's content (the respondent's message and contact details) with AES-256-GCM, so
//! the event log and its backups hold only ciphertext. Keys come from a file of `<key id>
//! <base64 of 32 bytes>` lines; the first seals, every one opens, so a key is rotated by putting
//! a new one first and dropping the old one once no unerased case needs it.
//!
//! Handlers' texts (notes, replies, actions, the resolution) are sealed with a key of their own
//! case, which lives only inside that case's sealed content: erasing the content shreds the
//! texts too, in every copy of the stream, without touching the events that say what was done.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use kaiku_proto::handling::v1::case_event::Kind;
use kaiku_proto::handling::v1::{CaseContent, SealedContent, SealedText};
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
    #[error("a handler's text of case {0} does not open with the case's text key (altered)")]
    TextTampered(String),
    #[error("the text key of case {0} is not 32 bytes")]
    TextKey(String),
}

/// Fresh random bytes: nonces and text keys.
fn random_bytes<const N: usize>(random: &SystemRandom) -> Result<[u8; N], SealingError> {
    let mut bytes = [0u8; N];
    random.fill(&mut bytes).map_err(|_| SealingError::Random)?;
    Ok(bytes)
}

/// AES-256-GCM of `plain` with a fresh random nonce and the case id as associated data (a
/// sealed value cannot be moved to another case): the nonce and the ciphertext with its tag.
fn seal_bytes(
    key: &LessSafeKey,
    random: &SystemRandom,
    case_id: &str,
    plain: Vec<u8>,
) -> Result<(Vec<u8>, Vec<u8>), SealingError> {
    let nonce: [u8; NONCE_LEN] = random_bytes(random)?;
    let mut in_out = plain;
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(case_id.as_bytes()),
        &mut in_out,
    )
    .map_err(|_| SealingError::Random)?;
    Ok((nonce.to_vec(), in_out))
}

/// The plain bytes of what `seal_bytes` made, or `None` if altered or another case's.
fn open_bytes(
    key: &LessSafeKey,
    case_id: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Option<Vec<u8>> {
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut in_out = ciphertext.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(case_id.as_bytes()), &mut in_out)
        .ok()?;
    Some(plain.to_vec())
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
        let (nonce, ciphertext) = seal_bytes(key, &self.random, case_id, content.encode_to_vec())?;
        Ok(SealedContent {
            key_id: self.current.clone(),
            nonce,
            ciphertext,
        })
    }

    pub fn open(&self, case_id: &str, sealed: &SealedContent) -> Result<CaseContent, SealingError> {
        let key = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| SealingError::UnknownKey(sealed.key_id.clone()))?;
        open_bytes(key, case_id, &sealed.nonce, &sealed.ciphertext)
            .and_then(|plain| CaseContent::decode(&plain[..]).ok())
            .ok_or_else(|| SealingError::Tampered(sealed.key_id.clone()))
    }

    /// A new case's text key (32 random bytes), to be sealed inside its content.
    pub fn new_text_key(&self) -> Result<Vec<u8>, SealingError> {
        Ok(random_bytes::<32>(&self.random)?.to_vec())
    }
}

/// The key that seals one case's handler texts, taken from its opened content.
pub struct TextKey {
    case_id: String,
    key: LessSafeKey,
    random: SystemRandom,
}

impl TextKey {
    /// The case's text key, or `None` for a case opened before texts were sealed (its content
    /// has no key, and its texts stay as they were written).
    pub fn of_case(case_id: &str, content: &CaseContent) -> Result<Option<Self>, SealingError> {
        if content.text_key.is_empty() {
            return Ok(None);
        }
        let key = UnboundKey::new(&AES_256_GCM, &content.text_key)
            .map_err(|_| SealingError::TextKey(case_id.to_owned()))?;
        Ok(Some(Self {
            case_id: case_id.to_owned(),
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }))
    }

    fn seal(&self, text: &str) -> Result<SealedText, SealingError> {
        let (nonce, ciphertext) = seal_bytes(
            &self.key,
            &self.random,
            &self.case_id,
            text.as_bytes().to_vec(),
        )?;
        Ok(SealedText { nonce, ciphertext })
    }

    fn open(&self, sealed: &SealedText) -> Result<String, SealingError> {
        open_bytes(&self.key, &self.case_id, &sealed.nonce, &sealed.ciphertext)
            .and_then(|plain| String::from_utf8(plain).ok())
            .ok_or_else(|| SealingError::TextTampered(self.case_id.clone()))
    }

    /// Seals the handler's text of each event about to be appended (the plain field is emptied).
    pub fn seal_texts(&self, kinds: &mut [Kind]) -> Result<(), SealingError> {
        for kind in kinds {
            if let Some((text, sealed)) = handler_text(kind)
                && !text.is_empty()
            {
                *sealed = Some(self.seal(text)?);
                text.clear();
            }
        }
        Ok(())
    }

    /// Opens a loaded event's sealed handler text into its plain field, for the fold.
    pub fn open_text(&self, kind: &mut Kind) -> Result<(), SealingError> {
        if let Some((text, Some(sealed))) = handler_text(kind) {
            *text = self.open(sealed)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for TextKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextKey")
            .field("case_id", &self.case_id)
            .finish_non_exhaustive()
    }
}

/// The handler's text of an event and its sealed form, for the events that carry one.
pub fn handler_text(kind: &mut Kind) -> Option<(&mut String, &mut Option<SealedText>)> {
    match kind {
        Kind::NoteAdded(note) => Some((&mut note.text, &mut note.sealed_text)),
        Kind::Replied(reply) => Some((&mut reply.text, &mut reply.sealed_text)),
        Kind::ActionRecorded(action) => Some((&mut action.text, &mut action.sealed_text)),
        Kind::Closed(closed) => Some((&mut closed.resolution, &mut closed.sealed_resolution)),
        _ => None,
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
            text_key: Vec::new(),
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
    fn handler_texts_seal_with_their_cases_key_and_open_only_with_it() {
        let keys = ContentKeys::parse(KEYS).expect("keys");
        let keyed = CaseContent {
            text_key: keys.new_text_key().expect("key"),
            ..content()
        };
        let key = TextKey::of_case("case-1", &keyed)
            .expect("key")
            .expect("a new case has one");
        let mut kinds = vec![
            Kind::NoteAdded(kaiku_proto::handling::v1::CaseNoteAdded {
                text: "Soitin Maijalle".into(),
                sealed_text: None,
            }),
            Kind::Closed(kaiku_proto::handling::v1::CaseClosed {
                resolution: String::new(),
                hours_since_received: 2.0,
                sealed_resolution: None,
            }),
            Kind::Started(kaiku_proto::handling::v1::CaseStarted {}),
        ];
        key.seal_texts(&mut kinds).expect("seals");
        let Some((text, Some(sealed))) = handler_text(&mut kinds[0]) else {
            panic!("the note is sealed: {:?}", kinds[0]);
        };
        assert!(text.is_empty());
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("Maija"));
        let sealed = sealed.clone();
        // An empty resolution stays empty and unsealed.
        assert!(matches!(handler_text(&mut kinds[1]), Some((r, None)) if r.is_empty()));
        key.open_text(&mut kinds[0]).expect("opens");
        assert!(matches!(handler_text(&mut kinds[0]), Some((t, _)) if t == "Soitin Maijalle"));
        // Another case's key, or another case's text, does not open it.
        let other = CaseContent {
            text_key: keys.new_text_key().expect("key"),
            ..content()
        };
        let other_key = TextKey::of_case("case-1", &other)
            .expect("key")
            .expect("key");
        let mut moved = Kind::NoteAdded(kaiku_proto::handling::v1::CaseNoteAdded {
            text: String::new(),
            sealed_text: Some(sealed.clone()),
        });
        assert!(matches!(
            other_key.open_text(&mut moved),
            Err(SealingError::TextTampered(_))
        ));
        let same_key_other_case = TextKey::of_case("case-2", &keyed)
            .expect("key")
            .expect("key");
        assert!(same_key_other_case.open_text(&mut moved).is_err());
        // A case from before texts were sealed has no key; a bad key is named.
        assert!(
            TextKey::of_case("old", &content())
                .expect("no key")
                .is_none()
        );
        let short = CaseContent {
            text_key: vec![1, 2, 3],
            ..content()
        };
        assert!(matches!(
            TextKey::of_case("c", &short),
            Err(SealingError::TextKey(_))
        ));
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
