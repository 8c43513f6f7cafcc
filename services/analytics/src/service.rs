use std::time::Duration;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use kaiku_domain::SurveyId;
use kaiku_domain::nps::{NpsCounts, is_suppressed};
use kaiku_domain::rollup::DONT_KNOW;
use kaiku_domain::statement::StatementCounts;
use kaiku_domain::suppression::suppressed_cells;
use kaiku_domain::time::local_date;
use kaiku_proto::analytics::v1::{
    ComparePeriodsRequest, ComparePeriodsResponse, ExportChunk, ExportResponsesRequest,
    GetHandlingReportRequest, GetHandlingReportResponse, GetNpsRequest, GetNpsResponse,
    GetResponseVolumeRequest, GetResponseVolumeResponse, GetStatementSummaryRequest,
    GetStatementSummaryResponse, Grouping, ListAttentionTextsRequest, ListFeedbackTextsRequest,
    ListFeedbackTextsResponse, NpsFigure, NpsRow, ResponseFilter, StatementChange, StatementFigure,
    StatementRow, VolumeRow, analytics_server::Analytics,
};
use kaiku_proto::survey::v1::RespondentRole;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::cells::{self, GroupSpec, parse_grouping};
use crate::consistency::Consistency;
use crate::disclosure::{self, Audience, Released};
use crate::export;
use crate::feedback_texts;
use crate::filter::{Filter, parse_filter};
use crate::reader_figures;
use crate::{AnalyticsError, nps_query};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;

pub struct AnalyticsService {
    pool: PgPool,
    consistency: Consistency,
    min_group_size: u32,
    /// Readers' released atoms by survey (see `reading`), loaded again when the survey has a
    /// new atom.
    released: Mutex<HashMap<Uuid, Arc<Released>>>,
}

impl AnalyticsService {
    pub fn new(pool: PgPool, consistency: Consistency, min_group_size: u32) -> Self {
        Self {
            pool,
            consistency,
            min_group_size,
            released: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps a query inside the caller's units: a unit or subtree the caller may not read is
    /// PERMISSION_DENIED (unknown units too, so nobody can probe which exist), and a query that
    /// names no units is narrowed to the caller's subtrees. Every query passes here, so no
    /// query shape reaches another unit's data.
    async fn restrict(
        &self,
        caller: Option<&kaiku_auth::Principal>,
        filter: &mut Option<ResponseFilter>,
    ) -> Result<(), Status> {
        let caller = caller.ok_or_else(|| Status::unauthenticated("no caller"))?;
        if caller.reads_everything() {
            return Ok(());
        }
        let filter = filter.get_or_insert_with(ResponseFilter::default);
        let named: Vec<String> = filter
            .unit_ids
            .iter()
            .chain(&filter.unit_subtrees)
            .cloned()
            .collect();
        if named.is_empty() {
            filter.unit_subtrees = caller.unit_subtrees.clone();
            return Ok(());
        }
        let paths: Vec<(String, Vec<String>)> =
            sqlx::query_as("select unit_id, path from org_unit where unit_id = any($1)")
                .bind(&named)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| Status::from(AnalyticsError::from(e)))?;
        for unit in &named {
            let lineage: Vec<&str> = paths
                .iter()
                .find(|(id, _)| id == unit)
                .map(|(_, path)| path.iter().map(String::as_str).collect())
                .unwrap_or_default();
            caller
                .may_read_unit(unit, &lineage)
                .map_err(|denied| Status::from(&denied))?;
        }
        Ok(())
    }

    async fn get_nps(
        &self,
        request: &GetNpsRequest,
        audience: Audience,
        deadline: Option<Duration>,
    ) -> Result<GetNpsResponse, AnalyticsError> {
        let (survey_id, filter, spec) = parse_query(
            &request.survey_id,
            request.filter.as_ref(),
            request.grouping.as_ref(),
        )?;
        let (partition, as_of_sequence) = self
            .reading(
                audience,
                survey_id,
                &filter,
                &spec,
                request.min_sequence,
                deadline,
            )
            .await?;
        let question_key =
            nps_query::resolve_question(&self.pool, survey_id.as_uuid(), &request.question_key)
                .await?;
        let keys = [question_key];
        let cells = self
            .score_cells(partition.as_deref(), survey_id, &keys, &filter, &spec)
            .await?;
        let counts = cells
            .totals
            .first()
            .map(|cell| nps_query::nps_counts(&cell.counts))
            .unwrap_or_default();
        let suppressed = self.hidden_total(partition.is_some(), counts.n());
        let mut rows = Vec::new();
        if !spec.is_total_only() {
            let grouped = cells.groups;
            let counts: Vec<NpsCounts> = grouped
                .iter()
                .map(|cell| nps_query::nps_counts(&cell.counts))
                .collect();
            let sizes: Vec<u64> = counts.iter().map(NpsCounts::n).collect();
            let hidden = self.hidden(&sizes, suppressed);
            for ((cell, counts), hidden) in grouped.into_iter().zip(counts).zip(hidden) {
                rows.push(NpsRow {
                    group: cell.group,
                    bucket_start: cell.bucket_start.map(local_date),
                    figure: (!hidden).then(|| nps_figure(&counts)),
                    suppressed: hidden,
                });
            }
        }
        Ok(GetNpsResponse {
            figure: (!suppressed).then(|| nps_figure(&counts)),
            suppressed,
            min_group_size: self.min_group_size,
            as_of_sequence,
            rows,
        })
    }

    async fn get_statement_summary(
        &self,
        request: &GetStatementSummaryRequest,
        audience: Audience,
        deadline: Option<Duration>,
    ) -> Result<GetStatementSummaryResponse, AnalyticsError> {
        let (survey_id, filter, spec) = parse_query(
            &request.survey_id,
            request.filter.as_ref(),
            request.grouping.as_ref(),
        )?;
        let (partition, as_of_sequence) = self
            .reading(
                audience,
                survey_id,
                &filter,
                &spec,
                request.min_sequence,
                deadline,
            )
            .await?;
        let questions = nps_query::resolve_scored(
            &self.pool,
            survey_id.as_uuid(),
            &request.question_keys,
            "question_keys",
        )
        .await?;
        let keys: Vec<String> = questions.iter().map(|q| q.key.clone()).collect();
        let cells::ScoreCells {
            totals,
            groups: grouped,
        } = self
            .score_cells(partition.as_deref(), survey_id, &keys, &filter, &spec)
            .await?;
        let mut rows = Vec::new();
        for question in &questions {
            let key = &question.key;
            let row = |group: Vec<String>, bucket_start, figure, suppressed| StatementRow {
                question_key: key.clone(),
                group,
                bucket_start,
                figure,
                suppressed,
                scale: question.scale as i32,
                points: question.points,
            };
            let total = totals
                .iter()
                .find(|cell| &cell.question_key == key)
                .map(|cell| statement_figure(&cell.counts, question.points))
                .unwrap_or_else(|| statement_figure(&Default::default(), question.points));
            let total_hidden = self.hidden_total(partition.is_some(), total.n + total.dont_know);
            rows.push(row(
                vec![],
                None,
                (!total_hidden).then_some(total),
                total_hidden,
            ));
            let mine: Vec<&cells::ScoreCell> = grouped
                .iter()
                .filter(|cell| &cell.question_key == key)
                .collect();
            let figures: Vec<StatementFigure> = mine
                .iter()
                .map(|cell| statement_figure(&cell.counts, question.points))
                .collect();
            let sizes: Vec<u64> = figures.iter().map(|f| f.n + f.dont_know).collect();
            let hidden = self.hidden(&sizes, total_hidden);
            for ((cell, figure), hidden) in mine.into_iter().zip(figures).zip(hidden) {
                rows.push(row(
                    cell.group.clone(),
                    cell.bucket_start.map(local_date),
                    (!hidden).then_some(figure),
                    hidden,
                ));
            }
        }
        Ok(GetStatementSummaryResponse {
            rows,
            min_group_size: self.min_group_size,
            as_of_sequence,
        })
    }

    async fn get_response_volume(
        &self,
        request: &GetResponseVolumeRequest,
        audience: Audience,
        deadline: Option<Duration>,
    ) -> Result<GetResponseVolumeResponse, AnalyticsError> {
        let (survey_id, filter, spec) = parse_query(
            &request.survey_id,
            request.filter.as_ref(),
            request.grouping.as_ref(),
        )?;
        let (partition, as_of_sequence) = self
            .reading(
                audience,
                survey_id,
                &filter,
                &spec,
                request.min_sequence,
                deadline,
            )
            .await?;
        let (total, reader_rows) = match &partition {
            Some(partition) => {
                let (total, rows) = reader_figures::volume(partition, &filter, &spec);
                (total, Some(rows))
            }
            None => (self.responses_matching(survey_id, &filter).await?, None),
        };
        let total_suppressed = self.hidden_total(partition.is_some(), total);
        let mut rows = Vec::new();
        if !spec.is_total_only() {
            let grouped = match reader_rows {
                Some(rows) => rows,
                None => {
                    cells::volume_cells(&self.pool, survey_id.as_uuid(), &filter, &spec).await?
                }
            };
            let sizes: Vec<u64> = grouped.iter().map(|cell| cell.responses).collect();
            let hidden = self.hidden(&sizes, total_suppressed);
            for (cell, hidden) in grouped.into_iter().zip(hidden) {
                rows.push(VolumeRow {
                    group: cell.group,
                    bucket_start: cell.bucket_start.map(local_date),
                    responses: if hidden { 0 } else { cell.responses },
                    suppressed: hidden,
                });
            }
        }
        Ok(GetResponseVolumeResponse {
            total: if total_suppressed { 0 } else { total },
            total_suppressed,
            rows,
            min_group_size: self.min_group_size,
            as_of_sequence,
        })
    }

    async fn compare_periods(
        &self,
        request: &ComparePeriodsRequest,
        audience: Audience,
        deadline: Option<Duration>,
    ) -> Result<ComparePeriodsResponse, AnalyticsError> {
        let (survey_id, filter, _) =
            parse_query(&request.survey_id, request.filter.as_ref(), None)?;
        let mut v = kaiku_domain::Violations::new();
        if request.earlier_period_id.is_empty() {
            v.add("earlier_period_id", "is required");
        }
        if request.later_period_id.is_empty() {
            v.add("later_period_id", "is required");
        }
        if v.is_empty() && request.earlier_period_id == request.later_period_id {
            v.add("later_period_id", "must differ from earlier_period_id");
        }
        v.into_result(())?;
        let mut by_period = filter.clone();
        by_period.period_ids = vec![
            request.earlier_period_id.clone(),
            request.later_period_id.clone(),
        ];
        let spec = GroupSpec {
            columns: vec!["period_id"],
            bucket: kaiku_proto::analytics::v1::TimeBucket::None,
        };
        let (partition, as_of_sequence) = self
            .reading(
                audience,
                survey_id,
                &by_period,
                &spec,
                request.min_sequence,
                deadline,
            )
            .await?;
        let question_key =
            nps_query::resolve_question(&self.pool, survey_id.as_uuid(), &request.question_key)
                .await?;
        let statements = nps_query::resolve_scored(
            &self.pool,
            survey_id.as_uuid(),
            &request.statement_keys,
            "statement_keys",
        )
        .await?;
        let mut keys = vec![question_key.clone()];
        keys.extend(statements.iter().map(|q| q.key.clone()));
        let reader = partition.is_some();
        let cells = self
            .score_cells(partition.as_deref(), survey_id, &keys, &by_period, &spec)
            .await?
            .groups;
        let counts_of = |key: &str, period: &str| {
            cells
                .iter()
                .find(|cell| {
                    cell.question_key == key
                        && cell.group.first().map(String::as_str) == Some(period)
                })
                .map(|cell| cell.counts.clone())
                .unwrap_or_default()
        };
        let (earlier, later) = (
            nps_query::nps_counts(&counts_of(&question_key, &request.earlier_period_id)),
            nps_query::nps_counts(&counts_of(&question_key, &request.later_period_id)),
        );
        let earlier_suppressed = self.hidden_total(reader, earlier.n());
        let later_suppressed = self.hidden_total(reader, later.n());
        let change = (!earlier_suppressed && !later_suppressed)
            .then(|| kaiku_domain::nps::compare(&earlier, &later))
            .flatten();
        let statements = statements
            .iter()
            .map(|question| {
                self.statement_change(
                    reader,
                    question,
                    &counts_of(&question.key, &request.earlier_period_id),
                    &counts_of(&question.key, &request.later_period_id),
                )
            })
            .collect();
        Ok(ComparePeriodsResponse {
            earlier: (!earlier_suppressed).then(|| nps_figure(&earlier)),
            later: (!later_suppressed).then(|| nps_figure(&later)),
            earlier_suppressed,
            later_suppressed,
            change: change.map(|c| c.change),
            margin: change.map(|c| c.margin),
            significant: change.is_some_and(|c| c.significant),
            min_group_size: self.min_group_size,
            as_of_sequence,
            statements,
        })
    }

    /// One statement or face question in two periods, each hidden like a GetStatementSummary
    /// total.
    fn statement_change(
        &self,
        reader: bool,
        question: &nps_query::ScoredQuestion,
        earlier: &BTreeMap<i16, u64>,
        later: &BTreeMap<i16, u64>,
    ) -> StatementChange {
        let (earlier, later) = (
            statement_figure(earlier, question.points),
            statement_figure(later, question.points),
        );
        let hidden = |f: &StatementFigure| self.hidden_total(reader, f.n + f.dont_know);
        let (earlier_suppressed, later_suppressed) = (hidden(&earlier), hidden(&later));
        let counts = |f: &StatementFigure| StatementCounts {
            by_score: std::array::from_fn(|i| f.distribution.get(i).copied().unwrap_or(0)),
        };
        let change = (!earlier_suppressed && !later_suppressed)
            .then(|| kaiku_domain::statement::compare(&counts(&earlier), &counts(&later)))
            .flatten();
        StatementChange {
            question_key: question.key.clone(),
            scale: question.scale as i32,
            points: question.points,
            earlier: (!earlier_suppressed).then_some(earlier),
            later: (!later_suppressed).then_some(later),
            earlier_suppressed,
            later_suppressed,
            change: change.map(|c| c.change),
            margin: change.map(|c| c.margin),
            significant: change.is_some_and(|c| c.significant),
        }
    }

    async fn list_feedback_texts(
        &self,
        request: &ListFeedbackTextsRequest,
        audience: Audience,
        deadline: Option<Duration>,
    ) -> Result<ListFeedbackTextsResponse, AnalyticsError> {
        let mut v = kaiku_domain::Violations::new();
        let parsed = parse_query(&request.survey_id, request.filter.as_ref(), None)
            .map_err(|e| {
                if let AnalyticsError::Invalid(violations) = e {
                    v.extend(violations);
                }
            })
            .ok();
        let sentiments = feedback_texts::parse_sentiments(&request.sentiments)
            .map_err(|e| v.extend(e))
            .ok();
        let page = feedback_texts::parse_page(request.page_size, &request.page_token)
            .map_err(|e| v.extend(e))
            .ok();
        if audience == Audience::Reader
            && let Some((_, Some(feedback_texts::Position::After(..)))) = &page
        {
            // A reader's pages are counted in texts: a sequence would date a response.
            v.add("page_token", "is not a token from a previous page");
        }
        let (Some((survey_id, filter, spec)), Some(sentiments), Some((page_size, after))) =
            (parsed, sentiments, page)
        else {
            return Err(v.into());
        };
        if !v.is_empty() {
            return Err(v.into());
        }
        let (partition, as_of_sequence) = self
            .reading(
                audience,
                survey_id,
                &filter,
                &spec,
                request.min_sequence,
                deadline,
            )
            .await?;
        let published = partition
            .as_ref()
            .map(|released| reader_figures::published_atoms(released, &filter));
        // A text from a group this small could identify its writer: no texts at all.
        let hidden = match &published {
            Some(published) => published.is_empty(),
            None => is_suppressed(
                self.responses_matching(survey_id, &filter).await?,
                self.min_group_size,
            ),
        };
        if hidden {
            return Ok(ListFeedbackTextsResponse {
                texts: vec![],
                next_page_token: String::new(),
                suppressed: true,
                min_group_size: self.min_group_size,
                as_of_sequence,
            });
        }
        let page = feedback_texts::list(
            &self.pool,
            feedback_texts::TextQuery {
                survey_id: survey_id.as_uuid(),
                filter: &filter,
                search: feedback_texts::search_query(&request.search),
                sentiments,
                themes: &request.themes,
                question_keys: &request.question_keys,
                page_size,
                after,
                flagged: false,
                reader: partition.as_ref().zip(published.as_deref()).map(
                    |(released, published)| feedback_texts::ReaderTexts {
                        released,
                        published,
                    },
                ),
            },
        )
        .await?;
        Ok(ListFeedbackTextsResponse {
            texts: page.texts,
            next_page_token: page.next_page_token,
            suppressed: false,
            min_group_size: self.min_group_size,
            as_of_sequence,
        })
    }

    /// Texts that raised an attention flag, of every role and group size, in `filter`'s units
    /// (already restricted to the caller's).
    async fn list_attention_texts(
        &self,
        request: &ListAttentionTextsRequest,
        filter: Option<&ResponseFilter>,
        deadline: Option<Duration>,
    ) -> Result<ListFeedbackTextsResponse, AnalyticsError> {
        let mut v = kaiku_domain::Violations::new();
        let parsed = parse_query(&request.survey_id, filter, None)
            .map_err(|e| {
                if let AnalyticsError::Invalid(violations) = e {
                    v.extend(violations);
                }
            })
            .ok();
        let page = feedback_texts::parse_page(request.page_size, &request.page_token)
            .map_err(|e| v.extend(e))
            .ok();
        let (Some((survey_id, filter, _)), Some((page_size, after))) = (parsed, page) else {
            return Err(v.into());
        };
        let as_of_sequence = self
            .consistency
            .wait_for(request.min_sequence, deadline)
            .await?;
        nps_query::ensure_survey(&self.pool, survey_id.as_uuid()).await?;
        let page = feedback_texts::list(
            &self.pool,
            feedback_texts::TextQuery {
                survey_id: survey_id.as_uuid(),
                filter: &filter,
                search: None,
                sentiments: vec![],
                themes: &[],
                question_keys: &[],
                page_size,
                after,
                flagged: true,
                reader: None,
            },
        )
        .await?;
        Ok(ListFeedbackTextsResponse {
            texts: page.texts,
            next_page_token: page.next_page_token,
            suppressed: false,
            min_group_size: self.min_group_size,
            as_of_sequence,
        })
    }

    /// Checks the request and the group size, then starts writing the CSV in the background.
    async fn export_responses(
        &self,
        request: &ExportResponsesRequest,
        deadline: Option<Duration>,
    ) -> Result<mpsc::Receiver<Result<Vec<u8>, AnalyticsError>>, AnalyticsError> {
        let (survey_id, filter, _) =
            parse_query(&request.survey_id, request.filter.as_ref(), None)?;
        self.consistency
            .wait_for(request.min_sequence, deadline)
            .await?;
        let responses = self.responses_matching(survey_id, &filter).await?;
        if is_suppressed(responses, self.min_group_size) {
            return Err(AnalyticsError::TooFewToExport {
                responses,
                min_group_size: self.min_group_size,
            });
        }
        let keys = export::question_keys(&self.pool, survey_id.as_uuid()).await?;
        let (sender, receiver) = mpsc::channel(4);
        tokio::spawn(export::write_csv(
            self.pool.clone(),
            survey_id.as_uuid(),
            filter,
            keys,
            sender,
        ));
        Ok(receiver)
    }

    /// How many responses of the survey match the filter (NOT_FOUND for an unknown survey):
    /// the group size that decides whether texts, exports and totals may be shown.
    async fn responses_matching(
        &self,
        survey_id: SurveyId,
        filter: &Filter,
    ) -> Result<u64, AnalyticsError> {
        nps_query::ensure_survey(&self.pool, survey_id.as_uuid()).await?;
        Ok(cells::volume_cells(
            &self.pool,
            survey_id.as_uuid(),
            filter,
            &GroupSpec::default(),
        )
        .await?
        .iter()
        .map(|cell| cell.responses)
        .sum())
    }

    /// What a query reads: for a reader, the survey's released atoms (ADR 0018, ADR 0020), its
    /// query checked first; for a caller answered row by row, None and the read model's
    /// sequence, after waiting for its `min_sequence`.
    ///
    /// A reader asks with `min_sequence` 0 and is told `as_of_sequence` 0: the figures are the
    /// survey's releases (the projection releases a survey once its answers have stopped coming
    /// for KAIKU_READER_RELEASE_QUIET, at the latest after KAIKU_READER_RELEASE_MAX_DELAY), and
    /// a sequence, asked for or told, would date single answers.
    async fn reading(
        &self,
        audience: Audience,
        survey_id: SurveyId,
        filter: &Filter,
        spec: &GroupSpec,
        min_sequence: u64,
        deadline: Option<Duration>,
    ) -> Result<(Option<Arc<Released>>, u64), AnalyticsError> {
        // What only readers are refused is refused before any waiting.
        if audience == Audience::Reader {
            disclosure::check_reader_query(filter, spec, min_sequence)?;
        }
        let as_of_sequence = self.consistency.wait_for(min_sequence, deadline).await?;
        if audience == Audience::RowLevel {
            return Ok((None, as_of_sequence));
        }
        nps_query::ensure_survey(&self.pool, survey_id.as_uuid()).await?;
        let key = survey_id.as_uuid();
        // Loaded again only when the survey has a new atom.
        let latest = reader_figures::latest_atom(&self.pool, key).await?;
        if let Some(cached) = self.released.lock().ok().and_then(|p| p.get(&key).cloned())
            && cached.latest_atom == latest
        {
            return Ok((Some(cached), 0));
        }
        let released =
            Arc::new(reader_figures::released(&self.pool, key, self.min_group_size).await?);
        if let Ok(mut cache) = self.released.lock() {
            cache.insert(key, Arc::clone(&released));
        }
        // No sequence for a reader: how far a survey's releases have got moves with each new
        // answer to it, and would date single answers (ADR 0020).
        Ok((Some(released), 0))
    }

    /// Counts by score: from whole released atoms for a reader, else from the rollups.
    async fn score_cells(
        &self,
        released: Option<&Released>,
        survey_id: SurveyId,
        keys: &[String],
        filter: &Filter,
        spec: &GroupSpec,
    ) -> Result<cells::ScoreCells, AnalyticsError> {
        match released {
            Some(released) => Ok(reader_figures::score_cells(released, keys, filter, spec)),
            None => cells::score_cells(&self.pool, survey_id.as_uuid(), keys, filter, spec).await,
        }
    }

    /// Whether a total shows no figure: below the minimum for a row-level caller; for a reader,
    /// when no whole block is inside the filter (a reader's figures are never below the
    /// minimum, and "nothing" must not tell a small group from none).
    fn hidden_total(&self, reader: bool, n: u64) -> bool {
        if reader {
            n == 0
        } else {
            is_suppressed(n, self.min_group_size)
        }
    }

    /// Which rows to hide: small ones and their complements; all of them when the total itself
    /// is hidden (rows would add up to it).
    fn hidden(&self, sizes: &[u64], total_hidden: bool) -> Vec<bool> {
        if total_hidden {
            return sizes.iter().map(|n| *n > 0).collect();
        }
        suppressed_cells(sizes, self.min_group_size)
    }
}

fn parse_query(
    survey_id: &str,
    filter: Option<&ResponseFilter>,
    grouping: Option<&Grouping>,
) -> Result<(SurveyId, Filter, GroupSpec), AnalyticsError> {
    let mut v = kaiku_domain::Violations::new();
    let survey_id = SurveyId::parse("survey_id", survey_id)
        .map_err(|e| v.extend(e))
        .ok();
    let filter = parse_filter(filter).map_err(|e| v.extend(e)).ok();
    let spec = parse_grouping(grouping, "grouping")
        .map_err(|e| v.extend(e))
        .ok();
    match (survey_id, filter, spec) {
        (Some(survey_id), Some(filter), Some(spec)) if v.is_empty() => {
            Ok((survey_id, filter, spec))
        }
        _ => Err(v.into()),
    }
}

fn nps_figure(counts: &NpsCounts) -> NpsFigure {
    let ci = counts.confidence_interval();
    NpsFigure {
        n: counts.n(),
        promoters: counts.promoters,
        passives: counts.passives,
        detractors: counts.detractors,
        nps: counts.score(),
        ci_low: ci.map(|(low, _)| low),
        ci_high: ci.map(|(_, high)| high),
    }
}

/// n, mean (two decimals), distribution over 1..=points, the best point's share and "don't
/// know" from counts by score.
fn statement_figure(counts: &BTreeMap<i16, u64>, points: u32) -> StatementFigure {
    let points = i16::try_from(points).unwrap_or(5);
    let distribution: Vec<u64> = (1..=points)
        .map(|score| counts.get(&score).copied().unwrap_or(0))
        .collect();
    let n: u64 = distribution.iter().sum();
    let sum: u64 = distribution
        .iter()
        .zip(1u64..)
        .map(|(count, score)| count * score)
        .sum();
    StatementFigure {
        n,
        // Integer arithmetic, rounded once: hundredths = round(100 * sum / n).
        mean: (n > 0).then(|| ((200 * sum + n) / (2 * n)) as f64 / 100.0),
        // Tenths of a per cent, rounded once like the mean.
        best_share: distribution
            .last()
            .filter(|_| n > 0)
            .map(|best| ((2000 * best + n) / (2 * n)) as f64 / 10.0),
        distribution,
        dont_know: counts.get(&DONT_KNOW).copied().unwrap_or(0),
    }
}

/// The caller's gRPC deadline, so a consistency wait never outlives the call.
fn deadline_of<T>(request: &Request<T>) -> Option<Duration> {
    let raw = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (value, unit) = raw.split_at(raw.len().checked_sub(1)?);
    let value: u64 = value.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(value * 3600),
        "M" => Duration::from_secs(value * 60),
        "S" => Duration::from_secs(value),
        "m" => Duration::from_millis(value),
        "u" => Duration::from_micros(value),
        "n" => Duration::from_nanos(value),
        _ => return None,
    })
}

/// Longest a handling report waits for its min_sequence.
const HANDLING_WAIT: Duration = Duration::from_secs(5);

#[tonic::async_trait]
impl Analytics for AnalyticsService {
    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id, min_sequence = request.get_ref().min_sequence))]
    async fn get_handling_report(
        &self,
        request: Request<GetHandlingReportRequest>,
    ) -> Result<Response<GetHandlingReportResponse>, Status> {
        let wait = deadline_of(&request).map_or(HANDLING_WAIT, |d| d.min(HANDLING_WAIT));
        let mut filter = Some(ResponseFilter {
            unit_subtrees: [request.get_ref().unit_id.clone()]
                .into_iter()
                .filter(|unit| !unit.is_empty())
                .collect(),
            ..ResponseFilter::default()
        });
        self.restrict(kaiku_auth::principal(&request), &mut filter)
            .await?;
        let subtrees = filter.map(|f| f.unit_subtrees).unwrap_or_default();
        let request = request.into_inner();
        crate::handling_report::wait_for_handling(&self.pool, request.min_sequence, wait).await?;
        Ok(Response::new(
            crate::handling_report::handling_report(&self.pool, &subtrees, &request).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn get_nps(
        &self,
        mut request: Request<GetNpsRequest>,
    ) -> Result<Response<GetNpsResponse>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.get_nps(request.get_ref(), Audience::of(caller.as_ref()), deadline)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn get_statement_summary(
        &self,
        mut request: Request<GetStatementSummaryRequest>,
    ) -> Result<Response<GetStatementSummaryResponse>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.get_statement_summary(request.get_ref(), Audience::of(caller.as_ref()), deadline)
                .await?,
        ))
    }

    type ExportResponsesStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<ExportChunk, Status>> + Send>>;

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn export_responses(
        &self,
        mut request: Request<ExportResponsesRequest>,
    ) -> Result<Response<Self::ExportResponsesStream>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        let receiver = self.export_responses(request.get_ref(), deadline).await?;
        let stream = ReceiverStream::new(receiver)
            .map(|chunk| chunk.map(|csv| ExportChunk { csv }).map_err(Status::from));
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn list_feedback_texts(
        &self,
        mut request: Request<ListFeedbackTextsRequest>,
    ) -> Result<Response<ListFeedbackTextsResponse>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.list_feedback_texts(request.get_ref(), Audience::of(caller.as_ref()), deadline)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn list_attention_texts(
        &self,
        request: Request<ListAttentionTextsRequest>,
    ) -> Result<Response<ListFeedbackTextsResponse>, Status> {
        // Every role: a guardian's concern reaches the manager as a child's does.
        let mut filter = Some(ResponseFilter {
            unit_subtrees: request.get_ref().unit_subtrees.clone(),
            respondent_roles: vec![
                RespondentRole::Client as i32,
                RespondentRole::Guardian as i32,
                RespondentRole::Relative as i32,
            ],
            ..ResponseFilter::default()
        });
        self.restrict(kaiku_auth::principal(&request), &mut filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.list_attention_texts(request.get_ref(), filter.as_ref(), deadline)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn compare_periods(
        &self,
        mut request: Request<ComparePeriodsRequest>,
    ) -> Result<Response<ComparePeriodsResponse>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.compare_periods(request.get_ref(), Audience::of(caller.as_ref()), deadline)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn get_response_volume(
        &self,
        mut request: Request<GetResponseVolumeRequest>,
    ) -> Result<Response<GetResponseVolumeResponse>, Status> {
        let caller = kaiku_auth::principal(&request).cloned();
        self.restrict(caller.as_ref(), &mut request.get_mut().filter)
            .await?;
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.get_response_volume(request.get_ref(), Audience::of(caller.as_ref()), deadline)
                .await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_three_face_figure_has_three_counts_and_the_happiest_faces_share() {
        // 2 sad, 1 neutral, 3 happy: mean (2 + 2 + 9) / 6 = 2.17, happiest 50.0 %.
        let counts = BTreeMap::from([(1, 2), (2, 1), (3, 3)]);
        let figure = statement_figure(&counts, 3);
        assert_eq!(figure.distribution, vec![2, 1, 3]);
        assert_eq!(figure.n, 6);
        assert_eq!(figure.mean, Some(2.17));
        assert_eq!(figure.best_share, Some(50.0));
    }

    #[test]
    fn a_statements_best_share_is_of_the_answers_not_of_dont_know() {
        // 1 x 4, 2 x 5 and 3 "don't know": 2 of 3 answers fully agree, 66.7 %.
        let counts = BTreeMap::from([(DONT_KNOW, 3), (4, 1), (5, 2)]);
        let figure = statement_figure(&counts, 5);
        assert_eq!(figure.distribution, vec![0, 0, 0, 1, 2]);
        assert_eq!(figure.dont_know, 3);
        assert_eq!(figure.best_share, Some(66.7));
    }

    #[test]
    fn no_answers_give_no_mean_and_no_share() {
        let figure = statement_figure(&BTreeMap::from([(DONT_KNOW, 4)]), 5);
        assert_eq!((figure.n, figure.mean, figure.best_share), (0, None, None));
    }
}
