//! What the load generator submits: THL's core form (NPS, two statements, open feedback) answered
//! by clients and guardians through every channel, in fi, sv and en. The content is
//! deterministic for a seed; submission ids are random, so a second run against the same stream
//! is new load, not a retry.

use kaiku_domain::catalogue::PublishedForm;
use kaiku_domain::codes::ALL_CHANNELS;
use kaiku_domain::fixtures::{OPEN_KEY, SplitMix64, nps_survey, texts};
use kaiku_domain::ids::SurveyId;
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, OpenTextAnswer, ResponseContext, StatementAnswer, SubmitResponseRequest,
    answer::Value,
};
use kaiku_proto::survey::v1::{
    Language, Question, RespondentRole, StatementQuestion, SurveyContent, question::Kind,
};

pub use kaiku_domain::fixtures::NPS_KEY;

/// The statement questions of [`load_survey`].
pub const STATEMENT_KEYS: [&str; 2] = ["kohtaaminen", "tiedonsaanti"];

/// THL's core form for `unit_ids`: the NPS question, two five-point statements and open
/// feedback, for clients and guardians through every channel.
pub fn load_survey(unit_ids: &[&str]) -> SurveyContent {
    let mut content = nps_survey(unit_ids);
    let statements = STATEMENT_KEYS.iter().map(|key| Question {
        key: (*key).to_owned(),
        kind: Some(Kind::Statement(StatementQuestion {
            allow_dont_know: true,
        })),
        required: false,
        topic: 0,
        texts: texts(
            "Minua kohdeltiin hyvin.",
            "Jag blev bemött väl.",
            "I was treated well.",
        ),
        condition: None,
    });
    // Statements between the NPS question and the open feedback, as on the THL form.
    let open_at = content
        .questions
        .iter()
        .position(|q| q.key == OPEN_KEY)
        .unwrap_or(content.questions.len());
    content.questions.splice(open_at..open_at, statements);
    content
}

/// The load survey as intake's catalogue holds it once published: version 1 of
/// [`load_survey`], for validating planned submissions without a server.
pub fn load_form(survey_id: SurveyId, unit_ids: &[String]) -> PublishedForm {
    let units: Vec<&str> = unit_ids.iter().map(String::as_str).collect();
    PublishedForm {
        survey_id,
        version: 1,
        content: load_survey(&units),
    }
}

/// What the read models must show for one acknowledged submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub nps_score: u32,
    pub role: RespondentRole,
}

/// One submission to send, and what it must become.
#[derive(Debug, Clone)]
pub struct Planned {
    pub request: SubmitResponseRequest,
    pub expected: Expected,
}

/// Open feedback as clients write it; one in eight carries a phone number for intake to redact.
const TEXTS: [(&str, Language); 8] = [
    (
        "Sain apua nopeasti ja minua kuunneltiin. Kiitos!",
        Language::Fi,
    ),
    (
        "Jonotusaika oli liian pitkä, odotin yli tunnin.",
        Language::Fi,
    ),
    ("Ystävällinen henkilökunta, selkeät ohjeet.", Language::Fi),
    (
        "Soittakaa minulle numeroon 040 123 4567, haluan kertoa lisää.",
        Language::Fi,
    ),
    (
        "Personalen var vänlig och tog sig tid att lyssna.",
        Language::Sv,
    ),
    ("Det var svårt att få en tid.", Language::Sv),
    (
        "The nurse explained everything clearly, thank you.",
        Language::En,
    ),
    (
        "Lääkäri ei ehtinyt kuunnella asiaani loppuun.",
        Language::Fi,
    ),
];

/// Makes the submissions of one load stream.
#[derive(Debug, Clone)]
pub struct Workload {
    survey_id: String,
    unit_ids: Vec<String>,
    rng: SplitMix64,
}

impl Workload {
    pub fn new(survey_id: &str, unit_ids: &[String], seed: u64) -> Self {
        Self {
            survey_id: survey_id.to_owned(),
            unit_ids: unit_ids.to_vec(),
            rng: SplitMix64::new(seed),
        }
    }

    pub fn next_submission(&mut self) -> Planned {
        let rng = &mut self.rng;
        // Skewed towards promoters, as real NPS answers are.
        let nps_score = match rng.below(10) {
            0 => rng.below(7) as u32,
            1 | 2 => 7 + rng.below(2) as u32,
            _ => 9 + rng.below(2) as u32,
        };
        let role = if rng.chance(15) {
            RespondentRole::Guardian
        } else {
            RespondentRole::Client
        };
        let mut answers = vec![Answer {
            question_key: NPS_KEY.to_owned(),
            value: Some(Value::Nps(NpsAnswer { score: nps_score })),
        }];
        for key in STATEMENT_KEYS {
            if rng.chance(80) {
                let value = if rng.chance(5) {
                    StatementAnswer {
                        score: 0,
                        dont_know: true,
                    }
                } else {
                    StatementAnswer {
                        score: 1 + rng.below(5) as u32,
                        dont_know: false,
                    }
                };
                answers.push(Answer {
                    question_key: key.to_owned(),
                    value: Some(Value::Statement(value)),
                });
            }
        }
        let mut language = match rng.below(20) {
            0..=15 => Language::Fi,
            16..=18 => Language::Sv,
            _ => Language::En,
        };
        if rng.chance(25) {
            let (text, text_language) = TEXTS[rng.below(TEXTS.len())];
            language = text_language;
            answers.push(Answer {
                question_key: OPEN_KEY.to_owned(),
                value: Some(Value::OpenText(OpenTextAnswer {
                    text: text.to_owned(),
                })),
            });
        }
        let unit_id = self.unit_ids[rng.below(self.unit_ids.len())].clone();
        let channel = ALL_CHANNELS[rng.below(ALL_CHANNELS.len())];
        Planned {
            request: SubmitResponseRequest {
                submission_id: uuid::Uuid::new_v4().to_string(),
                survey_id: self.survey_id.clone(),
                survey_version: 1,
                context: Some(ResponseContext {
                    unit_id,
                    channel: channel as i32,
                    respondent_role: role as i32,
                    professional_group: String::new(),
                    age_band: String::new(),
                    language: language as i32,
                }),
                answers,
                answered_at: None,
            },
            expected: Expected { nps_score, role },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planned_submission_is_valid_for_the_load_survey() {
        let units = ["load-unit-1".to_owned(), "load-unit-2".to_owned()];
        let survey_id = SurveyId::new_random();
        let form = load_form(survey_id, &units);
        let mut workload = Workload::new(&survey_id.to_string(), &units, 7);
        let now = chrono::Utc::now();
        let mut guardians = 0;
        for _ in 0..2_000 {
            let planned = workload.next_submission();
            let accepted = kaiku_domain::submission::accept(&form, &planned.request, now);
            assert!(accepted.is_ok(), "{:?}: {accepted:?}", planned.request);
            guardians += usize::from(planned.expected.role == RespondentRole::Guardian);
        }
        assert!((200..400).contains(&guardians), "{guardians} guardians");
    }

    #[test]
    fn the_same_seed_gives_the_same_answers() {
        let units = ["u".to_owned()];
        let mut a = Workload::new("s", &units, 3);
        let mut b = Workload::new("s", &units, 3);
        for _ in 0..100 {
            let (x, y) = (a.next_submission(), b.next_submission());
            assert_eq!(x.request.answers, y.request.answers);
            assert_eq!(x.expected, y.expected);
        }
    }
}
