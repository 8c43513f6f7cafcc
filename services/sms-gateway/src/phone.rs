//! Phone numbers are used for sending only. What Kaiku keeps of one is a keyed hash (for "not
//! twice within 30 days" and for matching a reply to its invitation) and, only until the
//! invitation is sent, the number encrypted. Both keys derive from one secret
//! (KAIKU_SMS_SECRET), so a leaked database alone yields neither numbers nor a way to test
//! guesses against the hashes.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("is not a phone number: use +358 40 123 4567 or 040 123 4567")]
    NotANumber,
    #[error("KAIKU_SMS_SECRET must be at least {MIN_SECRET_BYTES} bytes of base64")]
    WeakSecret,
    #[error("a stored phone number could not be decrypted (wrong KAIKU_SMS_SECRET?)")]
    Undecryptable,
}

/// A number in international form, "+358401234567". Finnish numbers may be written the usual
/// ways (leading 0, spaces, dashes, brackets); other countries need their + prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl std::fmt::Debug for PhoneNumber {
    // Logs and panics never show a whole number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        write!(f, "PhoneNumber(…{tail})")
    }
}

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<PhoneNumber, PhoneError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{a0}'))
            .collect();
        let international = if let Some(rest) = compact.strip_prefix("00") {
            format!("+{rest}")
        } else if let Some(rest) = compact.strip_prefix('0') {
            format!("+358{rest}")
        } else {
            compact
        };
        let digits = international
            .strip_prefix('+')
            .ok_or(PhoneError::NotANumber)?;
        // E.164: at most 15 digits; a Finnish mobile number has 7-10 after 358.
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::NotANumber);
        }
        Ok(PhoneNumber(international))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keys derived from KAIKU_SMS_SECRET.
#[derive(Clone)]
pub struct PhoneVault {
    hash_key: [u8; 32],
    cipher_key: [u8; 32],
}

impl std::fmt::Debug for PhoneVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneVault(..)")
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl PhoneVault {
    pub fn new(secret: &[u8]) -> Result<PhoneVault, PhoneError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(PhoneError::WeakSecret);
        }
        Ok(PhoneVault {
            hash_key: derive(secret, "kaiku-sms phone hash v1"),
            cipher_key: derive(secret, "kaiku-sms phone encryption v1"),
        })
    }

    /// The keyed hash that stands for a number in the de-duplication and reply state.
    pub fn hash(&self, phone: &PhoneNumber) -> String {
        self.keyed_hash("phone", phone.as_str())
    }

    /// A keyed hash of any identifier (e.g. a visit id from the patient record), so the same
    /// visit delivered twice is recognised without keeping its id.
    pub fn keyed_hash(&self, kind: &str, value: &str) -> String {
        let mut mac =
            HmacSha256::new_from_slice(&self.hash_key).expect("HMAC takes keys of any length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Encrypts `phone` for the invitation `id` (unique per invitation, so the nonce is too).
    pub fn seal(&self, id: uuid::Uuid, phone: &PhoneNumber) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&self.cipher_key.into());
        cipher
            .encrypt(&nonce(id), phone.as_str().as_bytes())
            .expect("encrypting a short message in memory cannot fail")
    }

    pub fn open(&self, id: uuid::Uuid, sealed: &[u8]) -> Result<PhoneNumber, PhoneError> {
        let cipher = XChaCha20Poly1305::new(&self.cipher_key.into());
        let plain = cipher
            .decrypt(&nonce(id), sealed)
            .map_err(|_| PhoneError::Undecryptable)?;
        let text = String::from_utf8(plain).map_err(|_| PhoneError::Undecryptable)?;
        PhoneNumber::parse(&text).map_err(|_| PhoneError::Undecryptable)
    }
}

fn nonce(id: uuid::Uuid) -> XNonce {
    let mut bytes = [0u8; 24];
    bytes[..16].copy_from_slice(id.as_bytes());
    bytes.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finnish_ways_of_writing_a_number_are_one_number() {
        for raw in [
            "040 123 4567",
            "+358 40 1234567",
            "0401234567",
            "00358401234567",
            "(040) 123-4567",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).map(|p| p.0),
                Ok("+358401234567".to_owned()),
                "{raw}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("+46 70 123 45 67").map(|p| p.0),
            Ok("+46701234567".to_owned())
        );
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for raw in [
            "",
            "abc",
            "+358",
            "12345",
            "040 123 456x",
            "+358 40 123 4567 8901 23",
            "401234567",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw),
                Err(PhoneError::NotANumber),
                "{raw}"
            );
        }
    }

    #[test]
    fn hashes_are_keyed_stable_and_hide_the_number() {
        let vault = PhoneVault::new(&[7u8; 32]).expect("vault");
        let other = PhoneVault::new(&[8u8; 32]).expect("vault");
        let phone = PhoneNumber::parse("040 123 4567").expect("number");
        let same = PhoneNumber::parse("+358401234567").expect("number");
        assert_eq!(vault.hash(&phone), vault.hash(&same));
        assert_ne!(
            vault.hash(&phone),
            other.hash(&phone),
            "another secret, another hash"
        );
        assert!(!vault.hash(&phone).contains("401234567"));
        assert_eq!(vault.hash(&phone).len(), 64);
        assert_ne!(
            vault.keyed_hash("visit", "+358401234567"),
            vault.hash(&phone),
            "kinds never collide"
        );
    }

    #[test]
    fn sealed_numbers_open_only_with_the_same_secret_and_invitation() {
        let vault = PhoneVault::new(&[7u8; 32]).expect("vault");
        let phone = PhoneNumber::parse("050 765 4321").expect("number");
        let id = uuid::Uuid::new_v4();
        let sealed = vault.seal(id, &phone);
        assert!(!String::from_utf8_lossy(&sealed).contains("7654321"));
        assert_eq!(vault.open(id, &sealed), Ok(phone));
        assert_eq!(
            vault.open(uuid::Uuid::new_v4(), &sealed),
            Err(PhoneError::Undecryptable)
        );
        let other = PhoneVault::new(&[9u8; 32]).expect("vault");
        assert_eq!(other.open(id, &sealed), Err(PhoneError::Undecryptable));
    }

    #[test]
    fn short_secrets_are_refused_and_debug_output_hides_numbers() {
        assert!(matches!(
            PhoneVault::new(&[1u8; 16]),
            Err(PhoneError::WeakSecret)
        ));
        let phone = PhoneNumber::parse("040 123 4567").expect("number");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(…67)");
    }
}
