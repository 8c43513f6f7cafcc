//! Small, valid survey contents for tests across the workspace (unit tests, service tests and
//! system tests build on the same ones, so a model change updates them all).

use kaiku_proto::survey::v1::{
    AgeBand, Channel, ChoiceOption, ChoiceQuestion, Condition, ContinuousCollection,
    CreateUnitRequest, Language, LocalizedText, NpsQuestion, OpenTextQuestion, ProfessionalGroup,
    Question, RespondentRole, SmileyQuestion, StatementQuestion, SurveyContent, UnitLevel,
    question::Kind, survey_content::Collection,
};

pub const NPS_KEY: &str = "nps";

/// SplitMix64: a small, fast, deterministic generator for generated data (kaikuctl's data
/// set, kaiku-load's workload); statistical quality is plenty for test and load data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with the given chance in percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}
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
        // The county's default.
        retention: None,
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

/// Every question kind, condition and dimension the model has, for rule and property tests:
/// clients and guardians; kuraattori and psykologi; three age bands; fi, sv and en.
///
/// | key | kind | shown to | required |
/// | --- | --- | --- | --- |
/// | nps | NPS | ages 13-17 and adults | yes |
/// | face | smiley, 3 faces | clients aged 7-12 | yes |
/// | kohtaaminen | statement with don't know | everyone | no |
/// | strict | statement without don't know | everyone | no |
/// | kuraattori_help | statement | kuraattori's clients | no |
/// | guardian_info | statement | guardians | no |
/// | reasons | multiple choice a, b, c | everyone | no |
/// | visit | single choice first, followup | everyone | yes |
/// | open_feedback | open text, at most 200 characters | everyone | no |
pub fn all_kinds_survey(unit_ids: &[&str]) -> SurveyContent {
    let statement = |allow_dont_know| Kind::Statement(StatementQuestion { allow_dont_know });
    let question = |key: &str, kind: Kind, required: bool, condition: Option<Condition>| Question {
        key: key.to_owned(),
        kind: Some(kind),
        required,
        topic: 0,
        texts: texts(
            &format!("{key} fi"),
            &format!("{key} sv"),
            &format!("{key} en"),
        ),
        condition,
    };
    let shown = |roles: &[RespondentRole], groups: &[&str], ages: &[&str]| {
        Some(Condition {
            respondent_roles: roles.iter().map(|r| *r as i32).collect(),
            professional_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            age_bands: ages.iter().map(|a| (*a).to_owned()).collect(),
        })
    };
    let options = |keys: &[&str]| {
        keys.iter()
            .map(|key| ChoiceOption {
                key: (*key).to_owned(),
                texts: texts(key, key, key),
            })
            .collect()
    };
    let mut content = nps_survey(unit_ids);
    content.professional_groups = ["kuraattori", "psykologi"]
        .iter()
        .map(|key| ProfessionalGroup {
            key: (*key).to_owned(),
            names: texts(key, key, key),
        })
        .collect();
    content.age_bands = [
        ("age_7_12", 7, 12),
        ("age_13_17", 13, 17),
        ("adult", 18, 120),
    ]
    .iter()
    .map(|(key, min_age, max_age)| AgeBand {
        key: (*key).to_owned(),
        min_age: *min_age,
        max_age: *max_age,
        ..AgeBand::default()
    })
    .collect();
    content.questions = vec![
        question(
            NPS_KEY,
            Kind::Nps(NpsQuestion {}),
            true,
            shown(&[], &[], &["age_13_17", "adult"]),
        ),
        question(
            "face",
            Kind::Smiley(SmileyQuestion { faces: 3 }),
            true,
            shown(&[RespondentRole::Client], &[], &["age_7_12"]),
        ),
        question("kohtaaminen", statement(true), false, None),
        question("strict", statement(false), false, None),
        question(
            "kuraattori_help",
            statement(false),
            false,
            shown(&[], &["kuraattori"], &[]),
        ),
        question(
            "guardian_info",
            statement(true),
            false,
            shown(&[RespondentRole::Guardian], &[], &[]),
        ),
        question(
            "reasons",
            Kind::Choice(ChoiceQuestion {
                multiple: true,
                options: options(&["a", "b", "c"]),
            }),
            false,
            None,
        ),
        question(
            "visit",
            Kind::Choice(ChoiceQuestion {
                multiple: false,
                options: options(&["first", "followup"]),
            }),
            true,
            None,
        ),
        question(
            OPEN_KEY,
            Kind::OpenText(OpenTextQuestion { max_chars: 200 }),
            false,
            None,
        ),
    ];
    content
}

/// A month cell of the disclosure partition (`crate::disclosure`) in 2026, in Finnish, with no
/// period, group or age band: `unit_path` from the county down to the cell's unit.
pub fn disclosure_cell(
    unit_path: &[&str],
    month: u32,
    role: &str,
    channel: &str,
    responses: u64,
) -> crate::disclosure::Cell {
    crate::disclosure::Cell {
        key: crate::disclosure::CellKey {
            unit_id: unit_path
                .last()
                .map(|u| (*u).to_owned())
                .unwrap_or_default(),
            month: chrono::NaiveDate::from_ymd_opt(2026, month, 1).unwrap_or_default(),
            period_id: String::new(),
            channel: channel.to_owned(),
            respondent_role: role.to_owned(),
            professional_group: String::new(),
            age_band: String::new(),
            language: "fi".to_owned(),
        },
        unit_path: unit_path.iter().map(|u| (*u).to_owned()).collect(),
        responses,
    }
}
