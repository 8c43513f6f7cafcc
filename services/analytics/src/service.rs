use std::time::Duration;

use kaiku_domain::SurveyId;
use kaiku_domain::nps::is_suppressed;
use kaiku_proto::analytics::v1::{
    GetNpsRequest, GetNpsResponse, NpsFigure, analytics_server::Analytics,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::consistency::Consistency;
use crate::filter::parse_filter;
use crate::{AnalyticsError, nps_query};

pub struct AnalyticsService {
    pool: PgPool,
    consistency: Consistency,
    min_group_size: u32,
}

impl AnalyticsService {
    pub fn new(pool: PgPool, consistency: Consistency, min_group_size: u32) -> Self {
        Self {
            pool,
            consistency,
            min_group_size,
        }
    }

    async fn get_nps(
        &self,
        request: &GetNpsRequest,
        deadline: Option<Duration>,
    ) -> Result<GetNpsResponse, AnalyticsError> {
        let survey_id = SurveyId::parse("survey_id", &request.survey_id);
        let filter = parse_filter(request.filter.as_ref());
        let (survey_id, filter) = match (survey_id, filter) {
            (Ok(s), Ok(f)) => (s, f),
            (s, f) => {
                let mut v = kaiku_domain::Violations::new();
                if let Err(e) = s {
                    v.extend(e);
                }
                if let Err(e) = f {
                    v.extend(e);
                }
                return Err(v.into());
            }
        };
        let as_of_sequence = self
            .consistency
            .wait_for(request.min_sequence, deadline)
            .await?;
        let question_key =
            nps_query::resolve_question(&self.pool, survey_id.as_uuid(), &request.question_key)
                .await?;
        let counts =
            nps_query::nps_counts(&self.pool, survey_id.as_uuid(), &question_key, &filter).await?;
        let suppressed = is_suppressed(counts.n(), self.min_group_size);
        let figure = (!suppressed).then(|| NpsFigure {
            n: counts.n(),
            promoters: counts.promoters,
            passives: counts.passives,
            detractors: counts.detractors,
            nps: counts.score(),
        });
        Ok(GetNpsResponse {
            figure,
            suppressed,
            min_group_size: self.min_group_size,
            as_of_sequence,
        })
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

#[tonic::async_trait]
impl Analytics for AnalyticsService {
    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id, min_sequence = request.get_ref().min_sequence))]
    async fn get_nps(
        &self,
        request: Request<GetNpsRequest>,
    ) -> Result<Response<GetNpsResponse>, Status> {
        let deadline = deadline_of(&request);
        Ok(Response::new(
            self.get_nps(request.get_ref(), deadline).await?,
        ))
    }
}
