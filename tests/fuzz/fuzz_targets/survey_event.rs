//! The survey catalogue that intake and the projection fold from KAIKU_SURVEYS: arbitrary bytes
//! decoded as a sequence of survey and unit events and applied in order. Nothing may panic, and
//! every lookup afterwards must answer.
#![no_main]

use kaiku_domain::catalogue::Catalogue;
use kaiku_domain::ids::SurveyId;
use kaiku_proto::events::v1::{SurveyEvent, UnitEvent};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let mut catalogue = Catalogue::new();
    let survey_id = SurveyId::from(uuid::Uuid::from_u128(7));
    // Length-prefixed chunks: the first byte of each says how long it is and, by its low bit,
    // whether it is a survey or a unit event.
    let mut rest = data;
    let mut sequence = 0;
    while let Some((&header, tail)) = rest.split_first() {
        let len = usize::from(header >> 1).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        sequence += 1;
        if header & 1 == 0 {
            if let Ok(event) = SurveyEvent::decode(chunk) {
                catalogue.apply(survey_id, &event, sequence);
            }
        } else if let Ok(event) = UnitEvent::decode(chunk) {
            let _ = catalogue.apply_unit(&event, sequence);
        }
    }
    assert!(catalogue.last_sequence() <= sequence);
    for version in 0..3 {
        let _ = catalogue.lookup(survey_id, version);
    }
});
