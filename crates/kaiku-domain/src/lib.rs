#![doc = include_str!("../README.md")]

pub mod attention;
pub mod calendar;
pub mod catalogue;
pub mod codes;
pub mod content;
pub mod disclosure;
pub mod erasure;
pub mod feedback;
pub mod fixtures;
pub mod form;
pub mod handling;
pub mod ids;
pub mod nps;
pub mod redaction;
pub mod retention;
pub mod review;
pub mod rollup;
pub mod statement;
pub mod submission;
pub mod suppression;
pub mod survey;
pub mod time;
pub mod unit;
pub mod violations;

pub use ids::{QuestionKey, SubmissionId, SurveyId};
pub use violations::{FieldViolation, Violations};
