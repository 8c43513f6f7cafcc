//! Rules for survey content: what a draft may hold and what a version must hold to be published,
//! and the compiled form intake validates answers against.

use std::collections::{BTreeSet, HashMap, HashSet};

use kaiku_proto::survey::v1::{
    self as pb, Channel, Language, RespondentRole, SurveyContent, question::Kind,
    survey_content::Collection,
};

use crate::codes::language_code;
use crate::ids::{is_valid_key, is_valid_unit_id};
use crate::time::LocalDateExt;
use crate::{QuestionKey, Violations};

/// Longest open text a question may allow; also the limit when a question sets none.
pub const MAX_OPEN_TEXT_CHARS: u32 = 4000;
/// Most questions one survey version may hold (also bounds the answers one response may carry).
pub const MAX_QUESTIONS: usize = 100;
/// Longest question, option or title text.
pub const MAX_LABEL_CHARS: usize = 1000;

/// How strictly content is checked: a draft may be incomplete, a published version may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Structure only: keys well formed and unique, values in range, known enum values.
    Draft,
    /// Everything a respondent needs: at least one question, every text in every language,
    /// units, roles and channels named, a collection mode chosen.
    Publish,
}

/// Checks content and returns every violation, with field paths relative to `prefix`
/// (e.g. "draft").
pub fn validate_content(
    prefix: &str,
    content: &SurveyContent,
    strictness: Strictness,
) -> Result<(), Violations> {
    let mut v = Violations::new();
    let publish = strictness == Strictness::Publish;

    let languages = known_enum_list(
        &mut v,
        &format!("{prefix}.languages"),
        &content.languages,
        |x| {
            Language::try_from(x)
                .ok()
                .filter(|l| *l != Language::Unspecified)
        },
    );
    if publish && languages.is_empty() {
        v.add(
            format!("{prefix}.languages"),
            "must name at least one language",
        );
    }
    known_enum_list(
        &mut v,
        &format!("{prefix}.respondent_roles"),
        &content.respondent_roles,
        |x| {
            RespondentRole::try_from(x)
                .ok()
                .filter(|r| *r != RespondentRole::Unspecified)
        },
    );
    if publish && content.respondent_roles.is_empty() {
        v.add(
            format!("{prefix}.respondent_roles"),
            "must name at least one respondent role",
        );
    }
    known_enum_list(
        &mut v,
        &format!("{prefix}.channels"),
        &content.channels,
        |x| {
            Channel::try_from(x)
                .ok()
                .filter(|c| *c != Channel::Unspecified)
        },
    );
    if publish && content.channels.is_empty() {
        v.add(
            format!("{prefix}.channels"),
            "must name at least one channel",
        );
    }

    check_texts(
        &mut v,
        &format!("{prefix}.titles"),
        &content.titles,
        &languages,
        publish,
    );

    let mut group_keys = HashSet::new();
    for (i, group) in content.professional_groups.iter().enumerate() {
        let field = format!("{prefix}.professional_groups[{i}]");
        check_key(&mut v, &format!("{field}.key"), &group.key, &mut group_keys);
        check_texts(
            &mut v,
            &format!("{field}.names"),
            &group.names,
            &languages,
            publish,
        );
    }
    let mut band_keys = HashSet::new();
    for (i, band) in content.age_bands.iter().enumerate() {
        let field = format!("{prefix}.age_bands[{i}]");
        check_key(&mut v, &format!("{field}.key"), &band.key, &mut band_keys);
        if band.min_age > band.max_age {
            v.add(
                format!("{field}.max_age"),
                format!("must be at least min_age {}", band.min_age),
            );
        }
        for (name, texts) in [
            ("titles", &band.titles),
            ("intros", &band.intros),
            ("thanks", &band.thanks),
        ] {
            check_optional_texts(
                &mut v,
                &format!("{field}.{name}"),
                texts,
                &languages,
                publish,
            );
        }
    }

    let mut units = HashSet::new();
    for (i, unit) in content.unit_ids.iter().enumerate() {
        let field = format!("{prefix}.unit_ids[{i}]");
        if !is_valid_unit_id(unit) {
            v.add(
                field,
                format!("must be 1-64 characters of A-Z, a-z, 0-9, - and _, got {unit:?}"),
            );
        } else if !units.insert(unit.as_str()) {
            v.add(field, format!("unit {unit:?} is listed twice"));
        }
    }
    if publish && content.unit_ids.is_empty() {
        v.add(format!("{prefix}.unit_ids"), "must name at least one unit");
    }

    check_collection(&mut v, prefix, content.collection.as_ref(), publish);
    crate::retention::check_retention(&mut v, prefix, content.retention.as_ref());

    if content.questions.len() > MAX_QUESTIONS {
        v.add(
            format!("{prefix}.questions"),
            format!(
                "must hold at most {MAX_QUESTIONS} questions, got {}",
                content.questions.len()
            ),
        );
    }
    if publish && content.questions.is_empty() {
        v.add(
            format!("{prefix}.questions"),
            "must hold at least one question",
        );
    }
    let mut question_keys = HashSet::new();
    for (i, question) in content.questions.iter().enumerate() {
        let field = format!("{prefix}.questions[{i}]");
        check_key(
            &mut v,
            &format!("{field}.key"),
            &question.key,
            &mut question_keys,
        );
        check_question(&mut v, &field, question, &languages, publish);
        if let Some(condition) = &question.condition {
            known_enum_list(
                &mut v,
                &format!("{field}.condition.respondent_roles"),
                &condition.respondent_roles,
                |x| {
                    RespondentRole::try_from(x)
                        .ok()
                        .filter(|r| *r != RespondentRole::Unspecified)
                },
            );
            for (j, group) in condition.professional_groups.iter().enumerate() {
                if !group_keys.contains(group.as_str()) {
                    v.add(
                        format!("{field}.condition.professional_groups[{j}]"),
                        format!("names no professional group of this survey: {group:?}"),
                    );
                }
            }
            for (j, band) in condition.age_bands.iter().enumerate() {
                if !band_keys.contains(band.as_str()) {
                    v.add(
                        format!("{field}.condition.age_bands[{j}]"),
                        format!("names no age band of this survey: {band:?}"),
                    );
                }
            }
        }
    }
    v.into_result(())
}

/// A question keeps its kind across versions, or its answers would not compare.
pub fn check_kinds_unchanged(
    prefix: &str,
    previous: &SurveyContent,
    next: &SurveyContent,
) -> Result<(), Violations> {
    let before: HashMap<&str, &'static str> = previous
        .questions
        .iter()
        .filter_map(|q| q.kind.as_ref().map(|k| (q.key.as_str(), kind_name(k))))
        .collect();
    let mut v = Violations::new();
    for (i, question) in next.questions.iter().enumerate() {
        if let (Some(old), Some(kind)) = (before.get(question.key.as_str()), &question.kind)
            && *old != kind_name(kind)
        {
            v.add(
                    format!("{prefix}.questions[{i}].kind"),
                    format!(
                        "question {:?} was {old} in an earlier version; a key keeps its kind so answers compare across versions (use a new key)",
                        question.key
                    ),
                );
        }
    }
    v.into_result(())
}

pub fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Nps(_) => "an NPS question",
        Kind::Statement(_) => "a statement",
        Kind::Smiley(_) => "a smiley question",
        Kind::Choice(_) => "a choice question",
        Kind::OpenText(_) => "an open-text question",
    }
}

fn check_question(
    v: &mut Violations,
    field: &str,
    question: &pb::Question,
    languages: &BTreeSet<Language>,
    publish: bool,
) {
    check_texts(
        v,
        &format!("{field}.texts"),
        &question.texts,
        languages,
        publish,
    );
    if pb::ThlTopic::try_from(question.topic).is_err() {
        v.add(
            format!("{field}.topic"),
            format!("unknown topic {}", question.topic),
        );
    }
    match &question.kind {
        None => v.add(
            format!("{field}.kind"),
            "is required: one of nps, statement, smiley, choice, open_text",
        ),
        Some(Kind::Nps(_)) | Some(Kind::Statement(_)) => {}
        Some(Kind::Smiley(smiley)) => {
            if smiley.faces != 3 && smiley.faces != 5 {
                v.add(
                    format!("{field}.smiley.faces"),
                    format!("must be 3 or 5, got {}", smiley.faces),
                );
            }
        }
        Some(Kind::Choice(choice)) => {
            if choice.options.len() < 2 {
                v.add(
                    format!("{field}.choice.options"),
                    "must offer at least two options",
                );
            }
            let mut keys = HashSet::new();
            for (j, option) in choice.options.iter().enumerate() {
                let option_field = format!("{field}.choice.options[{j}]");
                check_key(v, &format!("{option_field}.key"), &option.key, &mut keys);
                check_texts(
                    v,
                    &format!("{option_field}.texts"),
                    &option.texts,
                    languages,
                    publish,
                );
            }
        }
        Some(Kind::OpenText(open)) => {
            if open.max_chars > MAX_OPEN_TEXT_CHARS {
                v.add(
                    format!("{field}.open_text.max_chars"),
                    format!(
                        "must be at most {MAX_OPEN_TEXT_CHARS}, got {}",
                        open.max_chars
                    ),
                );
            }
        }
    }
}

fn check_collection(
    v: &mut Violations,
    prefix: &str,
    collection: Option<&Collection>,
    publish: bool,
) {
    match collection {
        None if publish => v.add(
            format!("{prefix}.collection"),
            "is required: continuous or scheduled periods",
        ),
        None | Some(Collection::Continuous(_)) => {}
        Some(Collection::Scheduled(scheduled)) => {
            if scheduled.periods.is_empty() {
                v.add(
                    format!("{prefix}.scheduled.periods"),
                    "must hold at least one period",
                );
            }
            let mut ids = HashSet::new();
            let mut ranges = Vec::new();
            for (i, period) in scheduled.periods.iter().enumerate() {
                let field = format!("{prefix}.scheduled.periods[{i}]");
                check_key(
                    v,
                    &format!("{field}.period_id"),
                    &period.period_id,
                    &mut ids,
                );
                let starts = period.starts_on.as_ref().and_then(|d| d.to_naive());
                let ends = period.ends_on.as_ref().and_then(|d| d.to_naive());
                match (starts, ends) {
                    (None, _) => v.add(format!("{field}.starts_on"), "must be a valid date"),
                    (_, None) => v.add(format!("{field}.ends_on"), "must be a valid date"),
                    (Some(s), Some(e)) if e < s => {
                        v.add(format!("{field}.ends_on"), "must not be before starts_on")
                    }
                    (Some(s), Some(e)) => {
                        if ranges.iter().any(|(rs, re)| s <= *re && *rs <= e) {
                            v.add(field, "overlaps another period");
                        }
                        ranges.push((s, e));
                    }
                }
            }
        }
    }
}

fn check_key<'a>(v: &mut Violations, field: &str, key: &'a str, seen: &mut HashSet<&'a str>) {
    if key.is_empty() {
        v.add(field, "is required");
    } else if !is_valid_key(key) {
        if let Err(e) = QuestionKey::parse(field, key) {
            v.extend(e);
        }
    } else if !seen.insert(key) {
        v.add(field, format!("{key:?} is used twice"));
    }
}

/// Texts must be unique per language, within length limits, and (for publishing) present and
/// non-blank in every offered language.
fn check_texts(
    v: &mut Violations,
    field: &str,
    texts: &[pb::LocalizedText],
    languages: &BTreeSet<Language>,
    publish: bool,
) {
    let mut seen = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        match Language::try_from(text.language) {
            Ok(Language::Unspecified) | Err(_) => v.add(
                format!("{field}[{i}].language"),
                format!("must be fi, sv or en, got {}", text.language),
            ),
            Ok(language) => {
                if !seen.insert(language) {
                    v.add(
                        format!("{field}[{i}].language"),
                        format!("{} is given twice", language_code(language)),
                    );
                }
                if text.text.chars().count() > MAX_LABEL_CHARS {
                    v.add(
                        format!("{field}[{i}].text"),
                        format!("must be at most {MAX_LABEL_CHARS} characters"),
                    );
                }
                if publish && text.text.trim().is_empty() {
                    v.add(format!("{field}[{i}].text"), "must not be blank");
                }
            }
        }
    }
    if publish {
        let missing: Vec<&str> = languages
            .iter()
            .filter(|l| !seen.contains(*l))
            .map(|l| language_code(*l))
            .collect();
        if !missing.is_empty() {
            v.add(
                field,
                format!("missing translation: {}", missing.join(", ")),
            );
        }
    }
}

/// Texts a survey may leave out (an age band's own title, intro and thanks): none at all, or
/// the same as required texts, each in a language the survey offers (a Swedish text in a survey
/// offered only in Finnish would never be shown, and is a mistake).
fn check_optional_texts(
    v: &mut Violations,
    field: &str,
    texts: &[pb::LocalizedText],
    languages: &BTreeSet<Language>,
    publish: bool,
) {
    if texts.is_empty() {
        return;
    }
    for (i, text) in texts.iter().enumerate() {
        if let Ok(language) = Language::try_from(text.language)
            && language != Language::Unspecified
            && !languages.contains(&language)
        {
            v.add(
                format!("{field}[{i}].language"),
                format!(
                    "{} is not a language of this survey",
                    language_code(language)
                ),
            );
        }
    }
    check_texts(v, field, texts, languages, publish);
}

fn known_enum_list<T: Ord + Copy>(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    parse: impl Fn(i32) -> Option<T>,
) -> BTreeSet<T> {
    let mut known = BTreeSet::new();
    for (i, raw) in values.iter().enumerate() {
        match parse(*raw) {
            Some(value) => {
                if !known.insert(value) {
                    v.add(format!("{field}[{i}]"), "is listed twice");
                }
            }
            None => v.add(
                format!("{field}[{i}]"),
                format!("unknown or unspecified value {raw}"),
            ),
        }
    }
    known
}

#[cfg(test)]
mod rules;
