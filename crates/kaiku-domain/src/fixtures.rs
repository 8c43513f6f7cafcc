//! Small, valid survey contents for tests across the workspace (unit tests, service tests and
//! system tests build on the same ones, so a model change updates them all).

use kaiku_proto::survey::v1::{
    Channel, ContinuousCollection, CreateUnitRequest, Language, LocalizedText, NpsQuestion,
    OpenTextQuestion, Question, RespondentRole, SurveyContent, UnitLevel, question::Kind,
    survey_content::Collection,
};

pub const NPS_KEY: &str = "nps";
pub const OPEN_KEY: &str = "open_feedback";

pub fn texts(fi: &str, sv: &str, en: &str) -> Vec<LocalizedText> {
    vec![
        LocalizedText {
            language: Language::Fi as i32,
            text: fi.to_owned(),
        },
        LocalizedText {
            language: Language::Sv as i32,
            text: sv.to_owned(),
        },
        LocalizedText {
            language: Language::En as i32,
            text: en.to_owned(),
        },
    ]
}

/// THL's core: the recommendation question (required) and open feedback (optional), in fi, sv
/// and en, for clients and guardians, every channel, continuous collection, in `unit_ids`.
pub fn nps_survey(unit_ids: &[&str]) -> SurveyContent {
    SurveyContent {
        titles: texts("Asiakaspalaute", "Kundrespons", "Customer feedback"),
        languages: vec![
            Language::Fi as i32,
            Language::Sv as i32,
            Language::En as i32,
        ],
        respondent_roles: vec![
            RespondentRole::Client as i32,
            RespondentRole::Guardian as i32,
        ],
        professional_groups: vec![],
        age_bands: vec![],
        channels: vec![
            Channel::Paper as i32,
            Channel::Qr as i32,
            Channel::Kiosk as i32,
            Channel::Sms as i32,
            Channel::WebLink as i32,
            Channel::Api as i32,
        ],
        unit_ids: unit_ids.iter().map(|u| (*u).to_owned()).collect(),
        questions: vec![
            Question {
                key: NPS_KEY.to_owned(),
                kind: Some(Kind::Nps(NpsQuestion {})),
                required: true,
                topic: 0,
                texts: texts(
                    "Kuinka todennäköisesti suosittelisit saamaasi palvelua?",
                    "Hur sannolikt är det att du skulle rekommendera tjänsten?",
                    "How likely would you be to recommend the service you received to a family member or friend in the same situation?",
                ),
                condition: None,
            },
            Question {
                key: OPEN_KEY.to_owned(),
                kind: Some(Kind::OpenText(OpenTextQuestion { max_chars: 2000 })),
                required: false,
                topic: 0,
                texts: texts("Vapaa palaute", "Fri respons", "Open feedback"),
                condition: None,
            },
        ],
        collection: Some(Collection::Continuous(ContinuousCollection {})),
    }
}

/// The county every fixture unit sits under.
pub const FIXTURE_COUNTY: &str = "fixture-county";

/// Requests that create a county and, directly under it, each of `unit_ids`: what a survey
/// from [`nps_survey`] needs before it can be published. Creating a unit twice with the same
/// settings is a no-op, so callers may send these more than once.
pub fn fixture_units(unit_ids: &[&str]) -> Vec<CreateUnitRequest> {
    let county = CreateUnitRequest {
        unit_id: FIXTURE_COUNTY.to_owned(),
        parent_unit_id: String::new(),
        level: UnitLevel::County as i32,
        names: texts("Testimaakunta", "Testlandskap", "Test county"),
    };
    std::iter::once(county)
        .chain(unit_ids.iter().map(|unit_id| CreateUnitRequest {
            unit_id: (*unit_id).to_owned(),
            parent_unit_id: FIXTURE_COUNTY.to_owned(),
            level: UnitLevel::Unit as i32,
            names: texts(unit_id, unit_id, unit_id),
        }))
        .collect()
}
