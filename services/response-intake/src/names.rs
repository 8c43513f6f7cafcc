//! Person names in open text: kaiku-names' finder (libvoikko, loaded at run time) as the
//! domain's `NameSpans`, so that kaiku-domain stays free of native libraries.

use std::ops::Range;

use kaiku_domain::redaction::NameSpans;
use kaiku_names::NameFinder;

use crate::IntakeError;

/// Loaded once at start-up and shared by every submission.
#[derive(Debug)]
pub struct PersonNames(NameFinder);

impl PersonNames {
    /// Fails when libvoikko1 or voikko-fi is missing: intake must not start and store open
    /// text with the names left in.
    pub fn load() -> Result<Self, IntakeError> {
        Ok(Self(NameFinder::load()?))
    }
}

impl NameSpans for PersonNames {
    fn name_spans(&self, text: &str) -> Vec<Range<usize>> {
        self.0.find(text)
    }
}
