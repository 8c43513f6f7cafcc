//! The oracle: every submission intake acknowledged, with the sequence(s) it was acknowledged
//! at and what the read models must show for it. Fault tests and `kaiku-load verify` compare
//! the read models against it.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

use kaiku_domain::nps::{NpsCounts, bucket};
use kaiku_proto::survey::v1::RespondentRole;
use uuid::Uuid;

use crate::LoadError;
use crate::workload::Expected;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub expected: Expected,
    /// Every sequence intake acknowledged this submission id at: one, unless a retry came after
    /// the duplicate window (then JetStream stored a second copy, which the read model skips).
    pub sequences: Vec<u64>,
    /// Replies that said "duplicate": a retry of something already stored.
    pub duplicate_replies: u32,
}

/// Acknowledged submissions of one survey, keyed by submission id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub survey_id: String,
    entries: HashMap<Uuid, Acknowledgement>,
}

impl Record {
    pub fn new(survey_id: &str) -> Self {
        Self {
            survey_id: survey_id.to_owned(),
            entries: HashMap::new(),
        }
    }

    pub fn acknowledge(
        &mut self,
        submission_id: Uuid,
        expected: Expected,
        sequence: u64,
        duplicate: bool,
    ) {
        let entry = self
            .entries
            .entry(submission_id)
            .or_insert_with(|| Acknowledgement {
                expected,
                sequences: Vec::with_capacity(1),
                duplicate_replies: 0,
            });
        if !entry.sequences.contains(&sequence) {
            entry.sequences.push(sequence);
        }
        entry.duplicate_replies += u32::from(duplicate);
    }

    pub fn merge(&mut self, other: Record) {
        for (id, theirs) in other.entries {
            match self.entries.get_mut(&id) {
                None => {
                    self.entries.insert(id, theirs);
                }
                Some(ours) => {
                    for sequence in theirs.sequences {
                        if !ours.sequences.contains(&sequence) {
                            ours.sequences.push(sequence);
                        }
                    }
                    ours.duplicate_replies += theirs.duplicate_replies;
                }
            }
        }
    }

    /// Distinct submissions acknowledged.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, submission_id: &Uuid) -> Option<&Acknowledgement> {
        self.entries.get(submission_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Uuid, &Acknowledgement)> {
        self.entries.iter()
    }

    /// The highest sequence acknowledged: the read models are complete once they applied it.
    pub fn max_sequence(&self) -> u64 {
        self.entries
            .values()
            .flat_map(|a| a.sequences.iter().copied())
            .max()
            .unwrap_or(0)
    }

    /// Submissions acknowledged at more than one sequence (stored twice by JetStream).
    pub fn stored_twice(&self) -> usize {
        self.entries
            .values()
            .filter(|a| a.sequences.len() > 1)
            .count()
    }

    pub fn duplicate_replies(&self) -> u64 {
        self.entries
            .values()
            .map(|a| u64::from(a.duplicate_replies))
            .sum()
    }

    /// The NPS figure the record implies for one respondent role.
    pub fn nps_counts(&self, role: RespondentRole) -> NpsCounts {
        let mut counts = NpsCounts::default();
        for entry in self.entries.values().filter(|a| a.expected.role == role) {
            if let Some(bucket) = bucket(entry.expected.nps_score) {
                counts.add(bucket);
            }
        }
        counts
    }

    /// Writes the record as tab-separated lines: a `survey` line, then one line per submission
    /// (id, role, NPS score, duplicate replies, sequences joined by commas).
    pub fn write_to(&self, path: &Path) -> Result<(), LoadError> {
        let io = |e: std::io::Error| LoadError::Record(format!("{}: {e}", path.display()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        writeln!(out, "survey\t{}", self.survey_id).map_err(io)?;
        for (id, a) in &self.entries {
            let sequences: Vec<String> = a.sequences.iter().map(u64::to_string).collect();
            writeln!(
                out,
                "{id}\t{}\t{}\t{}\t{}",
                a.expected.role.as_str_name(),
                a.expected.nps_score,
                a.duplicate_replies,
                sequences.join(",")
            )
            .map_err(io)?;
        }
        out.flush().map_err(io)
    }

    pub fn read_from(path: &Path) -> Result<Record, LoadError> {
        let file = std::fs::File::open(path)
            .map_err(|e| LoadError::Record(format!("{}: {e}", path.display())))?;
        let mut record = Record::default();
        for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| LoadError::Record(format!("{}: {e}", path.display())))?;
            let bad = |what: &str| {
                LoadError::Record(format!("{}:{}: {what}", path.display(), number + 1))
            };
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["survey", survey_id] => record.survey_id = (*survey_id).to_owned(),
                [id, role, score, duplicates, sequences] => {
                    let id = Uuid::parse_str(id).map_err(|_| bad("submission id is not a UUID"))?;
                    let role = RespondentRole::from_str_name(role)
                        .ok_or_else(|| bad("unknown respondent role"))?;
                    let nps_score = score
                        .parse()
                        .map_err(|_| bad("NPS score is not a number"))?;
                    let duplicate_replies = duplicates
                        .parse()
                        .map_err(|_| bad("duplicate count is not a number"))?;
                    let sequences = sequences
                        .split(',')
                        .map(str::parse)
                        .collect::<Result<Vec<u64>, _>>()
                        .map_err(|_| bad("sequences are not numbers"))?;
                    record.entries.insert(
                        id,
                        Acknowledgement {
                            expected: Expected { nps_score, role },
                            sequences,
                            duplicate_replies,
                        },
                    );
                }
                _ => return Err(bad("expected 5 tab-separated fields")),
            }
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(score: u32) -> Expected {
        Expected {
            nps_score: score,
            role: RespondentRole::Client,
        }
    }

    #[test]
    fn retries_add_sequences_once_and_count_duplicate_replies() {
        let mut record = Record::new("s");
        let id = Uuid::new_v4();
        record.acknowledge(id, expected(9), 5, false);
        record.acknowledge(id, expected(9), 5, true);
        record.acknowledge(id, expected(9), 12, false);
        assert_eq!(record.len(), 1);
        assert_eq!(
            record.get(&id).map(|a| a.sequences.clone()),
            Some(vec![5, 12])
        );
        assert_eq!(record.duplicate_replies(), 1);
        assert_eq!(record.stored_twice(), 1);
        assert_eq!(record.max_sequence(), 12);
    }

    #[test]
    fn a_written_record_reads_back_the_same() -> Result<(), LoadError> {
        let mut record = Record::new("survey-1");
        record.acknowledge(Uuid::new_v4(), expected(3), 1, false);
        record.acknowledge(
            Uuid::new_v4(),
            Expected {
                nps_score: 10,
                role: RespondentRole::Guardian,
            },
            2,
            true,
        );
        let dir = std::env::temp_dir().join(format!("kaiku-load-{}", Uuid::new_v4()));
        record.write_to(&dir)?;
        let read = Record::read_from(&dir);
        let _ = std::fs::remove_file(&dir);
        assert_eq!(read?, record);
        Ok(())
    }

    #[test]
    fn a_malformed_record_line_is_refused_with_its_line_number() {
        let path = std::env::temp_dir().join(format!("kaiku-load-{}", Uuid::new_v4()));
        let written = std::fs::write(&path, "survey\ts\nnot-a-uuid\tROLE\t1\t0\t1\n");
        let read = Record::read_from(&path);
        let _ = std::fs::remove_file(&path);
        assert!(written.is_ok());
        let error = read.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains(":2: submission id is not a UUID"), "{error}");
    }
}
