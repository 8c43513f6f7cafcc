//! Intake's request path without the network: arbitrary bytes decoded as a
//! `SubmitResponseRequest`, then parsed and validated against a form with every question kind,
//! condition and dimension. Nothing may panic; an accepted request must become an event that
//! encodes and decodes to itself and keeps at most the answers it was given.
#![no_main]

use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use kaiku_domain::catalogue::PublishedForm;
use kaiku_domain::fixtures::all_kinds_survey;
use kaiku_domain::submission::{accept, parse_target};
use kaiku_proto::events::v1::ResponseSubmitted;
use kaiku_proto::intake::v1::SubmitResponseRequest;
use libfuzzer_sys::fuzz_target;
use prost::Message;

static FORM: LazyLock<PublishedForm> = LazyLock::new(|| PublishedForm {
    survey_id: kaiku_domain::ids::SurveyId::from(uuid_of(1)),
    version: 1,
    content: all_kinds_survey(&["unit-a", "unit-b"]),
});

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = SubmitResponseRequest::decode(data) else {
        return;
    };
    let _ = parse_target(&request);
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).single();
    let Some(now) = now else { return };
    if let Ok(submitted) = accept(&FORM, &request, now) {
        assert!(submitted.answers.len() <= request.answers.len());
        let decoded = ResponseSubmitted::decode(submitted.encode_to_vec().as_slice());
        assert_eq!(decoded.ok().as_ref(), Some(&submitted));
    }
});
