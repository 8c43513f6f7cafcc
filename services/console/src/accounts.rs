//! Local staff accounts for deployments without an identity provider: a JSON file of users
//! with Argon2id password hashes (PHC strings) and what each may see. Kaiku never stores a
//! password; `console hash-password` makes the hash an operator puts in the file.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Deserialize;

use crate::roles::StaffRole;

/// One account as stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalAccount {
    pub username: String,
    /// Shown in the console's header.
    pub name: String,
    /// Argon2id PHC string, e.g. `$argon2id$v=19$m=19456,t=2,p=1$...`.
    pub password_hash: String,
    pub role: StaffRole,
    /// Unit subtrees the person may see; empty = the whole county (county staff only).
    #[serde(default)]
    pub units: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("accounts file: {0}")]
    Parse(String),
    #[error("accounts file: account {username:?}: {problem}")]
    Invalid { username: String, problem: String },
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

#[derive(Debug, Default)]
pub struct LocalAccounts {
    accounts: Vec<LocalAccount>,
    /// Verified against when the username is unknown, so an unknown name takes as long as a
    /// wrong password and timing does not tell which usernames exist.
    decoy_hash: String,
}

impl LocalAccounts {
    pub fn parse(json: &str) -> Result<LocalAccounts, AccountsError> {
        let accounts: Vec<LocalAccount> =
            serde_json::from_str(json).map_err(|e| AccountsError::Parse(e.to_string()))?;
        for account in &accounts {
            let invalid = |problem: &str| AccountsError::Invalid {
                username: account.username.clone(),
                problem: problem.to_owned(),
            };
            if account.username.trim().is_empty() {
                return Err(invalid("username is empty"));
            }
            PasswordHash::new(&account.password_hash)
                .map_err(|e| invalid(&format!("password_hash is not a PHC string: {e}")))?;
            if account.role == StaffRole::UnitManager && account.units.is_empty() {
                return Err(invalid(
                    "a unit manager needs at least one unit in `units` (empty means the whole county)",
                ));
            }
        }
        let mut names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(AccountsError::Invalid {
                username: pair[0].to_owned(),
                problem: "appears twice".into(),
            });
        }
        Ok(LocalAccounts {
            accounts,
            decoy_hash: hash_password("decoy")?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The account when `password` is its password. CPU-heavy (Argon2): call it off the
    /// async runtime's worker threads.
    pub fn verify(&self, username: &str, password: &str) -> Option<&LocalAccount> {
        let account = self.accounts.iter().find(|a| a.username == username);
        let hash = account.map_or(self.decoy_hash.as_str(), |a| a.password_hash.as_str());
        let parsed = PasswordHash::new(hash).ok()?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        account.filter(|_| matches)
    }
}

/// An Argon2id hash (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum) of `password`.
pub fn hash_password(password: &str) -> Result<String, AccountsError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountsError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(hash: &str, role: &str, units: &str) -> String {
        format!(
            r#"[{{"username":"anna","name":"Anna","password_hash":"{hash}","role":"{role}","units":{units}}}]"#
        )
    }

    #[test]
    fn the_right_password_finds_the_account_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse").expect("hashes");
        let accounts =
            LocalAccounts::parse(&file(&hash, "unit-manager", r#"["school-1"]"#)).expect("parses");
        assert_eq!(
            accounts
                .verify("anna", "correct horse")
                .map(|a| a.name.as_str()),
            Some("Anna")
        );
        assert!(accounts.verify("anna", "wrong").is_none());
        assert!(accounts.verify("bertta", "correct horse").is_none());
    }

    #[test]
    fn a_file_that_cannot_be_used_is_refused_with_the_reason() {
        let hash = hash_password("x").expect("hashes");
        let no_units = LocalAccounts::parse(&file(&hash, "unit-manager", "[]"));
        assert!(
            no_units
                .expect_err("refused")
                .to_string()
                .contains("at least one unit")
        );
        let plain = LocalAccounts::parse(&file("secret", "county-staff", "[]"));
        assert!(plain.expect_err("refused").to_string().contains("PHC"));
        let role = LocalAccounts::parse(&file(&hash, "admin", "[]"));
        assert!(
            role.expect_err("refused")
                .to_string()
                .contains("unknown variant")
        );
    }
}
