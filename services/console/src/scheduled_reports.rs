//! Reports on a schedule: once a collection period has ended, every unit the survey covers gets
//! its report (PDF and CSV) written to KAIKU_CONSOLE_REPORT_DIR as
//! `<survey id>/<period id>/<unit id>.pdf|.csv`, and the console lists them for the staff who
//! may see the unit. The writer reads analytics with a county-wide service token of its own
//! (subject `console-reports`); suppression applies as everywhere. A report is written once
//! (atomically: a temporary file renamed into place); a failed one is retried next round.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use kaiku_grpc::Shutdown;
use kaiku_proto::survey::v1::SurveyStatus;

use crate::error::ConsoleError;
use crate::figures::{self, Selection, current_content, periods, text_in};
use crate::report::{self, ReportSubject};
use crate::roles::StaffRole;
use crate::session::Staff;
use crate::texts::Texts;
use crate::web::AppState;

#[derive(Clone)]
pub struct ReportSchedule {
    pub dir: PathBuf,
    pub interval: Duration,
    pub texts: &'static Texts,
}

/// Who the scheduled reports read as: `units` (empty = every unit), reading only. Each unit's
/// report is read as a reader of that unit alone, so it holds nothing its readers could not
/// see themselves (no parent unit's figure, from which a sibling's could be derived).
fn report_writer(units: Vec<String>) -> Staff {
    Staff {
        subject: "console-reports".into(),
        name: "Kaiku reports".into(),
        role: StaffRole::UnitManager,
        units,
    }
}

/// Rounds until shutdown: one at start, then every `interval`.
pub async fn run(state: Arc<AppState>, schedule: ReportSchedule, shutdown: Shutdown) {
    loop {
        match round(&state, &schedule).await {
            Ok(0) => {}
            Ok(written) => {
                tracing::info!(written, dir = %schedule.dir.display(), "scheduled reports written")
            }
            Err(e) => {
                tracing::warn!(error = %e, "scheduled reports: round failed, retrying next round")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(schedule.interval) => {}
            () = shutdown.wait() => return,
        }
    }
}

/// The file of one report, without its extension.
pub fn report_path(dir: &Path, survey_id: &str, period_id: &str, unit_id: &str) -> PathBuf {
    dir.join(survey_id).join(period_id).join(unit_id)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConsoleError> {
    let fail =
        |e: std::io::Error| ConsoleError::Config(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)
}

/// Writes every report that is due and missing; returns how many. A report that fails is
/// logged and retried next round; the others go on.
pub async fn round(state: &AppState, schedule: &ReportSchedule) -> Result<usize, ConsoleError> {
    let t = schedule.texts;
    let everyone = report_writer(Vec::new());
    let mut clients = state.backend.clients(&everyone)?;
    let today = figures::today();
    let surveys = figures::surveys(&mut clients).await?;
    let units = figures::visible_units(&mut clients, &everyone, t.language_enum).await?;
    let mut written = 0;
    for summary in surveys
        .iter()
        .filter(|s| s.status == SurveyStatus::Published as i32)
    {
        let survey = figures::survey(&mut clients, &summary.survey_id).await?;
        let content = current_content(&survey);
        let covered = crate::survey_routes::covered_units(&units, &content);
        let ended = periods(&content).into_iter().filter(|p| {
            p.ends_on
                .as_ref()
                .is_some_and(|d| (d.year, d.month, d.day) < today)
        });
        for period in ended {
            for unit in &covered {
                let base = report_path(
                    &schedule.dir,
                    &summary.survey_id,
                    &period.period_id,
                    &unit.unit.unit_id,
                );
                if base.with_extension("pdf").exists() {
                    continue;
                }
                let selection = Selection {
                    survey_id: summary.survey_id.clone(),
                    unit_id: unit.unit.unit_id.clone(),
                    period: Some(period.period_id.clone()),
                    roles: figures::survey_roles(&content),
                    ..Selection::default()
                };
                match write_report(state, t, &selection, &content, &base).await {
                    Ok(()) => written += 1,
                    Err(e) => tracing::warn!(
                        error = %e,
                        survey_id = %selection.survey_id,
                        period_id = %period.period_id,
                        unit_id = %selection.unit_id,
                        "scheduled report not written; retrying next round"
                    ),
                }
            }
        }
    }
    Ok(written)
}

/// One unit's report, read as a reader of that unit only.
async fn write_report(
    state: &AppState,
    t: &'static Texts,
    selection: &Selection,
    content: &kaiku_proto::survey::v1::SurveyContent,
    base: &Path,
) -> Result<(), ConsoleError> {
    let reader = report_writer(vec![selection.unit_id.clone()]);
    let mut clients = state.backend.clients(&reader)?;
    let units = figures::visible_units(&mut clients, &reader, t.language_enum).await?;
    let unit_name = units
        .iter()
        .find(|u| u.unit.unit_id == selection.unit_id)
        .map_or_else(|| selection.unit_id.clone(), |u| u.name.clone());
    let results =
        figures::results(&mut clients, selection, content, &units, t.language_enum).await?;
    let survey_title = text_in(&content.titles, t.language_enum);
    let period_label = figures::period_label(t, content, &selection.period);
    let generated = kaiku_domain::time::helsinki_date(Utc::now())
        .format("%Y-%m-%d")
        .to_string();
    let subject = ReportSubject {
        survey_title: &survey_title,
        unit_name: &unit_name,
        period_label: &period_label,
        ages: t.all_ages,
        generated: &generated,
    };
    // The CSV first: the PDF's presence marks the report as done.
    write_atomically(
        &base.with_extension("csv"),
        report::csv(&subject, &results).as_bytes(),
    )?;
    write_atomically(
        &base.with_extension("pdf"),
        &report::pdf(t, &subject, &results)?,
    )
}
