//! An automated attacker against Kaiku's disclosure control (ADR 0018). A county is seeded
//! where some units, months, days, professional groups, roles, channels and languages have 1 to
//! 4 responses. Holding a unit manager's token and a county reader's, the attacker asks every
//! figure and text list the API allows with every filter below (units, subtrees, overlapping
//! subtrees, roles, channels, groups, languages, months and ranges of them, each grouping),
//! and then a solver adds and subtracts any two or three of the results, reading each as a
//! naive reader would (a figure describes exactly the responses its filter names). It must
//! recover no figure of a group under the minimum and no text of a small cell.
//!
//! The same attacker run with a row-level token (kaiku.export, exact figures suppressed table
//! by table) does recover small groups: the solver is shown to work, so its silence against
//! readers means something.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use futures::StreamExt;
use kaiku_auth::Scope;
use kaiku_domain::fixtures::{NPS_KEY, OPEN_KEY, nps_survey, texts};
use kaiku_domain::time::LocalDateExt;
use kaiku_grpc::AuthorizedChannel;
use kaiku_proto::analytics::v1::analytics_client::AnalyticsClient;
use kaiku_proto::analytics::v1::{
    ComparePeriodsRequest, Dimension, ExportResponsesRequest, GetNpsRequest,
    GetResponseVolumeRequest, Grouping, ListFeedbackTextsRequest, ResponseFilter, TimeBucket,
};
use kaiku_proto::intake::v1::{
    Answer, NpsAnswer, OpenTextAnswer, ResponseContext, SubmitResponseRequest, answer::Value,
};
use kaiku_proto::survey::v1::survey_content::Collection;
use kaiku_proto::survey::v1::{
    Channel, Language, LocalDate, ProfessionalGroup, RespondentRole, UnitLevel,
};
use kaiku_proto::survey::v1::{CollectionPeriod, ScheduledCollection};
use kaiku_system_tests::{Stack, TestResult, unit};
use kaiku_test_support::Grant;

const MIN: usize = 5;

/// The county: (unit, parent).
const UNITS: [(&str, &str); 9] = [
    ("dc-county", ""),
    ("area-a", "dc-county"),
    ("school-a1", "area-a"),
    ("school-a2", "area-a"),
    ("area-b", "dc-county"),
    ("school-b1", "area-b"),
    ("school-b2", "area-b"),
    ("area-c", "dc-county"),
    ("school-c", "area-c"),
];

#[derive(Debug, Clone)]
struct Respondent {
    unit: &'static str,
    role: RespondentRole,
    channel: Channel,
    group: &'static str,
    language: Language,
    day: NaiveDate,
    nps: Option<u32>,
    text: Option<String>,
}

fn lineage(unit: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut current = unit;
    while let Some((id, parent)) = UNITS.iter().find(|(id, _)| *id == current) {
        out.push(*id);
        current = parent;
    }
    out
}

/// A deterministic county: big cells with small ones beside them in every dimension.
fn respondents() -> Vec<Respondent> {
    let mut seed: u64 = 0x6b61_696b_7521;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
    let mut out = Vec::new();
    // (unit, how many, guardians among them)
    let plan: [(&str, usize, usize); 5] = [
        ("school-a1", 44, 6),
        ("school-a2", 3, 0),
        ("school-b1", 12, 0),
        ("school-b2", 4, 1),
        ("school-c", 34, 3),
    ];
    for (unit, count, guardians) in plan {
        for i in 0..count {
            let r = next(100);
            let channel = match r {
                0..=59 => Channel::Qr,
                60..=84 => Channel::WebLink,
                85..=92 => Channel::Kiosk,
                93..=97 => Channel::Sms,
                _ => Channel::Paper,
            };
            let group = match next(100) {
                0..=84 => "nurse",
                85..=94 => "doctor",
                _ => "social",
            };
            let language = match next(100) {
                0..=89 => Language::Fi,
                90..=96 => Language::Sv,
                _ => Language::En,
            };
            // Mostly September to November; a few in the first days of December, and one
            // lone day with a single answer in school-b1.
            let month = [9, 9, 10, 10, 11, 11, 12][next(7) as usize];
            let d = if month == 12 {
                1 + next(4) as u32
            } else {
                1 + next(28) as u32
            };
            let score = [10, 10, 9, 9, 8, 7, 6, 5, 3, 0][next(10) as usize];
            out.push(Respondent {
                unit,
                role: if i < guardians {
                    RespondentRole::Guardian
                } else {
                    RespondentRole::Client
                },
                channel,
                group,
                language,
                day: day(month, d),
                // One in ten skips the (optional) NPS question.
                nps: (next(10) != 0).then_some(score),
                text: (next(10) < 7)
                    .then(|| format!("Palaute nro {}: {}", out.len(), WORDS[next(4) as usize])),
            });
        }
    }
    out
}

const WORDS: [&str; 4] = [
    "hyvä palvelu, kiitos",
    "odotin liian kauan",
    "ystävällinen kohtaaminen",
    "ajanvaraus oli vaikea",
];

fn to_local(day: NaiveDate) -> LocalDate {
    kaiku_domain::time::local_date(day)
}

/// Whether a month bucket (or a text's month) is the month of `day`.
fn same_month(bucket: &LocalDate, day: NaiveDate) -> bool {
    bucket
        .to_naive()
        .is_some_and(|b| b.year() == day.year() && b.month() == day.month())
}

fn month_range(first: u32, last: u32) -> (NaiveDate, NaiveDate) {
    let from = NaiveDate::from_ymd_opt(2026, first, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2026, last + 1, 1)
        .or_else(|| NaiveDate::from_ymd_opt(2027, 1, 1))
        .and_then(|d| d.pred_opt())
        .unwrap_or_default();
    (from, to)
}

/// The survey's two collection periods: autumn (September and October) and winter (November
/// and December).
const PERIODS: [(&str, (u32, u32)); 2] = [("autumn", (9, 10)), ("winter", (11, 12))];

fn period_of(day: NaiveDate) -> &'static str {
    if day.month() <= 10 {
        "autumn"
    } else {
        "winter"
    }
}

fn matches(r: &Respondent, f: &ResponseFilter) -> bool {
    let line = lineage(r.unit);
    let day = |d: &Option<LocalDate>| d.as_ref().and_then(LocalDateExt::to_naive);
    (f.unit_ids.is_empty() || f.unit_ids.iter().any(|u| u == r.unit))
        && (f.unit_subtrees.is_empty()
            || f.unit_subtrees.iter().any(|u| line.contains(&u.as_str())))
        && day(&f.from_date).is_none_or(|from| r.day >= from)
        && day(&f.to_date).is_none_or(|to| r.day <= to)
        && (f.channels.is_empty() || f.channels.contains(&(r.channel as i32)))
        && (f.respondent_roles.is_empty() || f.respondent_roles.contains(&(r.role as i32)))
        && (f.professional_groups.is_empty() || f.professional_groups.iter().any(|g| g == r.group))
        && (f.languages.is_empty() || f.languages.contains(&(r.language as i32)))
        && (f.period_ids.is_empty() || f.period_ids.iter().any(|p| p == period_of(r.day)))
}

/// A row's value for a respondent, as the API names groups.
fn group_value(r: &Respondent, dimension: Dimension) -> String {
    use kaiku_domain::codes::{channel_code, language_code, role_code};
    match dimension {
        Dimension::Unit => r.unit.to_owned(),
        Dimension::Channel => channel_code(r.channel).to_owned(),
        Dimension::RespondentRole => role_code(r.role).to_owned(),
        Dimension::ProfessionalGroup => r.group.to_owned(),
        Dimension::Language => language_code(r.language).to_owned(),
        Dimension::Period => period_of(r.day).to_owned(),
        _ => String::new(),
    }
}

/// What a naive reader believes a result describes: the respondents (bits) and the figures.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Observation {
    set: u128,
    /// n, promoters, passives, detractors (volume: responses, 0, 0, 0).
    values: [i64; 4],
    what: String,
}

fn nps_values(people: &[Respondent], set: u128) -> [i64; 4] {
    let mut v = [0i64; 4];
    for (i, r) in people.iter().enumerate() {
        if set & (1u128 << i) != 0 {
            let score = r.nps.unwrap_or_default();
            v[0] += 1;
            match score {
                9..=10 => v[1] += 1,
                7..=8 => v[2] += 1,
                _ => v[3] += 1,
            }
        }
    }
    v
}

fn set_of(people: &[Respondent], keep: impl Fn(&Respondent) -> bool) -> u128 {
    people
        .iter()
        .enumerate()
        .filter(|(_, r)| keep(r))
        .fold(0u128, |set, (i, _)| set | (1u128 << i))
}

/// The filters the attacker tries.
fn filters() -> Vec<(String, ResponseFilter)> {
    let roles: [(&str, Vec<i32>); 3] = [
        ("client", vec![RespondentRole::Client as i32]),
        ("guardian", vec![RespondentRole::Guardian as i32]),
        (
            "client+guardian",
            vec![
                RespondentRole::Client as i32,
                RespondentRole::Guardian as i32,
            ],
        ),
    ];
    let mut scopes: Vec<(String, Vec<String>, Vec<String>)> = vec![("all".into(), vec![], vec![])];
    for (id, _) in UNITS {
        scopes.push((format!("subtree {id}"), vec![], vec![id.to_owned()]));
        scopes.push((format!("unit {id}"), vec![id.to_owned()], vec![]));
    }
    scopes.push((
        "subtrees area-a+school-a1".into(),
        vec![],
        vec!["area-a".into(), "school-a1".into()],
    ));
    scopes.push((
        "units school-a1+school-a2".into(),
        vec!["school-a1".into(), "school-a2".into()],
        vec![],
    ));
    scopes.push((
        "subtrees school-b1+school-c".into(),
        vec![],
        vec!["school-b1".into(), "school-c".into()],
    ));
    let mut attributes: Vec<(String, ResponseFilter)> =
        vec![("".into(), ResponseFilter::default())];
    for channel in [
        Channel::Qr,
        Channel::WebLink,
        Channel::Kiosk,
        Channel::Sms,
        Channel::Paper,
    ] {
        attributes.push((
            format!(" channel {channel:?}"),
            ResponseFilter {
                channels: vec![channel as i32],
                ..Default::default()
            },
        ));
    }
    attributes.push((
        " channels qr+web".into(),
        ResponseFilter {
            channels: vec![Channel::Qr as i32, Channel::WebLink as i32],
            ..Default::default()
        },
    ));
    for group in ["nurse", "doctor", "social"] {
        attributes.push((
            format!(" group {group}"),
            ResponseFilter {
                professional_groups: vec![group.into()],
                ..Default::default()
            },
        ));
    }
    for (period, _) in PERIODS {
        attributes.push((
            format!(" period {period}"),
            ResponseFilter {
                period_ids: vec![period.into()],
                ..Default::default()
            },
        ));
    }
    for language in [Language::Fi, Language::Sv, Language::En] {
        attributes.push((
            format!(" language {language:?}"),
            ResponseFilter {
                languages: vec![language as i32],
                ..Default::default()
            },
        ));
    }
    for (first, last) in [
        (9, 9),
        (10, 10),
        (11, 11),
        (12, 12),
        (9, 10),
        (9, 11),
        (10, 12),
        (11, 12),
    ] {
        let (from, to) = month_range(first, last);
        attributes.push((
            format!(" months {first}-{last}"),
            ResponseFilter {
                from_date: Some(to_local(from)),
                to_date: Some(to_local(to)),
                ..Default::default()
            },
        ));
    }
    let mut out = Vec::new();
    for (scope, unit_ids, subtrees) in &scopes {
        for (role, role_values) in &roles {
            for (attribute, extra) in &attributes {
                out.push((
                    format!("{scope} {role}{attribute}"),
                    ResponseFilter {
                        unit_ids: unit_ids.clone(),
                        unit_subtrees: subtrees.clone(),
                        respondent_roles: role_values.clone(),
                        ..extra.clone()
                    },
                ));
            }
        }
    }
    out
}

fn groupings() -> Vec<(Dimension, Grouping)> {
    let mut out: Vec<(Dimension, Grouping)> = [
        Dimension::Unit,
        Dimension::Channel,
        Dimension::RespondentRole,
        Dimension::ProfessionalGroup,
        Dimension::Language,
        Dimension::Period,
    ]
    .into_iter()
    .map(|d| {
        (
            d,
            Grouping {
                group_by: vec![d as i32],
                bucket: TimeBucket::None as i32,
            },
        )
    })
    .collect();
    out.push((
        Dimension::Unspecified,
        Grouping {
            group_by: vec![],
            bucket: TimeBucket::Month as i32,
        },
    ));
    out
}

/// ComparePeriods of autumn and winter with `filter` (without its own periods).
fn compare(survey_id: &str, filter: &ResponseFilter, marker: u64) -> ComparePeriodsRequest {
    ComparePeriodsRequest {
        survey_id: survey_id.to_owned(),
        question_key: NPS_KEY.into(),
        filter: Some(ResponseFilter {
            period_ids: vec![],
            ..filter.clone()
        }),
        min_sequence: marker,
        earlier_period_id: "autumn".into(),
        later_period_id: "winter".into(),
        statement_keys: vec![],
    }
}

/// One query: its name, filter and grouping (with the dimension it groups by).
type Job = (String, ResponseFilter, Option<(Dimension, Grouping)>);

struct Attacker {
    client: AnalyticsClient<AuthorizedChannel>,
    survey_id: String,
    marker: u64,
}

/// Everything one token can learn: figure observations (NPS and volume) and text lists.
#[derive(Default)]
struct Loot {
    nps: BTreeSet<Observation>,
    volume: BTreeSet<Observation>,
    texts: Vec<TextList>,
    shown: Vec<kaiku_proto::analytics::v1::FeedbackText>,
}

impl Attacker {
    async fn gather(&self, people: &[Respondent]) -> TestResult<Loot> {
        let mut loot = Loot::default();
        let filters = filters();
        let grouped = groupings();
        // Totals for every filter; each grouping for the filters without an attribute.
        let mut jobs: Vec<Job> = Vec::new();
        for (name, filter) in &filters {
            jobs.push((name.clone(), filter.clone(), None));
            let plain = filter.channels.is_empty()
                && filter.professional_groups.is_empty()
                && filter.languages.is_empty()
                && filter.period_ids.is_empty()
                && filter.from_date.is_none();
            if plain {
                for g in &grouped {
                    jobs.push((name.clone(), filter.clone(), Some(g.clone())));
                }
            }
        }
        let results = futures::stream::iter(jobs.into_iter().map(|(name, filter, grouping)| {
            let mut client = self.client.clone();
            let survey_id = self.survey_id.clone();
            let survey_id_for_compare = survey_id.clone();
            let marker = self.marker;
            async move {
                let nps = client
                    .get_nps(GetNpsRequest {
                        survey_id: survey_id.clone(),
                        question_key: NPS_KEY.into(),
                        filter: Some(filter.clone()),
                        grouping: grouping.as_ref().map(|g| g.1.clone()),
                        min_sequence: marker,
                    })
                    .await;
                let volume = client
                    .get_response_volume(GetResponseVolumeRequest {
                        survey_id,
                        filter: Some(filter.clone()),
                        grouping: grouping.as_ref().map(|g| g.1.clone()),
                        min_sequence: marker,
                    })
                    .await;
                // The two periods compared, for the totals only.
                let compared = match grouping {
                    Some(_) => None,
                    None => Some(
                        client
                            .compare_periods(compare(&survey_id_for_compare, &filter, marker))
                            .await,
                    ),
                };
                (name, filter, grouping, nps, volume, compared)
            }
        }))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
        for (name, filter, grouping, nps, volume, compared) in results {
            match compared {
                Some(Ok(reply)) => {
                    let reply = reply.into_inner();
                    for (period, figure) in [("autumn", &reply.earlier), ("winter", &reply.later)] {
                        if let Some(f) = figure {
                            loot.nps.insert(Observation {
                                set: set_of(people, |r| {
                                    matches(r, &filter)
                                        && r.nps.is_some()
                                        && period_of(r.day) == period
                                }),
                                values: [
                                    f.n as i64,
                                    f.promoters as i64,
                                    f.passives as i64,
                                    f.detractors as i64,
                                ],
                                what: format!("NPS compared {name} {period}"),
                            });
                        }
                    }
                }
                Some(Err(status)) if status.code() == tonic::Code::PermissionDenied => {}
                Some(Err(status)) => return Err(format!("ComparePeriods {name}: {status}").into()),
                None => {}
            }
            let in_filter = |r: &Respondent| matches(r, &filter);
            let row_set = |group: &[String], bucket: Option<&LocalDate>, answered: bool| {
                set_of(people, |r| {
                    in_filter(r)
                        && (!answered || r.nps.is_some())
                        && match &grouping {
                            Some((Dimension::Unspecified, _)) => {
                                bucket.is_some_and(|b| same_month(b, r.day))
                            }
                            Some((d, _)) => group.first().is_some_and(|g| *g == group_value(r, *d)),
                            None => true,
                        }
                })
            };
            match nps {
                Ok(reply) => {
                    let reply = reply.into_inner();
                    if let Some(f) = &reply.figure {
                        loot.nps.insert(Observation {
                            set: set_of(people, |r| in_filter(r) && r.nps.is_some()),
                            values: [
                                f.n as i64,
                                f.promoters as i64,
                                f.passives as i64,
                                f.detractors as i64,
                            ],
                            what: format!("NPS {name}"),
                        });
                    }
                    for row in &reply.rows {
                        if let Some(f) = &row.figure {
                            loot.nps.insert(Observation {
                                set: row_set(&row.group, row.bucket_start.as_ref(), true),
                                values: [
                                    f.n as i64,
                                    f.promoters as i64,
                                    f.passives as i64,
                                    f.detractors as i64,
                                ],
                                what: format!(
                                    "NPS {name} row {:?} {:?}",
                                    row.group, row.bucket_start
                                ),
                            });
                        }
                    }
                }
                Err(status) if status.code() == tonic::Code::PermissionDenied => {}
                Err(status) => return Err(format!("GetNps {name}: {status}").into()),
            }
            match volume {
                Ok(reply) => {
                    let reply = reply.into_inner();
                    if !reply.total_suppressed && reply.total > 0 {
                        loot.volume.insert(Observation {
                            set: set_of(people, in_filter),
                            values: [reply.total as i64, 0, 0, 0],
                            what: format!("volume {name}"),
                        });
                    }
                    for row in &reply.rows {
                        if !row.suppressed {
                            loot.volume.insert(Observation {
                                set: row_set(&row.group, row.bucket_start.as_ref(), false),
                                values: [row.responses as i64, 0, 0, 0],
                                what: format!(
                                    "volume {name} row {:?} {:?}",
                                    row.group, row.bucket_start
                                ),
                            });
                        }
                    }
                }
                Err(status) if status.code() == tonic::Code::PermissionDenied => {}
                Err(status) => return Err(format!("GetResponseVolume {name}: {status}").into()),
            }
        }
        // Texts, paged through, for every filter without a group or language attribute.
        let text_filters: Vec<(String, ResponseFilter)> = filters
            .into_iter()
            .filter(|(_, f)| f.professional_groups.is_empty() && f.languages.is_empty())
            .collect();
        let lists = futures::stream::iter(text_filters.into_iter().map(|(name, filter)| {
            let mut client = self.client.clone();
            let survey_id = self.survey_id.clone();
            let marker = self.marker;
            async move {
                let mut texts = Vec::new();
                let mut token = String::new();
                loop {
                    let page = client
                        .list_feedback_texts(ListFeedbackTextsRequest {
                            survey_id: survey_id.clone(),
                            filter: Some(filter.clone()),
                            min_sequence: marker,
                            page_size: 40,
                            page_token: token.clone(),
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    texts.extend(page.texts);
                    if page.next_page_token.is_empty() {
                        break;
                    }
                    token = page.next_page_token;
                }
                Ok::<_, tonic::Status>((name, filter, texts))
            }
        }))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
        for listed in lists {
            match listed {
                Ok((name, filter, texts)) => {
                    // The cell is every response the filter names: a text is safe in a cell of
                    // at least the minimum of responses, however few of them wrote.
                    let writers = set_of(people, |r| matches(r, &filter));
                    let shown = texts.iter().fold(0u128, |bits, t| {
                        bits | people
                            .iter()
                            .position(|r| r.text.as_deref() == Some(t.text.as_str()))
                            .map_or(0, |i| 1u128 << i)
                    });
                    loot.texts.push(TextList {
                        cell: writers,
                        shown,
                        name,
                    });
                    loot.shown.extend(texts);
                }
                Err(status) if status.code() == tonic::Code::PermissionDenied => {}
                Err(status) => return Err(format!("ListFeedbackTexts: {status}").into()),
            }
        }
        Ok(loot)
    }
}

/// A small group's figure derived by adding and subtracting two or three results, each read
/// as describing exactly the respondents its filter names. Sets are bits over the respondents;
/// a combination names a group when every respondent is counted 0 or 1 times.
fn solve_figures(
    observations: &BTreeSet<Observation>,
    truth: impl Fn(u128) -> [i64; 4],
) -> Vec<(u128, String)> {
    // One observation per (set, figures): the same result reached by two queries adds nothing.
    let mut distinct: BTreeMap<(u128, [i64; 4]), &Observation> = BTreeMap::new();
    for o in observations {
        distinct.entry((o.set, o.values)).or_insert(o);
    }
    let all: Vec<&Observation> = distinct.into_values().collect();
    let size = |set: u128| set.count_ones() as usize;
    // Observations by the size of their set, for the candidates a combination needs.
    let mut by_size: Vec<Vec<&Observation>> = vec![Vec::new(); 129];
    for o in &all {
        by_size[size(o.set)].push(o);
    }
    let near = |low: usize, high: usize| {
        by_size[low.min(128)..=high.min(128)]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
    };
    let mut found = Vec::new();
    let mut check = |set: u128, values: [i64; 4], how: String| {
        let n = size(set);
        if n > 0 && n < MIN && values == truth(set) && found.len() < 5000 {
            found.push((set, format!("{how}: {n} respondents, {values:?}")));
        }
    };
    let add = |a: [i64; 4], b: [i64; 4], sign: i64| -> [i64; 4] {
        std::array::from_fn(|i| a[i] + sign * b[i])
    };
    for a in &all {
        let na = size(a.set);
        // A - B, B inside A and at most MIN - 1 smaller.
        for b in near(na.saturating_sub(MIN - 1), na) {
            if b.set != a.set && b.set & !a.set == 0 {
                check(
                    a.set & !b.set,
                    add(a.values, b.values, -1),
                    format!("{} - {}", a.what, b.what),
                );
            }
        }
        // A - B - C, B and C disjoint inside A.
        let inside: Vec<&Observation> = all
            .iter()
            .filter(|b| b.set != a.set && b.set & !a.set == 0)
            .copied()
            .collect();
        for b in &inside {
            let rest = na - size(b.set);
            for c in &inside {
                let nc = size(c.set);
                if nc + MIN > rest && nc <= rest && b.set < c.set && b.set & c.set == 0 {
                    let values = add(add(a.values, b.values, -1), c.values, -1);
                    check(
                        a.set & !b.set & !c.set,
                        values,
                        format!("{} - {} - {}", a.what, b.what, c.what),
                    );
                }
            }
        }
    }
    // A + B - C: every respondent of both A and B in C, C inside A and B together.
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let (union, both) = (a.set | b.set, a.set & b.set);
            if size(both) >= MIN {
                continue;
            }
            let nu = size(union);
            for c in near(nu.saturating_sub(MIN - 1), nu) {
                if both & !c.set == 0 && c.set & !union == 0 && c.set != union {
                    let set = ((a.set ^ b.set) & !c.set) | both;
                    let values = add(add(a.values, b.values, 1), c.values, -1);
                    check(set, values, format!("{} + {} - {}", a.what, b.what, c.what));
                }
            }
        }
    }
    found
}

/// One text list as the attacker reads it: the responses its filter names (the cell) and,
/// as bits over the same respondents, whose texts it showed.
struct TextList {
    cell: u128,
    shown: u128,
    name: String,
}

/// A text pinned on a small cell: texts one list shows and another (or two others) do not, or
/// two lists both show, all written in the few responses the combination of filters names.
/// The county's second world has the texts written by the other respondents, so a
/// combination pins a cell only when, in both worlds, every text it leaves comes from the cell
/// (and some does): a block whose other members happened not to write is not a leak.
fn solve_texts(worlds: [&[TextList]; 2]) -> Vec<String> {
    let [first, second] = worlds;
    let mut found = Vec::new();
    let mut pinned = |texts: [u128; 2], cell: u128, how: &dyn Fn() -> String| {
        let n = cell.count_ones() as usize;
        if n > 0
            && n < MIN
            && texts.iter().all(|t| t & !cell == 0)
            && texts.iter().any(|t| *t != 0)
            && found.len() < 20
        {
            found.push(format!(
                "{}: texts of {} respondents",
                how(),
                texts[0].count_ones()
            ));
        }
    };
    let lists: Vec<(&TextList, &TextList)> = first.iter().zip(second).collect();
    for (a, a2) in &lists {
        for (b, b2) in &lists {
            if b.cell & !a.cell == 0 && a.cell != b.cell {
                pinned(
                    [a.shown & !b.shown, a2.shown & !b2.shown],
                    a.cell & !b.cell,
                    &|| format!("texts {} - {}", a.name, b.name),
                );
            }
            pinned(
                [a.shown & b.shown, a2.shown & b2.shown],
                a.cell & b.cell,
                &|| format!("texts {} & {}", a.name, b.name),
            );
        }
    }
    for (a, a2) in &lists {
        let inside: Vec<&(&TextList, &TextList)> = lists
            .iter()
            .filter(|(b, _)| b.cell & !a.cell == 0 && b.cell != a.cell)
            .collect();
        for (i, (b, b2)) in inside.iter().enumerate() {
            for (c, c2) in &inside[i + 1..] {
                let cell = a.cell & !b.cell & !c.cell;
                if cell != 0 && (cell.count_ones() as usize) < MIN {
                    pinned(
                        [
                            a.shown & !b.shown & !c.shown,
                            a2.shown & !b2.shown & !c2.shown,
                        ],
                        cell,
                        &|| format!("texts {} - {} - {}", a.name, b.name, c.name),
                    );
                }
            }
        }
    }
    found
}

struct County {
    stack: Stack,
    tokens: Vec<String>,
    survey_ids: [String; 2],
    marker: u64,
    people: [Vec<Respondent>; 2],
}

async fn county(keys: &[(&str, &[Scope], Grant)]) -> TestResult<County> {
    let (stack, tokens) = Stack::start_with_keys(&[], keys).await?;
    let mut surveys = stack.surveys().await?;
    for (id, parent) in UNITS {
        let level = match id {
            "dc-county" => UnitLevel::County,
            _ if id.starts_with("area") => UnitLevel::ServiceArea,
            _ => UnitLevel::Unit,
        };
        surveys.create_unit(unit(id, parent, level, id)).await?;
    }
    let schools: Vec<&str> = UNITS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| id.starts_with("school"))
        .collect();
    let mut content = nps_survey(&schools);
    content.professional_groups = ["nurse", "doctor", "social"]
        .into_iter()
        .map(|key| ProfessionalGroup {
            key: key.into(),
            names: texts(key, key, key),
        })
        .collect();
    content.collection = Some(Collection::Scheduled(ScheduledCollection {
        periods: PERIODS
            .iter()
            .map(|(id, (first, last))| {
                let (from, to) = month_range(*first, *last);
                CollectionPeriod {
                    period_id: (*id).into(),
                    starts_on: Some(to_local(from)),
                    ends_on: Some(to_local(to)),
                }
            })
            .collect(),
    }));
    if let Some(nps) = content.questions.iter_mut().find(|q| q.key == NPS_KEY) {
        nps.required = false;
    }
    let first = respondents();
    assert!(first.len() <= 128, "the solver's sets are 128 bits");
    let turned: Vec<Respondent> = first
        .iter()
        .enumerate()
        .map(|(i, r)| Respondent {
            nps: r.nps.map(|score| 10 - score),
            text: match &r.text {
                Some(_) => None,
                None => Some(format!(
                    "Toinen palaute nro {i}: {}",
                    WORDS[i % WORDS.len()]
                )),
            },
            ..r.clone()
        })
        .collect();
    let people = [first, turned];
    let survey_ids = [
        stack.publish(content.clone()).await?,
        stack.publish(content).await?,
    ];
    let mut marker = 0;
    for (survey_id, people) in survey_ids.iter().zip(&people) {
        marker = marker.max(submit(&stack, survey_id, people).await?);
    }
    // Readers ask with no sequence (ADR 0020): they are asked once the answers are released.
    for survey_id in &survey_ids {
        stack.wait_released(survey_id, marker).await?;
    }
    Ok(County {
        stack,
        tokens,
        survey_ids,
        marker,
        people,
    })
}

async fn submit(stack: &Stack, survey_id: &str, people: &[Respondent]) -> TestResult<u64> {
    let requests = people
        .iter()
        .map(|r| {
            // 10:00 UTC is 12:00 or 13:00 in Helsinki: the same day.
            let noon = r
                .day
                .and_hms_opt(10, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp();
            let mut answers = Vec::new();
            if let Some(score) = r.nps {
                answers.push(Answer {
                    question_key: NPS_KEY.into(),
                    value: Some(Value::Nps(NpsAnswer { score })),
                });
            }
            if let Some(text) = &r.text {
                answers.push(Answer {
                    question_key: OPEN_KEY.into(),
                    value: Some(Value::OpenText(OpenTextAnswer { text: text.clone() })),
                });
            }
            SubmitResponseRequest {
                submission_id: uuid::Uuid::new_v4().to_string(),
                survey_id: survey_id.to_owned(),
                survey_version: 1,
                context: Some(ResponseContext {
                    unit_id: r.unit.into(),
                    channel: r.channel as i32,
                    respondent_role: r.role as i32,
                    professional_group: r.group.into(),
                    language: r.language as i32,
                    ..Default::default()
                }),
                answers,
                answered_at: Some(prost_types::Timestamp {
                    seconds: noon,
                    nanos: 0,
                }),
            }
        })
        .collect();
    stack.submit_batch(requests).await
}

impl County {
    async fn attacker(&self, token: &str) -> TestResult<Attacker> {
        self.attacker_of(token, 0).await
    }

    async fn attacker_of(&self, token: &str, world: usize) -> TestResult<Attacker> {
        Ok(Attacker {
            client: AnalyticsClient::new(self.stack.channel_as("analytics", token).await?),
            survey_id: self.survey_ids[world].clone(),
            marker: self.marker_for(token),
        })
    }

    /// The sequence a token asks with: the last answer's for the exporter (read-your-writes),
    /// none for a reader, who may not ask with one (ADR 0020).
    fn marker_for(&self, token: &str) -> u64 {
        if self.tokens.get(2).is_some_and(|exporter| exporter == token) {
            self.marker
        } else {
            0
        }
    }

    /// Everything the solver recovers with the token's results: figures right in both worlds,
    /// and texts pinned on a small cell.
    async fn recovered(&self, token: &str) -> TestResult<(Vec<String>, Loot)> {
        let started = std::time::Instant::now();
        let mut loots = Vec::new();
        for world in 0..2 {
            let attacker = self.attacker_of(token, world).await?;
            loots.push(attacker.gather(&self.people[world]).await?);
        }
        let gathered = started.elapsed();
        let nps: Vec<Vec<(u128, String)>> = (0..2)
            .map(|world| {
                let people = &self.people[world];
                solve_figures(&loots[world].nps, |set| nps_values(people, set))
            })
            .collect();
        let again: BTreeSet<u128> = nps[1].iter().map(|(set, _)| *set).collect();
        let mut found: Vec<String> = nps[0]
            .iter()
            .filter(|(set, _)| again.contains(set))
            .map(|(_, how)| how.clone())
            .collect();
        // Counts are the same in both worlds: any count recovered is recovered.
        found.extend(
            solve_figures(&loots[0].volume, |set| [set.count_ones() as i64, 0, 0, 0])
                .into_iter()
                .map(|(_, how)| how),
        );
        for loot in &mut loots {
            loot.texts.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let names = |w: usize| loots[w].texts.iter().map(|t| &t.name).collect::<Vec<_>>();
        assert_eq!(names(0), names(1), "both worlds are asked the same");
        found.extend(solve_texts([&loots[0].texts, &loots[1].texts]));
        let loot = loots.swap_remove(0);
        eprintln!(
            "asked in {gathered:?}, solved in {:?}: {} NPS, {} volume observations, {} text lists",
            started.elapsed() - gathered,
            loot.nps.len(),
            loot.volume.len(),
            loot.texts.len()
        );
        Ok((found, loot))
    }
}

fn reader_keys() -> Vec<(&'static str, &'static [Scope], Grant)> {
    vec![
        (
            "area-a-manager",
            &[Scope::AnalyticsRead, Scope::Handle],
            Grant {
                unit_subtrees: vec!["area-a".into()],
                ..Grant::default()
            },
        ),
        ("county-reader", &[Scope::AnalyticsRead], Grant::default()),
        (
            "county-exporter",
            &[Scope::AnalyticsRead, Scope::Export],
            Grant::default(),
        ),
    ]
}

#[tokio::test]
async fn a_reader_recovers_no_small_group_by_adding_and_subtracting_results() -> TestResult {
    let c = county(&reader_keys()).await?;
    // The solver works: against exact figures (a row-level caller) it finds small groups, as a
    // reader would have before ADR 0018 (school-c's 3 guardians as both roles minus clients).
    let (exact, _) = c.recovered(&c.tokens[2]).await?;
    for kind in ["NPS", "volume", "texts"] {
        assert!(
            exact.iter().any(|found| found.starts_with(kind)),
            "the attacker should break per-table suppression of {kind}, found only {exact:#?}"
        );
    }
    for (who, token) in [
        ("unit manager", &c.tokens[0]),
        ("county reader", &c.tokens[1]),
    ] {
        let (found, loot) = c.recovered(token).await?;
        assert!(
            found.is_empty(),
            "{who} recovered small groups:\n{found:#?}"
        );
        // Something was shown, so the silence is not an empty result.
        assert!(
            loot.nps.len() >= 5 && loot.volume.len() >= 5 && !loot.shown.is_empty(),
            "{who} saw too little to attack: {} NPS, {} volume, {} texts",
            loot.nps.len(),
            loot.volume.len(),
            loot.shown.len()
        );
        for text in &loot.shown {
            // No response is dated to a day, or numbered, for a reader.
            assert_eq!(text.sequence, 0, "{who}: {text:?}");
            assert!(text.month_only, "{who}: {text:?}");
            assert!(
                text.answered_on.as_ref().is_none_or(|d| d.day == 1),
                "{who}: {text:?}"
            );
            // What a text shows of its origin names at least the minimum of responses.
            let origin = set_of(&c.people[0], |r| {
                lineage(r.unit).contains(&text.unit_id.as_str())
                    && text
                        .answered_on
                        .as_ref()
                        .is_none_or(|d| same_month(d, r.day))
                    && (text.channel == 0 || text.channel == r.channel as i32)
                    && (text.respondent_role == 0 || text.respondent_role == r.role as i32)
                    && (text.professional_group.is_empty() || text.professional_group == r.group)
            });
            assert!(
                origin.count_ones() as usize >= MIN,
                "{who}: a text's origin names {} responses: {text:?}",
                origin.count_ones()
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn what_only_readers_are_refused_is_refused_naming_the_field() -> TestResult {
    let c = county(&reader_keys()).await?;
    let mut reader = c.attacker(&c.tokens[1]).await?;
    let clients = ResponseFilter {
        respondent_roles: vec![RespondentRole::Client as i32],
        ..Default::default()
    };
    let field_of = |status: tonic::Status| {
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        status.message().to_owned()
    };
    // A day range (one day minus the next would date a response).
    let day = NaiveDate::from_ymd_opt(2026, 10, 14).unwrap_or_default();
    for (from, to, field) in [
        (day, month_range(10, 10).1, "filter.from_date"),
        (month_range(10, 10).0, day, "filter.to_date"),
    ] {
        let refused = reader
            .client
            .get_nps(GetNpsRequest {
                survey_id: c.survey_ids[0].clone(),
                filter: Some(ResponseFilter {
                    from_date: Some(to_local(from)),
                    to_date: Some(to_local(to)),
                    ..clients.clone()
                }),
                ..Default::default()
            })
            .await
            .expect_err("a day range");
        assert!(field_of(refused).contains(field));
    }
    for bucket in [TimeBucket::Day, TimeBucket::Week] {
        let refused = reader
            .client
            .get_response_volume(GetResponseVolumeRequest {
                survey_id: c.survey_ids[0].clone(),
                filter: Some(clients.clone()),
                grouping: Some(Grouping {
                    group_by: vec![],
                    bucket: bucket as i32,
                }),
                min_sequence: 0,
            })
            .await
            .expect_err("days and weeks");
        assert!(field_of(refused).contains("grouping.bucket"));
    }
    // A sequence to wait for: how long a survey's newest answer waits to be released would
    // date it, so readers ask with none and are told none (ADR 0020).
    let refused = reader
        .client
        .get_nps(GetNpsRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(clients.clone()),
            min_sequence: c.marker,
            ..Default::default()
        })
        .await
        .expect_err("a sequence to wait for");
    assert!(field_of(refused).contains("min_sequence"));
    let told = reader
        .client
        .get_nps(GetNpsRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(clients.clone()),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(told.as_of_sequence, 0, "no sequence told to a reader");
    // A page token made of a stream sequence (it would order and date responses).
    let refused = reader
        .client
        .list_feedback_texts(ListFeedbackTextsRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(clients.clone()),
            page_token: format!("{}.{OPEN_KEY}", c.marker),
            ..Default::default()
        })
        .await
        .expect_err("a sequence token");
    assert!(field_of(refused).contains("page_token"));
    // Rows one by one need kaiku.export.
    let refused = reader
        .client
        .export_responses(ExportResponsesRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(clients.clone()),
            min_sequence: 0,
        })
        .await
        .expect_err("no export scope");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // The same day range is answered for a caller with kaiku.export.
    let mut exporter = c.attacker(&c.tokens[2]).await?;
    exporter
        .client
        .get_nps(GetNpsRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(ResponseFilter {
                from_date: Some(to_local(day)),
                to_date: Some(to_local(day)),
                ..clients
            }),
            min_sequence: c.marker,
            ..Default::default()
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_unit_or_role_too_small_to_show_is_left_out_and_its_neighbours_are_whole() -> TestResult {
    // Clients: school-a2's 3 and school-b2's 3 are in no figure (each beside a school of more
    // than the minimum, with no answers of their area's own to fold into), the other schools'
    // are whole. Guardians: only school-a1 has the minimum (6); the 4 of school-b2 and
    // school-c together are too few, and are left out.
    let c = county(&reader_keys()).await?;
    let mut reader = c.attacker(&c.tokens[1]).await?;
    let volume = |subtrees: &[&str], roles: &[RespondentRole], grouping: Option<Grouping>| {
        GetResponseVolumeRequest {
            survey_id: c.survey_ids[0].clone(),
            filter: Some(ResponseFilter {
                unit_subtrees: subtrees.iter().map(|u| (*u).to_owned()).collect(),
                respondent_roles: roles.iter().map(|r| *r as i32).collect(),
                ..Default::default()
            }),
            grouping,
            min_sequence: 0,
        }
    };
    let sent = |units: &[&str], role: RespondentRole| {
        c.people[0]
            .iter()
            .filter(|r| r.role == role && units.contains(&r.unit))
            .count() as u64
    };
    for (role, units) in [
        (
            RespondentRole::Client,
            &["school-a1", "school-b1", "school-c"][..],
        ),
        (RespondentRole::Guardian, &["school-a1"][..]),
    ] {
        let total = reader
            .client
            .get_response_volume(volume(&[], &[role], None))
            .await?
            .into_inner()
            .total;
        assert_eq!(total, sent(units, role), "{role:?}");
    }
    let both = [RespondentRole::Client, RespondentRole::Guardian];
    let area_b = reader
        .client
        .get_response_volume(volume(&["area-b"], &both, None))
        .await?
        .into_inner();
    assert_eq!(area_b.total, 12, "area-b is school-b1's 12");
    let per_unit: BTreeMap<String, u64> = reader
        .client
        .get_response_volume(volume(
            &["dc-county"],
            &both,
            Some(Grouping {
                group_by: vec![Dimension::Unit as i32],
                bucket: TimeBucket::None as i32,
            }),
        ))
        .await?
        .into_inner()
        .rows
        .into_iter()
        .map(|row| (row.group.join("/"), row.responses))
        .collect();
    let expected: BTreeMap<String, u64> = [
        (
            "school-a1",
            sent(&["school-a1"], RespondentRole::Client)
                + sent(&["school-a1"], RespondentRole::Guardian),
        ),
        ("school-b1", sent(&["school-b1"], RespondentRole::Client)),
        ("school-c", sent(&["school-c"], RespondentRole::Client)),
    ]
    .into_iter()
    .map(|(unit, n)| (unit.to_owned(), n))
    .collect();
    assert_eq!(per_unit, expected);
    Ok(())
}

/// Everything a token is shown, as a reader would keep it to compare with later: each figure
/// with what it is of, and each text shown.
async fn snapshot(
    c: &County,
    token: &str,
    marker: u64,
) -> TestResult<(BTreeSet<(String, [i64; 4])>, BTreeSet<String>)> {
    let attacker = Attacker {
        marker,
        ..c.attacker(token).await?
    };
    let loot = attacker.gather(&c.people[0]).await?;
    let figures = loot
        .nps
        .iter()
        .chain(&loot.volume)
        .map(|o| (o.what.clone(), o.values))
        .collect();
    let texts = loot.shown.iter().map(|t| t.text.clone()).collect();
    Ok((figures, texts))
}

#[tokio::test]
async fn watching_the_figures_as_answers_come_in_one_by_one_shows_no_single_answer() -> TestResult {
    // ADR 0020: a reader who keeps every figure and text and asks again after each new answer
    // sees nothing change until at least the minimum of new answers can be shown together.
    let c = county(&reader_keys()).await?;
    let (manager, exporter) = (&c.tokens[0], &c.tokens[2]);
    let before = snapshot(&c, manager, 0).await?;
    let exact_before = snapshot(&c, exporter, c.marker).await?;
    assert!(!before.0.is_empty() && !before.1.is_empty());
    for i in 1..=MIN {
        // One more answer in the manager's own school, a detractor with a text.
        let newcomer = Respondent {
            unit: "school-a1",
            role: RespondentRole::Client,
            channel: Channel::WebLink,
            group: "nurse",
            language: Language::Fi,
            day: NaiveDate::from_ymd_opt(2026, 10, 14).unwrap_or_default(),
            nps: Some(0),
            text: Some(format!("Myöhästynyt vastaus numero {i}")),
        };
        let marker = submit(&c.stack, &c.survey_ids[0], &[newcomer]).await?;
        // Asked once the new answer has been projected and considered for release.
        c.stack.wait_released(&c.survey_ids[0], marker).await?;
        let now = snapshot(&c, manager, 0).await?;
        if i == 1 {
            // Exact figures show the one answer, so comparing is an attack that works.
            let exact = snapshot(&c, exporter, marker).await?;
            assert_ne!(
                exact.0, exact_before.0,
                "a row-level caller sees the new answer"
            );
        }
        if i < MIN {
            let changed: Vec<_> = now.0.symmetric_difference(&before.0).take(6).collect();
            assert!(
                changed.is_empty(),
                "after {i} new answer(s) the reader's figures changed: {changed:#?}"
            );
            assert_eq!(now.1, before.1, "after {i} new answer(s) the texts changed");
            continue;
        }
        // The minimum has come: they are shown together, and every figure that changed grew
        // by at least the minimum.
        let old: BTreeMap<&String, [i64; 4]> = before.0.iter().map(|(w, v)| (w, *v)).collect();
        let mut grew = 0;
        for (what, values) in &now.0 {
            let was = old.get(what).copied().unwrap_or([0; 4]);
            let delta = values[0] - was[0];
            if *values != was {
                grew += 1;
                assert!(
                    delta >= MIN as i64,
                    "{what}: {was:?} became {values:?}, a change of fewer than {MIN}"
                );
            }
        }
        assert!(
            grew > 0,
            "the {MIN} new answers are shown once they are {MIN}"
        );
        let new_texts: Vec<_> = now.1.difference(&before.1).collect();
        assert_eq!(new_texts.len(), MIN, "{new_texts:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_rebuild_after_erasures_releases_no_answer_twice() -> TestResult {
    use kaiku_proto::intake::v1::{ErasureReason, RedactResponseRequest};
    // An erased answer's original event is gone from the stream, so a rebuild projects the
    // answer at its redaction's sequence. What readers were shown is kept by submission id
    // (ADR 0020), so the answer is not taken for a new one and released again.
    let c = county(&reader_keys()).await?;
    let survey_id = c.survey_ids[0].clone();
    let clients_and_guardians = ResponseFilter {
        respondent_roles: vec![
            RespondentRole::Client as i32,
            RespondentRole::Guardian as i32,
        ],
        ..Default::default()
    };
    let mut reader = AnalyticsClient::new(c.stack.channel_as("analytics", &c.tokens[1]).await?);
    let volume = |min_sequence: u64| GetResponseVolumeRequest {
        survey_id: survey_id.clone(),
        filter: Some(clients_and_guardians.clone()),
        grouping: None,
        min_sequence,
    };
    let before = reader
        .get_response_volume(volume(0))
        .await?
        .into_inner()
        .total;
    // Six texts erased: with the answers taken for new ones, they would make an atom again.
    let mut exporter = AnalyticsClient::new(c.stack.channel_as("analytics", &c.tokens[2]).await?);
    let texts = exporter
        .list_feedback_texts(ListFeedbackTextsRequest {
            survey_id: survey_id.clone(),
            filter: Some(clients_and_guardians.clone()),
            min_sequence: c.marker,
            page_size: 6,
            ..Default::default()
        })
        .await?
        .into_inner()
        .texts;
    assert_eq!(texts.len(), 6);
    let mut intake = c.stack.intake().await?;
    let mut last = c.marker;
    for text in &texts {
        last = intake
            .redact_response(RedactResponseRequest {
                survey_id: survey_id.clone(),
                sequence: text.sequence,
                reason: ErasureReason::PersonalData as i32,
            })
            .await?
            .into_inner()
            .redaction_sequence;
    }
    let (ok, stdout, stderr) = c
        .stack
        .run_command(
            "projection",
            &["--rebuild"],
            std::time::Duration::from_secs(120),
        )
        .await?;
    assert!(ok, "rebuild failed:\n{stdout}\n{stderr}");
    let database = c.stack.database().await?;
    let moved: i64 = sqlx::query_scalar(
        "select count(*) from response where survey_id::text = $1 and stream_sequence > $2",
    )
    .bind(&survey_id)
    .bind(i64::try_from(c.marker)?)
    .fetch_one(&database)
    .await?;
    assert_eq!(
        moved, 6,
        "the rebuild projects each erased answer at its redaction"
    );
    // Asked after a release that considered everything since.
    c.stack.wait_released(&survey_id, last).await?;
    let after = reader
        .get_response_volume(volume(0))
        .await?
        .into_inner()
        .total;
    assert_eq!(after, before, "no answer is counted twice");
    Ok(())
}
