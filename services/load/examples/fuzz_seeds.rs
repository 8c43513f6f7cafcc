//! Writes the seed inputs of the fuzz targets in tests/fuzz/seeds: valid encoded submit
//! requests and response events from the load workload, so the fuzzers start from what intake
//! and the projection really see. Run from the repository root:
//! `cargo run -p kaiku-load --example fuzz_seeds`.

use std::path::Path;

use kaiku_load::raw::submitted_events;
use kaiku_load::workload::Workload;
use kaiku_proto::events::v1::{ResponseEvent, ResponseRedacted, response_event::Kind};
use prost::Message;

const SEEDS: usize = 16;

fn write(dir: &Path, name: String, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new("tests/fuzz/seeds");
    // The fuzz target validates against the all-kinds fixture form in units unit-a and unit-b.
    let mut workload = Workload::new(
        "00000000-0000-0000-0000-000000000001",
        &["unit-a".to_owned(), "unit-b".to_owned()],
        11,
    );
    for i in 0..SEEDS {
        let planned = workload.next_submission();
        write(
            &root.join("submit_request"),
            format!("valid-{i:02}"),
            &planned.request.encode_to_vec(),
        )?;
    }
    for (i, submitted) in submitted_events(SEEDS, 5)?.into_iter().enumerate() {
        let survey_id = "00000000-0000-0000-0000-000000000002".to_owned();
        let kind = if i % 4 == 3 {
            Kind::Redacted(ResponseRedacted {
                submission_id: submitted.submission_id.clone(),
                question_keys: vec!["open_feedback".to_owned()],
                reason: String::new(),
                remaining: Some(submitted),
                sequence: 1,
                erasure_reason: kaiku_proto::intake::v1::ErasureReason::PersonalData as i32,
            })
        } else {
            Kind::Submitted(submitted)
        };
        let event = ResponseEvent {
            event_id: format!("seed-{i}"),
            survey_id,
            occurred_at: None,
            kind: Some(kind),
        };
        write(
            &root.join("response_event"),
            format!("valid-{i:02}"),
            &event.encode_to_vec(),
        )?;
    }
    println!("wrote {SEEDS} seeds each to {}", root.display());
    Ok(())
}
