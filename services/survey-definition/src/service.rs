use chrono::Utc;
use kaiku_domain::SurveyId;
use kaiku_domain::catalogue::Lookup;
use kaiku_domain::form::{respondent_form, text_in};
use kaiku_domain::review::{ReviewCommand, ReviewState};
use kaiku_domain::submission::resolve_form;
use kaiku_domain::survey::{SurveyCommand, SurveyError, SurveyState, decide, envelope};
use kaiku_domain::unit::{UnitCommand, UnitError, UnitState, check_targets};
use kaiku_proto::survey::v1::{
    CloseUnitRequest, CreateSurveyRequest, CreateSurveyResponse, CreateUnitRequest,
    DevelopmentTarget, DevelopmentTargetResponse, FollowUpDevelopmentTargetRequest, GetFormRequest,
    GetFormResponse, GetSurveyRequest, GetSurveyResponse, ListDevelopmentTargetsRequest,
    ListDevelopmentTargetsResponse, ListSurveysRequest, ListSurveysResponse, ListTemplatesRequest,
    ListTemplatesResponse, ListUnitsRequest, ListUnitsResponse, MoveUnitRequest,
    PublishVersionRequest, PublishVersionResponse, RecordDevelopmentTargetRequest,
    RenameUnitRequest, SurveyStatus, SurveySummary, SurveyTemplate, UnitResponse,
    UpdateDraftRequest, UpdateDraftResponse, survey_definition_server::SurveyDefinition,
};
use tonic::{Request, Response, Status};

use crate::{ReviewRepository, ServiceError, SurveyRepository, UnitRepository};

pub struct SurveyDefinitionService {
    repository: SurveyRepository,
    units: UnitRepository,
    reviews: ReviewRepository,
}

impl SurveyDefinitionService {
    pub fn new(
        repository: SurveyRepository,
        units: UnitRepository,
        reviews: ReviewRepository,
    ) -> Self {
        Self {
            repository,
            units,
            reviews,
        }
    }

    /// The caller of a review method, once it is known that they may read `unit_id`: the unit
    /// must exist and lie in a subtree of their grant. Returns their subject.
    async fn review_caller<T>(
        &self,
        request: &Request<T>,
        unit_id: &str,
    ) -> Result<String, ServiceError> {
        let caller = caller(request)?;
        let tree = self.units.load_tree().await?;
        if tree.get(unit_id).is_none() {
            return Err(UnitError::NotFound(unit_id.to_owned()).into());
        }
        caller.may_read_unit(unit_id, &tree.lineage(unit_id))?;
        Ok(caller.subject.clone())
    }

    /// Unit changes stay inside the caller's grant: each of `units` (the unit changed, a new
    /// parent) must lie in a granted subtree; "" (a new county) needs a county-wide grant. A
    /// unit that does not exist is left to the command, which names it.
    async fn check_unit_grant<T>(
        &self,
        request: &Request<T>,
        units: &[&str],
    ) -> Result<(), ServiceError> {
        let caller = caller(request)?;
        if caller.reads_everything() {
            return Ok(());
        }
        let tree = self.units.load_tree().await?;
        for unit in units {
            if unit.is_empty() {
                return Err(kaiku_auth::Denied::Unit("a new county".into()).into());
            }
            if tree.get(unit).is_some() {
                caller.may_read_unit(unit, &tree.lineage(unit))?;
            }
        }
        Ok(())
    }

    /// A review command by the request's caller, once they may read the unit.
    async fn execute_review<T>(
        &self,
        request: &Request<T>,
        unit_id: &str,
        command: ReviewCommand,
    ) -> Result<ReviewState, ServiceError> {
        let recorded_by = self.review_caller(request, unit_id).await?;
        self.reviews.execute(unit_id, &recorded_by, command).await
    }

    /// Load, decide, append: the one path every command takes.
    async fn execute(
        &self,
        id: SurveyId,
        command: SurveyCommand,
    ) -> Result<SurveyState, ServiceError> {
        let state = self.repository.load(id).await?;
        let kinds = decide(id, state.as_ref(), command)?;
        let revision = state.as_ref().map_or(0, |s| s.revision);
        let now = Utc::now();
        let events = kinds
            .into_iter()
            .map(|kind| envelope(id, kind, now))
            .collect();
        let state = self.repository.append(id, state, revision, events).await?;
        state.ok_or(ServiceError::Survey(SurveyError::NotFound(id)))
    }
}

/// The caller the auth layer put on the request.
fn caller<T>(request: &Request<T>) -> Result<&kaiku_auth::Principal, ServiceError> {
    kaiku_auth::principal(request).ok_or_else(|| {
        ServiceError::Startup("the auth layer let a call through without a caller".into())
    })
}

fn parse_id(value: &str) -> Result<SurveyId, ServiceError> {
    SurveyId::parse("survey_id", value).map_err(ServiceError::InvalidRequest)
}

#[tonic::async_trait]
impl SurveyDefinition for SurveyDefinitionService {
    #[tracing::instrument(skip_all, fields(survey_id))]
    async fn create_survey(
        &self,
        request: Request<CreateSurveyRequest>,
    ) -> Result<Response<CreateSurveyResponse>, Status> {
        let request = request.into_inner();
        let id = if request.survey_id.is_empty() {
            SurveyId::new_random()
        } else {
            parse_id(&request.survey_id)?
        };
        tracing::Span::current().record("survey_id", tracing::field::display(id));
        let draft = request.draft.unwrap_or_default();
        let state = self.execute(id, SurveyCommand::Create { draft }).await?;
        Ok(Response::new(CreateSurveyResponse {
            survey: Some(state.to_proto()),
        }))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn update_draft(
        &self,
        request: Request<UpdateDraftRequest>,
    ) -> Result<Response<UpdateDraftResponse>, Status> {
        let request = request.into_inner();
        let id = parse_id(&request.survey_id)?;
        let command = SurveyCommand::UpdateDraft {
            expected_revision: request.expected_revision,
            draft: request.draft.unwrap_or_default(),
        };
        let state = self.execute(id, command).await?;
        Ok(Response::new(UpdateDraftResponse {
            survey: Some(state.to_proto()),
        }))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn publish_version(
        &self,
        request: Request<PublishVersionRequest>,
    ) -> Result<Response<PublishVersionResponse>, Status> {
        let request = request.into_inner();
        let id = parse_id(&request.survey_id)?;
        // The survey aggregate checks its own content; whether its target units exist is a
        // fact of the unit tree, checked here before the version is frozen.
        if let Some(state) = self.repository.load(id).await? {
            let tree = self.units.load_tree().await?;
            check_targets("draft", &state.draft, &tree).map_err(ServiceError::InvalidRequest)?;
        }
        let command = SurveyCommand::PublishVersion {
            expected_revision: request.expected_revision,
        };
        let state = self.execute(id, command).await?;
        let version = state.latest_version();
        tracing::info!(version, "survey version published");
        Ok(Response::new(PublishVersionResponse {
            survey: Some(state.to_proto()),
            version,
        }))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn get_survey(
        &self,
        request: Request<GetSurveyRequest>,
    ) -> Result<Response<GetSurveyResponse>, Status> {
        let id = parse_id(&request.get_ref().survey_id)?;
        let state = self
            .repository
            .load(id)
            .await?
            .ok_or(ServiceError::Survey(SurveyError::NotFound(id)))?;
        Ok(Response::new(GetSurveyResponse {
            survey: Some(state.to_proto()),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_surveys(
        &self,
        request: Request<ListSurveysRequest>,
    ) -> Result<Response<ListSurveysResponse>, Status> {
        let include_archived = request.get_ref().include_archived;
        let surveys = self
            .repository
            .load_all()
            .await?
            .into_iter()
            .filter(|s| include_archived || s.status() != SurveyStatus::Archived)
            .map(|s| SurveySummary {
                survey_id: s.id.to_string(),
                status: s.status() as i32,
                titles: s.draft.titles.clone(),
                latest_version: s.latest_version(),
                revision: s.revision,
            })
            .collect();
        Ok(Response::new(ListSurveysResponse { surveys }))
    }

    #[tracing::instrument(skip_all, fields(survey_id = %request.get_ref().survey_id))]
    async fn get_form(
        &self,
        request: Request<GetFormRequest>,
    ) -> Result<Response<GetFormResponse>, Status> {
        let request = request.into_inner();
        let id = parse_id(&request.survey_id)?;
        let lookup = match self.repository.load(id).await? {
            Some(state) => state.published_form(request.survey_version),
            None => Lookup::UnknownSurvey,
        };
        let form = resolve_form(id, request.survey_version, lookup).map_err(ServiceError::from)?;
        let tree = self.units.load_tree().await?;
        let form = form.with_covered_units(&tree);
        let context = request.context.unwrap_or_default();
        let mut resolved =
            respondent_form(&form, &context, Utc::now()).map_err(ServiceError::InvalidRequest)?;
        if let Some(unit) = tree.get(&context.unit_id) {
            resolved.unit_name = text_in(&unit.names, context.language);
        }
        Ok(Response::new(resolved))
    }

    #[tracing::instrument(skip_all)]
    async fn list_templates(
        &self,
        _request: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let templates = kaiku_templates::TEMPLATES
            .iter()
            .map(|template| {
                // Templates are compiled in and tested; a broken one is a build defect.
                let content = template.content().map_err(|e| {
                    ServiceError::Startup(format!("built-in template {}: {e}", template.key))
                })?;
                Ok(SurveyTemplate {
                    key: template.key.to_owned(),
                    description: template.description.to_owned(),
                    content: Some(content),
                })
            })
            .collect::<Result<_, ServiceError>>()?;
        Ok(Response::new(ListTemplatesResponse { templates }))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn create_unit(
        &self,
        request: Request<CreateUnitRequest>,
    ) -> Result<Response<UnitResponse>, Status> {
        self.check_unit_grant(&request, &[&request.get_ref().parent_unit_id])
            .await?;
        let request = request.into_inner();
        let command = UnitCommand::Create {
            parent_unit_id: request.parent_unit_id,
            level: request.level,
            names: request.names,
        };
        let unit = self.units.execute(&request.unit_id, command).await?;
        Ok(Response::new(unit_response(&unit)))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn rename_unit(
        &self,
        request: Request<RenameUnitRequest>,
    ) -> Result<Response<UnitResponse>, Status> {
        self.check_unit_grant(&request, &[&request.get_ref().unit_id])
            .await?;
        let request = request.into_inner();
        let command = UnitCommand::Rename {
            expected_revision: request.expected_revision,
            names: request.names,
        };
        let unit = self.units.execute(&request.unit_id, command).await?;
        Ok(Response::new(unit_response(&unit)))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn move_unit(
        &self,
        request: Request<MoveUnitRequest>,
    ) -> Result<Response<UnitResponse>, Status> {
        let r = request.get_ref();
        self.check_unit_grant(&request, &[&r.unit_id, &r.parent_unit_id])
            .await?;
        let request = request.into_inner();
        let command = UnitCommand::Move {
            expected_revision: request.expected_revision,
            parent_unit_id: request.parent_unit_id,
        };
        let unit = self.units.execute(&request.unit_id, command).await?;
        Ok(Response::new(unit_response(&unit)))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn close_unit(
        &self,
        request: Request<CloseUnitRequest>,
    ) -> Result<Response<UnitResponse>, Status> {
        self.check_unit_grant(&request, &[&request.get_ref().unit_id])
            .await?;
        let request = request.into_inner();
        let command = UnitCommand::Close {
            expected_revision: request.expected_revision,
        };
        let unit = self.units.execute(&request.unit_id, command).await?;
        Ok(Response::new(unit_response(&unit)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_units(
        &self,
        request: Request<ListUnitsRequest>,
    ) -> Result<Response<ListUnitsResponse>, Status> {
        let include_closed = request.get_ref().include_closed;
        let tree = self.units.load_tree().await?;
        // Parents before children: sort by depth, then id.
        let mut units: Vec<_> = tree
            .iter()
            .filter(|unit| include_closed || !unit.closed)
            .map(|unit| (tree.lineage(&unit.unit_id).len(), unit))
            .collect();
        units.sort_by(|(a_depth, a), (b_depth, b)| {
            a_depth.cmp(b_depth).then_with(|| a.unit_id.cmp(&b.unit_id))
        });
        Ok(Response::new(ListUnitsResponse {
            units: units
                .into_iter()
                .map(|(_, unit)| unit_response(unit))
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn record_development_target(
        &self,
        request: Request<RecordDevelopmentTargetRequest>,
    ) -> Result<Response<DevelopmentTargetResponse>, Status> {
        let r = request.get_ref();
        let command = ReviewCommand::RecordTarget {
            target_id: r.target_id.clone(),
            survey_id: r.survey_id.clone(),
            period_id: r.period_id.clone(),
            text: r.text.clone(),
        };
        let state = self.execute_review(&request, &r.unit_id, command).await?;
        tracing::info!("development target recorded");
        // An id the caller chose names the target; otherwise it is the one just added.
        target_response(&state, Some(&r.target_id).filter(|id| !id.is_empty()))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn follow_up_development_target(
        &self,
        request: Request<FollowUpDevelopmentTargetRequest>,
    ) -> Result<Response<DevelopmentTargetResponse>, Status> {
        let r = request.get_ref();
        let command = ReviewCommand::FollowUp {
            target_id: r.target_id.clone(),
            progress: r.progress,
            note: r.note.clone(),
            period_id: r.period_id.clone(),
        };
        let state = self.execute_review(&request, &r.unit_id, command).await?;
        target_response(&state, Some(&r.target_id))
    }

    #[tracing::instrument(skip_all, fields(unit_id = %request.get_ref().unit_id))]
    async fn list_development_targets(
        &self,
        request: Request<ListDevelopmentTargetsRequest>,
    ) -> Result<Response<ListDevelopmentTargetsResponse>, Status> {
        self.review_caller(&request, &request.get_ref().unit_id)
            .await?;
        let request = request.into_inner();
        let state = self.reviews.load(&request.unit_id).await?;
        let targets = state
            .targets()
            .filter(|t| request.survey_id.is_empty() || t.survey_id == request.survey_id)
            .cloned()
            .collect();
        Ok(Response::new(ListDevelopmentTargetsResponse { targets }))
    }
}

fn target_response(
    state: &ReviewState,
    target_id: Option<&String>,
) -> Result<Response<DevelopmentTargetResponse>, Status> {
    // The command's own target: the one named, or the one just recorded (the newest).
    let target: Option<DevelopmentTarget> = match target_id {
        Some(id) => state.target(id).cloned(),
        None => state.targets().last().cloned(),
    };
    Ok(Response::new(DevelopmentTargetResponse { target }))
}

fn unit_response(unit: &UnitState) -> UnitResponse {
    UnitResponse {
        unit: Some(unit.to_proto()),
        open: !unit.closed,
    }
}
