//! Service API keys (channel adapters, integrations): `kaiku_<id>_<secret>`. Kaiku keeps only
//! each key's SHA-256 with its grants (a JSON file, KAIKU_AUTH_API_KEYS); the secret is shown
//! once, when the key is made. The secret has 244 random bits (two v4 UUIDs), so a fast hash is enough: there
//! is nothing to guess that a slow hash would protect.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AuthError;
use crate::grants::{Principal, Scope};

const PREFIX: &str = "kaiku_";

/// One key as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    pub id: String,
    /// Who holds it, e.g. "web-form" or "county-ehr".
    pub name: String,
    /// Hex SHA-256 of the whole key.
    pub sha256: String,
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub surveys: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub unit_subtrees: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    entries: Vec<ApiKeyEntry>,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal without telling, by timing, how much was equal.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl ApiKeys {
    /// Parses the JSON list of entries.
    pub fn parse(json: &str) -> Result<ApiKeys, AuthError> {
        let entries: Vec<ApiKeyEntry> = serde_json::from_str(json)
            .map_err(|e| AuthError::Config(format!("API key file: {e}")))?;
        for entry in &entries {
            if entry.id.is_empty() || entry.id.contains('_') || entry.sha256.len() != 64 {
                return Err(AuthError::Config(format!(
                    "API key {:?}: ids are non-empty without '_', sha256 is 64 hex digits",
                    entry.id
                )));
            }
        }
        Ok(ApiKeys { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The caller a key stands for.
    pub fn verify(&self, key: &str) -> Result<Principal, AuthError> {
        let id = key
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id)
            .ok_or(AuthError::Malformed)?;
        let entry = self
            .entries
            .iter()
            .find(|e| e.id == id)
            .ok_or(AuthError::UnknownApiKey)?;
        if !same(&sha256_hex(key), &entry.sha256) {
            return Err(AuthError::UnknownApiKey);
        }
        Ok(Principal {
            subject: format!("api-key:{}", entry.name),
            scopes: entry.scopes.clone(),
            surveys: entry.surveys.clone(),
            channels: entry.channels.clone(),
            unit_subtrees: entry.unit_subtrees.clone(),
        })
    }
}

/// A new key and the entry to store for it (the key itself is not in the entry).
pub fn new_api_key(name: &str, scopes: Vec<Scope>) -> (String, ApiKeyEntry) {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let secret: String = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .map(|u| u.simple().to_string())
        .collect();
    let key = format!("{PREFIX}{id}_{secret}");
    let entry = ApiKeyEntry {
        id,
        name: name.to_owned(),
        sha256: sha256_hex(&key),
        scopes,
        surveys: Vec::new(),
        channels: Vec::new(),
        unit_subtrees: Vec::new(),
    };
    (key, entry)
}
