//! The figures of one selection (survey, unit subtree, period and filters), read from analytics
//! as the signed-in person: the dashboard, the results review and the reports all show these,
//! so they are fetched and shaped once, here.

use kaiku_proto::analytics::v1::{
    ComparePeriodsRequest, ComparePeriodsResponse, Dimension, FeedbackText, GetNpsRequest,
    GetNpsResponse, GetResponseVolumeRequest, GetResponseVolumeResponse,
    GetStatementSummaryRequest, Grouping, ListFeedbackTextsRequest, NpsFigure, ResponseFilter,
    StatementFigure, TimeBucket,
};
use kaiku_proto::survey::v1::{
    Channel, CollectionPeriod, GetSurveyRequest, Language, ListSurveysRequest, ListUnitsRequest,
    LocalizedText, Question, RespondentRole, Survey, SurveyContent, SurveySummary, Unit, question,
    survey_content,
};

use crate::backend::Clients;
use crate::error::ConsoleError;
use crate::session::Staff;

/// What the person chose to look at. `period`: None = every period, Some("") = continuous.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub survey_id: String,
    pub unit_id: String,
    pub period: Option<String>,
    pub channel: Option<Channel>,
    /// The respondent roles to show, each in a section of its own (THL keeps a client's and a
    /// guardian's answers apart): never empty once loaded, every role of the survey by default.
    pub roles: Vec<RespondentRole>,
    pub professional_group: Option<String>,
    pub age_band: Option<String>,
    pub language: Option<Language>,
}

impl Selection {
    /// The analytics filter of one role's figures: the unit with everything below it, and the
    /// chosen dimensions.
    pub fn filter_for(&self, role: RespondentRole) -> ResponseFilter {
        ResponseFilter {
            unit_subtrees: vec![self.unit_id.clone()],
            period_ids: self.period.iter().cloned().collect(),
            channels: self.channel.iter().map(|c| *c as i32).collect(),
            respondent_roles: vec![role as i32],
            professional_groups: self.professional_group.iter().cloned().collect(),
            age_bands: self.age_band.iter().cloned().collect(),
            languages: self.language.iter().map(|l| *l as i32).collect(),
            ..ResponseFilter::default()
        }
    }

    /// Whether the respondents of `role` in this selection are asked `question` at all.
    pub fn asks(&self, question: &Question, role: RespondentRole) -> bool {
        kaiku_domain::submission::may_be_shown(
            question,
            role as i32,
            self.professional_group.as_deref(),
            self.age_band.as_deref(),
        )
    }
}

/// The respondent roles a survey is answered in, in the survey's order; clients when it names
/// none.
pub fn survey_roles(content: &SurveyContent) -> Vec<RespondentRole> {
    let roles: Vec<RespondentRole> = content
        .respondent_roles
        .iter()
        .filter_map(|r| RespondentRole::try_from(*r).ok())
        .filter(|r| *r != RespondentRole::Unspecified)
        .collect();
    if roles.is_empty() {
        vec![RespondentRole::Client]
    } else {
        roles
    }
}

/// A figure that is either shown or suppressed (too few answers); `None` inside = no answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<T> {
    Shown(T),
    Suppressed,
}

/// The units the person may see, parents first, with their depth below the top one shown.
#[derive(Debug, Clone)]
pub struct VisibleUnit {
    pub unit: Unit,
    pub depth: usize,
    pub name: String,
}

/// A text in `language`, or in the first language there is.
pub fn text_in(texts: &[LocalizedText], language: Language) -> String {
    texts
        .iter()
        .find(|t| t.language == language as i32)
        .or_else(|| texts.first())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// Every open unit in the person's grant, parents before children (ListUnits' order).
pub async fn visible_units(
    clients: &mut Clients,
    staff: &Staff,
    language: Language,
) -> Result<Vec<VisibleUnit>, ConsoleError> {
    let units: Vec<Unit> = clients
        .surveys
        .list_units(ListUnitsRequest {
            include_closed: false,
        })
        .await?
        .into_inner()
        .units
        .into_iter()
        .filter_map(|u| u.unit)
        .collect();
    let parent_of = |id: &str| {
        units
            .iter()
            .find(|u| u.unit_id == id)
            .map(|u| u.parent_unit_id.clone())
            .unwrap_or_default()
    };
    let lineage = |id: &str| {
        let mut chain = vec![id.to_owned()];
        let mut current = parent_of(id);
        while !current.is_empty() && !chain.contains(&current) {
            chain.push(current.clone());
            current = parent_of(&current);
        }
        chain
    };
    Ok(units
        .iter()
        .filter_map(|unit| {
            let chain = lineage(&unit.unit_id);
            let visible = staff.units.is_empty() || chain.iter().any(|u| staff.units.contains(u));
            visible.then(|| {
                // Depth below the highest unit the person sees in this branch.
                let depth = if staff.units.is_empty() {
                    chain.len() - 1
                } else {
                    chain
                        .iter()
                        .position(|u| staff.units.contains(u))
                        .unwrap_or_default()
                };
                VisibleUnit {
                    unit: unit.clone(),
                    depth,
                    name: text_in(&unit.names, language),
                }
            })
        })
        .collect())
}

/// Every survey but the archived ones.
pub async fn surveys(clients: &mut Clients) -> Result<Vec<SurveySummary>, ConsoleError> {
    Ok(clients
        .surveys
        .list_surveys(ListSurveysRequest::default())
        .await?
        .into_inner()
        .surveys)
}

/// Today in Europe/Helsinki as (year, month, day), to compare with LocalDates.
pub fn today() -> (i32, i32, i32) {
    let today =
        kaiku_domain::time::local_date(kaiku_domain::time::helsinki_date(chrono::Utc::now()));
    (today.year, today.month, today.day)
}

pub async fn survey(clients: &mut Clients, survey_id: &str) -> Result<Survey, ConsoleError> {
    clients
        .surveys
        .get_survey(GetSurveyRequest {
            survey_id: survey_id.to_owned(),
        })
        .await?
        .into_inner()
        .survey
        .ok_or_else(|| ConsoleError::NotFound(format!("survey {survey_id}")))
}

/// What the results are read against: the latest published version, else the draft.
pub fn current_content(survey: &Survey) -> SurveyContent {
    survey
        .versions
        .last()
        .and_then(|v| v.content.clone())
        .or_else(|| survey.draft.clone())
        .unwrap_or_default()
}

/// The survey's scheduled periods, earliest first; none for continuous collection.
pub fn periods(content: &SurveyContent) -> Vec<CollectionPeriod> {
    let mut periods = match &content.collection {
        Some(survey_content::Collection::Scheduled(s)) => s.periods.clone(),
        _ => Vec::new(),
    };
    periods.sort_by_key(|p| {
        p.starts_on
            .as_ref()
            .map(|d| (d.year, d.month, d.day))
            .unwrap_or_default()
    });
    periods
}

/// A period as people read it: "spring (6.11.2026-6.12.2026)", all periods, or continuous.
pub fn period_label(
    t: &crate::texts::Texts,
    content: &SurveyContent,
    period: &Option<String>,
) -> String {
    match period {
        None => t.all_periods.to_owned(),
        Some(p) if p.is_empty() => t.continuous.to_owned(),
        Some(p) => periods(content)
            .into_iter()
            .find(|x| &x.period_id == p)
            .and_then(|x| Some((x.starts_on?, x.ends_on?)))
            .map_or_else(
                || p.clone(),
                |(s, e)| {
                    format!(
                        "{p} ({}.{}.{}-{}.{}.{})",
                        s.day, s.month, s.year, e.day, e.month, e.year
                    )
                },
            ),
    }
}

/// The period before `period_id` in the schedule.
pub fn previous_period(content: &SurveyContent, period_id: &str) -> Option<CollectionPeriod> {
    let periods = periods(content);
    let index = periods.iter().position(|p| p.period_id == period_id)?;
    index.checked_sub(1).and_then(|i| periods.get(i).cloned())
}

/// A statement or face question's figure in one role's results.
#[derive(Debug, Clone)]
pub struct ScoredResult {
    pub key: String,
    pub text: String,
    /// Points on the scale: 5 for statements, 3 or 5 faces.
    pub points: u32,
    pub figure: Cell<StatementFigure>,
}

/// Who of the selection's respondents the NPS question is put to.
#[derive(Debug, Clone, PartialEq)]
pub enum AskedOf {
    /// Everyone in the selection.
    Everyone,
    /// Only these age bands (labels), e.g. not the 7-12-year-olds, who answer faces.
    Only(Vec<String>),
    /// Nobody in the selection: no figure, and the page says so instead of "no answers".
    Nobody,
}

/// An age band as people read it: "7-12".
pub fn age_band_label(content: &SurveyContent, key: &str) -> String {
    content.age_bands.iter().find(|a| a.key == key).map_or_else(
        || key.to_owned(),
        |a| format!("{}-{}", a.min_age, a.max_age),
    )
}

/// Whom of `role` in `selection` the survey's NPS question is put to.
fn nps_asked_of(content: &SurveyContent, selection: &Selection, role: RespondentRole) -> AskedOf {
    let Some(nps) = content
        .questions
        .iter()
        .find(|q| matches!(q.kind, Some(question::Kind::Nps(_))))
    else {
        return AskedOf::Nobody;
    };
    if !selection.asks(nps, role) {
        return AskedOf::Nobody;
    }
    let bands = nps
        .condition
        .as_ref()
        .map(|c| c.age_bands.clone())
        .unwrap_or_default();
    let all_bands_asked = content.age_bands.iter().all(|a| bands.contains(&a.key));
    if selection.age_band.is_some() || bands.is_empty() || all_bands_asked {
        AskedOf::Everyone
    } else {
        AskedOf::Only(bands.iter().map(|b| age_band_label(content, b)).collect())
    }
}

/// One role's figures of a selection.
#[derive(Debug, Clone)]
pub struct Results {
    pub role: RespondentRole,
    pub nps_asked_of: AskedOf,
    pub min_group_size: u32,
    pub as_of_sequence: u64,
    pub nps: Cell<NpsFigure>,
    pub responses: Cell<u64>,
    /// Against the previous period, when one is selected and there is one before it.
    pub previous: Option<(CollectionPeriod, ComparePeriodsResponse)>,
    /// The parent unit's figure, when the unit has a parent the person may see.
    pub parent: Option<(String, Cell<NpsFigure>)>,
    /// By month (label "2026-05").
    pub trend: Vec<(String, Cell<NpsFigure>)>,
    pub statements: Vec<ScoredResult>,
    /// The children's face questions, reported like statements.
    pub faces: Vec<ScoredResult>,
    pub by_channel: Vec<(Channel, Cell<u64>)>,
    /// NPS of each unit inside the subtree (unit id, name, figure).
    pub by_unit: Vec<(String, String, Cell<NpsFigure>)>,
}

/// Every chosen role's figures, side by side, and the responses per role.
#[derive(Debug, Clone)]
pub struct ResultsSet {
    pub min_group_size: u32,
    pub roles: Vec<Results>,
    pub by_role: Vec<(RespondentRole, Cell<u64>)>,
}

fn nps_cell(figure: Option<NpsFigure>, suppressed: bool) -> Cell<NpsFigure> {
    if suppressed {
        Cell::Suppressed
    } else {
        Cell::Shown(figure.unwrap_or_default())
    }
}

fn group(dimensions: &[Dimension], bucket: TimeBucket) -> Option<Grouping> {
    Some(Grouping {
        group_by: dimensions.iter().map(|d| *d as i32).collect(),
        bucket: bucket as i32,
    })
}

fn month_label(date: Option<&kaiku_proto::survey::v1::LocalDate>) -> String {
    date.map(|d| format!("{:04}-{:02}", d.year, d.month))
        .unwrap_or_default()
}

async fn nps(
    clients: &mut Clients,
    survey_id: &str,
    filter: &ResponseFilter,
    grouping: Option<Grouping>,
) -> Result<GetNpsResponse, ConsoleError> {
    Ok(clients
        .analytics
        .get_nps(GetNpsRequest {
            survey_id: survey_id.to_owned(),
            filter: Some(filter.clone()),
            grouping,
            ..GetNpsRequest::default()
        })
        .await?
        .into_inner())
}

async fn volume(
    clients: &mut Clients,
    survey_id: &str,
    filter: &ResponseFilter,
    grouping: Option<Grouping>,
) -> Result<GetResponseVolumeResponse, ConsoleError> {
    Ok(clients
        .analytics
        .get_response_volume(GetResponseVolumeRequest {
            survey_id: survey_id.to_owned(),
            filter: Some(filter.clone()),
            grouping,
            ..GetResponseVolumeRequest::default()
        })
        .await?
        .into_inner())
}

/// Reads every figure of `selection` for each of its roles, and the responses per role.
pub async fn results(
    clients: &mut Clients,
    selection: &Selection,
    content: &SurveyContent,
    units: &[VisibleUnit],
    language: Language,
) -> Result<ResultsSet, ConsoleError> {
    let mut roles = Vec::new();
    for role in &selection.roles {
        roles.push(role_results(clients, selection, *role, content, units, language).await?);
    }
    // Each role's own count, as its section shows it: a grouped query would hide a row its
    // section shows (to protect a small neighbouring row), and contradict the page.
    let by_role = roles
        .iter()
        .map(|r: &Results| (r.role, r.responses.clone()))
        .collect();
    let min_group_size = roles.first().map_or(0, |r: &Results| r.min_group_size);
    Ok(ResultsSet {
        min_group_size,
        roles,
        by_role,
    })
}

/// The statement and face questions `role` is asked in `selection`, with their figures.
fn scored_results(
    content: &SurveyContent,
    selection: &Selection,
    role: RespondentRole,
    language: Language,
    rows: &[kaiku_proto::analytics::v1::StatementRow],
    faces: bool,
) -> Vec<ScoredResult> {
    content
        .questions
        .iter()
        .filter_map(|q| match q.kind {
            Some(question::Kind::Statement(_)) if !faces => Some((q, 5)),
            Some(question::Kind::Smiley(s)) if faces => Some((q, s.faces)),
            _ => None,
        })
        .filter(|(q, _)| selection.asks(q, role))
        .map(|(q, points)| {
            let total = rows
                .iter()
                .find(|r| r.question_key == q.key && r.group.is_empty());
            let figure = match total {
                Some(row) if row.suppressed => Cell::Suppressed,
                Some(row) => Cell::Shown(row.figure.clone().unwrap_or_default()),
                None => Cell::Shown(StatementFigure {
                    distribution: vec![0; points as usize],
                    ..StatementFigure::default()
                }),
            };
            ScoredResult {
                key: q.key.clone(),
                text: text_in(&q.texts, language),
                points,
                figure,
            }
        })
        .collect()
}

/// Every figure of `selection` for the respondents of one role. `units` are the person's
/// visible units (for names and the parent); `content` the survey's current content.
async fn role_results(
    clients: &mut Clients,
    selection: &Selection,
    role: RespondentRole,
    content: &SurveyContent,
    units: &[VisibleUnit],
    language: Language,
) -> Result<Results, ConsoleError> {
    let filter = selection.filter_for(role);
    let survey_id = selection.survey_id.clone();
    let nps_asked_of = nps_asked_of(content, selection, role);
    let asks_nps = nps_asked_of != AskedOf::Nobody;
    let responses = volume(clients, &survey_id, &filter, None).await?;
    let total = if asks_nps {
        nps(clients, &survey_id, &filter, None).await?
    } else {
        GetNpsResponse {
            min_group_size: responses.min_group_size,
            as_of_sequence: responses.as_of_sequence,
            figure: Some(NpsFigure::default()),
            ..GetNpsResponse::default()
        }
    };

    let previous = match &selection.period {
        Some(period) if !period.is_empty() && asks_nps => match previous_period(content, period) {
            Some(earlier) => {
                let compared = clients
                    .analytics
                    .compare_periods(ComparePeriodsRequest {
                        survey_id: survey_id.clone(),
                        filter: Some(filter.clone()),
                        earlier_period_id: earlier.period_id.clone(),
                        later_period_id: period.clone(),
                        ..ComparePeriodsRequest::default()
                    })
                    .await?
                    .into_inner();
                Some((earlier, compared))
            }
            None => None,
        },
        _ => None,
    };

    let parent_id = units
        .iter()
        .find(|u| u.unit.unit_id == selection.unit_id)
        .map(|u| u.unit.parent_unit_id.clone())
        .unwrap_or_default();
    let parent = match units.iter().find(|u| u.unit.unit_id == parent_id) {
        Some(parent) if asks_nps => {
            let mut parent_filter = filter.clone();
            parent_filter.unit_subtrees = vec![parent_id.clone()];
            let figure = nps(clients, &survey_id, &parent_filter, None).await?;
            Some((
                parent.name.clone(),
                nps_cell(figure.figure, figure.suppressed),
            ))
        }
        _ => None,
    };

    // The trend covers every period, so a period is seen against the ones before it.
    let mut trend_filter = filter.clone();
    trend_filter.period_ids.clear();
    let trend = if asks_nps {
        nps(
            clients,
            &survey_id,
            &trend_filter,
            group(&[], TimeBucket::Month),
        )
        .await?
        .rows
        .into_iter()
        .map(|row| {
            (
                month_label(row.bucket_start.as_ref()),
                nps_cell(row.figure, row.suppressed),
            )
        })
        .collect()
    } else {
        Vec::new()
    };

    let asked_scored = content.questions.iter().any(|q| {
        matches!(
            q.kind,
            Some(question::Kind::Statement(_)) | Some(question::Kind::Smiley(_))
        ) && selection.asks(q, role)
    });
    let scored_rows = if asked_scored {
        clients
            .analytics
            .get_statement_summary(GetStatementSummaryRequest {
                survey_id: survey_id.clone(),
                filter: Some(filter.clone()),
                ..GetStatementSummaryRequest::default()
            })
            .await?
            .into_inner()
            .rows
    } else {
        Vec::new()
    };
    let statements = scored_results(content, selection, role, language, &scored_rows, false);
    let faces = scored_results(content, selection, role, language, &scored_rows, true);

    let by_channel = volume_by(clients, &survey_id, &filter, Dimension::Channel)
        .await?
        .into_iter()
        .filter_map(|(code, cell)| {
            Channel::from_str_name(&code)
                .or_else(|| kaiku_domain::codes::channel_from_code(&code))
                .map(|c| (c, cell))
        })
        .collect();

    let by_unit = if asks_nps {
        nps(
            clients,
            &survey_id,
            &filter,
            group(&[Dimension::Unit], TimeBucket::None),
        )
        .await?
        .rows
        .into_iter()
        .map(|row| {
            let id = row.group.first().cloned().unwrap_or_default();
            let name = units
                .iter()
                .find(|u| u.unit.unit_id == id)
                .map_or_else(|| id.clone(), |u| u.name.clone());
            (id, name, nps_cell(row.figure, row.suppressed))
        })
        .collect()
    } else {
        Vec::new()
    };

    Ok(Results {
        role,
        nps_asked_of,
        min_group_size: total.min_group_size,
        as_of_sequence: total.as_of_sequence,
        nps: nps_cell(total.figure, total.suppressed),
        responses: if responses.total_suppressed {
            Cell::Suppressed
        } else {
            Cell::Shown(responses.total)
        },
        previous,
        parent,
        trend,
        statements,
        faces,
        by_channel,
        by_unit,
    })
}

async fn volume_by(
    clients: &mut Clients,
    survey_id: &str,
    filter: &ResponseFilter,
    dimension: Dimension,
) -> Result<Vec<(String, Cell<u64>)>, ConsoleError> {
    Ok(volume(
        clients,
        survey_id,
        filter,
        group(&[dimension], TimeBucket::None),
    )
    .await?
    .rows
    .into_iter()
    .map(|row| {
        let cell = if row.suppressed {
            Cell::Suppressed
        } else {
            Cell::Shown(row.responses)
        };
        (row.group.first().cloned().unwrap_or_default(), cell)
    })
    .collect())
}

/// The open feedback of one role in the selection, up to `limit` texts; None when suppressed.
pub async fn feedback(
    clients: &mut Clients,
    selection: &Selection,
    role: RespondentRole,
    limit: usize,
) -> Result<Option<Vec<FeedbackText>>, ConsoleError> {
    let mut texts = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = clients
            .analytics
            .list_feedback_texts(ListFeedbackTextsRequest {
                survey_id: selection.survey_id.clone(),
                filter: Some(selection.filter_for(role)),
                page_size: 200,
                page_token: page_token.clone(),
                ..ListFeedbackTextsRequest::default()
            })
            .await?
            .into_inner();
        if page.suppressed {
            return Ok(None);
        }
        texts.extend(page.texts);
        if page.next_page_token.is_empty() || texts.len() >= limit {
            break;
        }
        page_token = page.next_page_token;
    }
    texts.truncate(limit);
    Ok(Some(texts))
}
