//! API keys for tests: a key file the services read at start (KAIKU_AUTH_API_KEYS /
//! --auth-api-keys), an all-scopes admin key for the test's own calls, and keys with narrower
//! grants made on demand (before the services that must know them start).

use std::path::{Path, PathBuf};

use kaiku_auth::{ApiKeyEntry, Scope, new_api_key};
use tempfile::TempDir;

use crate::error::{Result, TestSupportError};

pub struct TestCredentials {
    entries: std::sync::Mutex<Vec<ApiKeyEntry>>,
    file: PathBuf,
    /// All four scopes, no restrictions: the test's own client calls.
    pub admin_token: String,
    _dir: TempDir,
}

/// What a key may do beyond its scopes; empty lists mean unrestricted.
#[derive(Debug, Default, Clone)]
pub struct Grant {
    pub surveys: Vec<String>,
    pub channels: Vec<String>,
    pub unit_subtrees: Vec<String>,
}

impl TestCredentials {
    pub fn new() -> Result<TestCredentials> {
        let dir = tempfile::Builder::new()
            .prefix("kaiku-keys-")
            .tempdir()
            .map_err(TestSupportError::io("create a directory for API keys"))?;
        let file = dir.path().join("api-keys.json");
        let (admin_token, admin) = new_api_key(
            "test-admin",
            vec![
                Scope::SurveyAdmin,
                Scope::Submit,
                Scope::AnalyticsRead,
                Scope::Export,
                Scope::Handle,
            ],
        );
        let credentials = TestCredentials {
            entries: std::sync::Mutex::new(vec![admin]),
            file,
            admin_token,
            _dir: dir,
        };
        credentials.write()?;
        Ok(credentials)
    }

    /// A new key with `scopes` and `grant`, written to the file (services started afterwards
    /// know it); returns the key.
    pub fn add(&self, name: &str, scopes: &[Scope], grant: Grant) -> Result<String> {
        let (token, mut entry) = new_api_key(name, scopes.to_vec());
        entry.surveys = grant.surveys;
        entry.channels = grant.channels;
        entry.unit_subtrees = grant.unit_subtrees;
        if let Ok(mut entries) = self.entries.lock() {
            entries.push(entry);
        }
        self.write()?;
        Ok(token)
    }

    pub fn api_keys_file(&self) -> &Path {
        &self.file
    }

    fn write(&self) -> Result<()> {
        let entries = self.entries.lock().map(|e| e.clone()).unwrap_or_default();
        let json = serde_json::to_string_pretty(&entries)
            .map_err(|e| TestSupportError::io("serialise API keys")(std::io::Error::other(e)))?;
        std::fs::write(&self.file, json).map_err(TestSupportError::io("write the API key file"))
    }
}
