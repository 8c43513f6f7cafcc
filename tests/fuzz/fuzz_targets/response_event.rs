//! The projection's decoding of a KAIKU_RESPONSES event: arbitrary bytes as the payload.
//! Whatever arrives (truncated, unknown kind, a newer schema, garbage) must become a counted
//! response, a redaction or a dead letter, never a panic that would stop the projection.
#![no_main]

use std::sync::LazyLock;

use kaiku_domain::feedback::FeedbackDictionary;
use libfuzzer_sys::fuzz_target;
use projection::{Prepared, prepare_response_event};

static DICTIONARY: LazyLock<FeedbackDictionary> = LazyLock::new(FeedbackDictionary::builtin);

fuzz_target!(|data: &[u8]| {
    match prepare_response_event(&DICTIONARY, data, 1) {
        Prepared::Submitted(_) | Prepared::Redacted { .. } | Prepared::Rejected(_) => {}
        Prepared::InTransaction => panic!("a response event is never a survey event"),
    }
});
